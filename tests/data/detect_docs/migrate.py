#!/usr/bin/env python3
"""One-off: copy legacy MySQL customers into the new Postgres schema.

Run from the bastion:  python migrate.py --batch 500
"""
import argparse
import getpass
import logging
import os

import psycopg2
import pymysql
import requests

log = logging.getLogger("migrate")

LEGACY = dict(host="legacy-db.fernhill.internal", user="migrator", passwd="Lg#mig-2291!x", db="shop")
NEW_DSN = "host=pg-main.fernhill.internal dbname=fernhill user=migrator password=Pm!7qW3zR9xL sslmode=require"

# geocoding for the address backfill
api_key: str = "AIzaxtbO1u8gIhHH0GDUqqrJNOmK-ZIGiX6YjqT"
CRM_AUTH = ("svc-migrate", "Crm_sync_5581")
headers = {"X-Api-Token": "hex_tok_b6f5cdcc633b2a1e9a602b1996e5d3cf", "Accept": "application/json"}
SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
admin_password = getpass.getpass("admin password: ") if os.isatty(0) else None
DEFAULT_PASSWORD = "password"  # for test fixtures only, never used in prod
secret = None


def copy_batch(src, dst, offset, size):
    with src.cursor() as cur:
        cur.execute("SELECT id, email, phone, created FROM customers ORDER BY id LIMIT %s OFFSET %s", (size, offset))
        rows = cur.fetchall()
    with dst.cursor() as cur:
        cur.executemany("INSERT INTO customer (legacy_id, email, phone, created_at) VALUES (%s, %s, %s, %s)", rows)
    dst.commit()
    return len(rows)


def notify(count):
    requests.post(
        "https://crm.fernhill.io/api/v1/jobs/notify",
        auth=CRM_AUTH,
        headers=headers,
        json={"job": "legacy-migrate", "rows": count, "owner": "rachel.kim@fernhill.io"},
        timeout=10,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--password", default=None, help="override the Postgres password")
    args = ap.parse_args()
    src = pymysql.connect(**LEGACY)
    dst = psycopg2.connect(NEW_DSN if not args.password else NEW_DSN.replace("Pm!7qW3zR9xL", args.password))
    total, off = 0, 0
    while n := copy_batch(src, dst, off, args.batch):
        total += n
        off += n
        log.info("copied %d rows (total %d)", n, total)
    notify(total)


if __name__ == "__main__":
    main()
