"""Month-end close: credit notes, revenue totals and the accounting export."""
import csv
import logging
import os
from collections import defaultdict
from datetime import date
from decimal import Decimal

import psycopg
import requests
from sqlalchemy import func, select

from billing.db import SessionLocal
from billing.models import Customer, Invoice, InvoiceLine, LedgerEntry, Subscription

log = logging.getLogger(__name__)

DSN = os.environ.get("BILLING_DSN", "postgresql://billing@db/billing")
ACCOUNTING_URL = os.environ.get("ACCOUNTING_URL", "https://accounting.internal/api")
EXPORT_DIR = os.environ.get("EXPORT_DIR", "/var/lib/billing/exports")


def close_month(month_start: date, month_end: date) -> dict:
    with SessionLocal.begin() as session:  # expect: TX-05
        invoices = list(session.scalars(
            select(Invoice).where(Invoice.issued_at >= month_start, Invoice.issued_at < month_end)
        ))
        revenue_by_plan: dict[str, Decimal] = defaultdict(Decimal)
        refunds_by_plan: dict[str, Decimal] = defaultdict(Decimal)
        fees = Decimal(0)
        credit_notes = []
        for invoice in invoices:
            sub = session.get(Subscription, invoice.subscription_id) if invoice.subscription_id else None
            plan = sub.plan if sub else "one-off"
            if invoice.status == "paid":
                revenue_by_plan[plan] += invoice.total
            elif invoice.status == "refunded":
                refunds_by_plan[plan] += invoice.total
            elif invoice.status == "void":
                continue
            for line in invoice.lines:
                if line.description == "late fee":
                    fees += line.amount
            if invoice.status == "disputed":
                credit = Invoice(
                    customer_id=invoice.customer_id,
                    subscription_id=invoice.subscription_id,
                    status="credit",
                    total=-invoice.total,
                )
                session.add(credit)
                credit_notes.append(credit)
                session.add(
                    LedgerEntry(invoice_id=invoice.id, kind="credit", amount=-invoice.total)
                )
        totals = {
            "revenue": sum(revenue_by_plan.values(), Decimal(0)),
            "refunds": sum(refunds_by_plan.values(), Decimal(0)),
            "fees": fees,
            "credit_notes": len(credit_notes),
        }
        churned = session.scalar(
            select(func.count(Subscription.id)).where(
                Subscription.status == "cancelled",
                Subscription.renews_on >= month_start,
                Subscription.renews_on < month_end,
            )
        )
        totals["churned"] = churned or 0
        active = session.scalar(
            select(func.count(Subscription.id)).where(Subscription.status == "active")
        )
        totals["active"] = active or 0
        if totals["active"]:
            totals["arpu"] = totals["revenue"] / totals["active"]
        else:
            totals["arpu"] = Decimal(0)
        for plan, amount in revenue_by_plan.items():
            log.info("revenue %s %s: %s", month_start, plan, amount)
        for plan, amount in refunds_by_plan.items():
            log.info("refunds %s %s: %s", month_start, plan, amount)
        log.info("fees %s: %s", month_start, fees)
        log.info("credit notes %s: %d", month_start, len(credit_notes))
        log.info("churned %s: %d", month_start, totals["churned"])
        return totals


def close_month_short(month_start: date, month_end: date) -> Decimal:
    with SessionLocal() as session:
        total = session.scalar(  # ok: TX-05
            select(func.sum(Invoice.total)).where(
                Invoice.status == "paid",
                Invoice.issued_at >= month_start,
                Invoice.issued_at < month_end,
            )
        )
        session.commit()
    return total or Decimal(0)


def export_ledger(month_start: date) -> str:
    conn = psycopg.connect(DSN)
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO ledger_exports (month, created_at) VALUES (%s, now()) RETURNING id",
        (month_start,),
    )
    export_id = cur.fetchone()[0]
    cur.execute("SELECT invoice_id, kind, amount FROM ledger_entries WHERE exported_at IS NULL")
    rows = cur.fetchall()
    path = os.path.join(EXPORT_DIR, f"ledger-{month_start:%Y-%m}.csv")
    with open(path, "w", newline="") as fh:  # expect: TX-02
        writer = csv.writer(fh)
        writer.writerows(rows)
    cur.execute("UPDATE ledger_entries SET exported_at = now(), export_id = %s WHERE exported_at IS NULL", (export_id,))
    conn.commit()  # expect: TX-04
    conn.close()
    return path


def export_ledger_safely(month_start: date) -> str:
    with psycopg.connect(DSN) as conn:
        rows = conn.execute("SELECT invoice_id, kind, amount FROM ledger_entries WHERE exported_at IS NULL").fetchall()
        conn.execute("UPDATE ledger_entries SET exported_at = now() WHERE exported_at IS NULL")
        conn.commit()  # ok: TX-04
    path = os.path.join(EXPORT_DIR, f"ledger-{month_start:%Y-%m}.csv")
    with open(path, "w", newline="") as fh:  # ok: TX-02
        csv.writer(fh).writerows(rows)
    return path


def push_totals(month_start: date) -> None:
    with SessionLocal() as session, session.begin():
        total = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == "payment"))
        session.add(LedgerEntry(invoice_id=0, kind="close", amount=total or 0))
        requests.post(f"{ACCOUNTING_URL}/months/{month_start:%Y-%m}", json={"total": str(total)}, timeout=10)  # expect: TX-02


def customers_without_invoices(month_start: date) -> list[str]:
    with SessionLocal() as session:
        stmt = select(Customer.email).where(~Customer.id.in_(select(Invoice.customer_id).where(Invoice.issued_at >= month_start)))
        return list(session.scalars(stmt))


def line_count(invoice_id: int) -> int:
    with SessionLocal() as session:
        return session.scalar(select(func.count(InvoiceLine.id)).where(InvoiceLine.invoice_id == invoice_id)) or 0
