"""Finance reports in raw SQL."""
import csv
from datetime import datetime
from typing import TextIO

from django.db import connection


def sales_since(since: datetime) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM store_order WHERE paid_at >= %s ORDER BY paid_at", [since])  # expect: QE-04
        return cursor.fetchall()


def revenue_by_day(since: datetime) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(  # ok: QE-04
            "SELECT date_trunc('day', paid_at) AS day, sum(total) FROM store_order WHERE paid_at >= %s GROUP BY 1 ORDER BY 1",
            [since],
        )
        return cursor.fetchall()


def export_customers(out: TextIO) -> int:
    writer = csv.writer(out)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM store_customer WHERE is_active ORDER BY id")  # expect: QE-04
        writer.writerow([col[0] for col in cursor.description])
        count = 0
        for row in cursor:
            writer.writerow(row)
            count += 1
    return count


def marketing_list(out: TextIO) -> int:
    writer = csv.writer(out)
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, first_name FROM store_customer WHERE marketing_opt_in AND is_active")  # ok: QE-04
        rows = cursor.fetchall()
    writer.writerows(rows)
    return len(rows)
