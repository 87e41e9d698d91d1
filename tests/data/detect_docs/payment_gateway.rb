# frozen_string_literal: true

require "shopify_api"
require "mailgun-ruby"

# Brightfern storefront <-> Shopify bridge. Loaded by config/initializers.
ShopifyAPI::Context.setup(
  api_key: ENV.fetch("SHOPIFY_API_KEY"),
  api_secret_key: "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",
  host: "https://shop.brightfern.co",
  scope: "read_orders,write_products,read_customers",
  is_embedded: false,
  api_version: "2024-01",
)

SHOPIFY_SESSION = ShopifyAPI::Auth::Session.new(
  shop: "brightfern.myshopify.com",
  access_token: "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",
)

MAILGUN = Mailgun::Client.new("key-8e361a706eb81fd2b44d60bafed86449", "api.eu.mailgun.net")

class RefundNotifier
  SUPPORT_PHONE = "+44 20 3808 4417"
  FROM = "Brightfern Support <support@brightfern.co>"

  def initialize(client: MAILGUN, domain: "mg.brightfern.co")
    @client = client
    @domain = domain
  end

  def notify(order)
    body = <<~TEXT
      Hi #{order.first_name},

      Your refund of £#{format('%.2f', order.total)} for order #{order.name} has been issued.
      It can take 5-10 working days to appear on your statement.

      Any questions, call us on #{SUPPORT_PHONE} (Mon-Fri 9:00-17:30) or just reply.
    TEXT
    @client.send_message(@domain,
                         from: FROM,
                         to: order.email,
                         subject: "Your Brightfern refund (#{order.name})",
                         text: body)
  end
end

if $PROGRAM_NAME == __FILE__
  Order = Struct.new(:first_name, :total, :name, :email)
  RefundNotifier.new.notify(Order.new("Eleanor", 48.5, "#BF1042", "eleanor.whitfield@btinternet.com"))
end
