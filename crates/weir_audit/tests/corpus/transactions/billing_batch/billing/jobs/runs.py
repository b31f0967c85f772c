"""A billing run with progress shown on the operations dashboard."""
from datetime import date, timedelta

from sqlalchemy import update

from billing.db import SessionLocal
from billing.models import BillingRun, Invoice
from billing.repository import add_line, due_subscriptions

PROGRESS_EVERY = 50


def run_renewals(day: date) -> int:
    with SessionLocal() as session:
        subs = due_subscriptions(session, day)
        run = BillingRun(total=len(subs))
        session.add(run)
        session.flush()
        for sub in subs:
            invoice = Invoice(customer_id=sub.customer_id, subscription_id=sub.id, status="open")
            add_line(invoice, f"{sub.plan} plan", sub.monthly_price)
            session.add(invoice)
            sub.renews_on = sub.renews_on + timedelta(days=30)
            run.processed += 1  # expect: TX-01
        run.state = "done"
        session.commit()
        return run.id


def run_renewals_core(run_id: int, day: date) -> None:
    with SessionLocal() as session:
        for n, sub in enumerate(due_subscriptions(session, day), start=1):
            sub.renews_on = sub.renews_on + timedelta(days=30)
            session.execute(update(BillingRun).where(BillingRun.id == run_id).values(processed=n))  # expect: TX-01
        session.commit()


def run_renewals_reporting(day: date) -> int:
    with SessionLocal() as session:
        subs = due_subscriptions(session, day)
        run = BillingRun(total=len(subs))
        session.add(run)
        session.commit()
        for i, sub in enumerate(subs, start=1):
            sub.renews_on = sub.renews_on + timedelta(days=30)
            run.processed = i  # ok: TX-01
            if i % PROGRESS_EVERY == 0:
                session.commit()  # ok: TX-07
        run.state = "done"
        session.commit()
        return run.id


def void_drafts(invoice_ids: list[int]) -> None:
    with SessionLocal() as session:
        for invoice in session.query(Invoice).filter(Invoice.id.in_(invoice_ids)):
            invoice.status = "void"  # ok: TX-01 (no trigger on invoices)
        session.commit()
