terraform {
  required_version = ">= 1.6.0"

  cloud {
    organization = "harborview"
    hostname     = "app.terraform.io"
    token        = "mv1QzpCTeCgb3k.atlasv1.sB7CCZDrO72apasp5lIZgv4gTqIJXIlnU28AQqbCuP2ThQzTWQ6oaZfD5iuFhkPG04G"

    workspaces {
      name = "prod-core"
    }
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = "3.37.0"
    }
    alicloud = {
      source  = "aliyun/alicloud"
      version = "1.219.0"
    }
  }
}

# temporary creds from `aws sts get-session-token` -- expire 2024-05-17T02:10Z
provider "aws" {
  region     = "eu-central-1"
  access_key = "ASIA43M64WWQQSXDPWE5"
  secret_key = "UKZ/k4Br5ypK25fyNc4tmHr+ej3XmaZQqp3h8bGk"
  token      = "IQoJb3JpZ2luX2VjEzzkzXywrX45T3+1kqm2DhCMZxVyuqTD4bttbuvLXhjgzatZx3YCZggwJO07yaSnsNWKOok3trb+4FauXpsU8qJwQ0ZPTTYVIRCVuxqM9EAspy65oEEFuUbyDG1TdVYkaGbWXsd9D/6Y993Cm6gjM0SCe1857rzO1V4z9belX9KXssd9QgGJVxx0gRMfEI3vXoePweqqA3ZCBnad4Me9bUHkMrXc6ZMPbsEm6z4fOAwCN7QtT3LUov+b9WSO5RZLi3B2TQhwC7605R8U3claDNn/zwM67enyslh45Jh3Bx9LE=="
}

provider "datadog" {
  api_key = var.datadog_api_key
  app_key = var.datadog_app_key
  api_url = "https://api.datadoghq.eu/"
}

provider "alicloud" {
  access_key = "LTAIV42K1B6jblIlefFPPlwi"
  secret_key = "eutGsBgAy3OpiefuC6u9s40E27Euqf"
  region     = "cn-hangzhou"
}

variable "datadog_api_key" {
  type      = string
  sensitive = true
}

variable "datadog_app_key" {
  type      = string
  sensitive = true
}

variable "db_password" {
  type      = string
  default   = "Tf-Rds-Master-9931"
  sensitive = true
}

resource "aws_db_instance" "core" {
  identifier              = "harborview-core"
  engine                  = "postgres"
  engine_version          = "15.5"
  instance_class          = "db.r6g.large"
  allocated_storage       = 200
  username                = "hvadmin"
  password                = var.db_password
  backup_retention_period = 14
  skip_final_snapshot     = false
}

resource "aws_security_group_rule" "office_vpn" {
  type              = "ingress"
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
  cidr_blocks       = ["198.51.100.0/24"]
  security_group_id = "sg-0c4a7e2d91f3b6a58"
  description       = "office VPN egress"
}

output "db_endpoint" {
  value = aws_db_instance.core.endpoint
}
