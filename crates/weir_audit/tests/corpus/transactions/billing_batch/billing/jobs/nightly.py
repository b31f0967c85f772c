"""The nightly billing run: renewals, usage invoices, charges, dunning."""
import logging
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from billing import gateway
from billing.db import SessionLocal
from billing.models import Customer, Invoice, LedgerEntry, Subscription
from billing.repository import (
    add_line,
    due_subscriptions,
    mark_usage_billed,
    open_invoices,
    save_invoice,
    unbilled_usage,
)

log = logging.getLogger(__name__)

LATE_FEE = Decimal("5.00")
BATCH_SIZE = 500


def renew_subscriptions(day: date) -> int:
    renewed = 0
    with SessionLocal() as session:
        for sub in due_subscriptions(session, day):
            invoice = Invoice(customer_id=sub.customer_id, subscription_id=sub.id, status="open")
            add_line(invoice, f"{sub.plan} plan", sub.monthly_price)
            session.add(invoice)
            sub.renews_on = sub.renews_on + timedelta(days=30)
            session.commit()  # expect: TX-07 ok: TX-04
            renewed += 1
    return renewed


def renew_subscriptions_batched(day: date) -> int:
    with SessionLocal() as session:
        subs = due_subscriptions(session, day)
        for i, sub in enumerate(subs, start=1):
            invoice = Invoice(customer_id=sub.customer_id, subscription_id=sub.id, status="open")
            add_line(invoice, f"{sub.plan} plan", sub.monthly_price)
            session.add(invoice)
            sub.renews_on = sub.renews_on + timedelta(days=30)
            if i % BATCH_SIZE == 0:
                session.commit()  # ok: TX-07, TX-04
        session.commit()  # ok: TX-07, TX-04
        return len(subs)


def invoice_usage(day: date) -> None:
    with SessionLocal() as session:
        for sub in due_subscriptions(session, day):
            records = unbilled_usage(session, sub.id)
            if not records:
                continue
            invoice = Invoice(customer_id=sub.customer_id, subscription_id=sub.id, status="open")
            add_line(invoice, "metered usage", Decimal(sum(r.units for r in records)) / 100)
            save_invoice(session, invoice)  # expect: TX-07
            mark_usage_billed(session, sub.id)


def invoice_usage_once(day: date) -> None:
    with SessionLocal() as session, session.begin():
        for sub in due_subscriptions(session, day):
            invoice = Invoice(customer_id=sub.customer_id, subscription_id=sub.id, status="open")
            add_line(invoice, "metered usage", Decimal(len(unbilled_usage(session, sub.id))))
            session.add(invoice)


def escalate_dunning(customer_ids: list[int]) -> None:
    with SessionLocal() as session:
        for customer in session.scalars(select(Customer).where(Customer.id.in_(customer_ids))):
            customer.dunning_level += 1
            session.flush()  # expect: TX-07
        session.commit()  # ok: TX-04, TX-07


def apply_late_fees(invoice_ids: list[int]) -> None:
    for invoice_id in invoice_ids:
        with SessionLocal() as session, session.begin():
            invoice = session.get(Invoice, invoice_id)
            add_line(invoice, "late fee", LATE_FEE)
            session.add(LedgerEntry(invoice_id=invoice.id, kind="fee", amount=LATE_FEE))


def reconcile_ledger(day: date) -> None:
    session = SessionLocal()
    since = datetime.combine(day, datetime.min.time())
    for invoice in session.scalars(select(Invoice).where(Invoice.issued_at >= since)):
        paid = sum(e.amount for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id, LedgerEntry.kind == "payment")
        ))
        if paid >= invoice.total:
            invoice.status = "paid"
    session.commit()  # expect: TX-04
    session.close()


def reconcile_ledger_safely(day: date) -> None:
    session = SessionLocal()
    try:
        for invoice in open_invoices(session):
            if invoice.total == 0:
                invoice.status = "void"
        session.commit()  # ok: TX-04
    except SQLAlchemyError:
        session.rollback()
        raise
    finally:
        session.close()


def retry_failed_charges(invoice_ids: list[int]) -> None:
    with SessionLocal() as session:
        for invoice_id in invoice_ids:
            invoice = session.get(Invoice, invoice_id)
            invoice.status = "retrying"
            try:
                session.commit()  # expect: TX-04, TX-07
            except SQLAlchemyError:
                log.exception("could not mark invoice %s for retry", invoice_id)
                continue


def charge_open_invoices() -> None:
    with SessionLocal() as session:
        invoices = open_invoices(session)
        for invoice in invoices:
            customer = session.get(Customer, invoice.customer_id)
            invoice.charge_id = gateway.charge(customer.payment_token, invoice.total, f"inv-{invoice.id}")  # expect: TX-02
            invoice.status = "paid"
        session.commit()  # ok: TX-07


def charge_open_invoices_outside() -> None:
    with SessionLocal() as session:
        pending = [(i.id, i.total, session.get(Customer, i.customer_id).payment_token) for i in open_invoices(session)]
        session.commit()
    charges = {invoice_id: gateway.charge(token, total, f"inv-{invoice_id}") for invoice_id, total, token in pending}  # ok: TX-02
    with SessionLocal.begin() as session:
        for invoice_id, charge_id in charges.items():
            invoice = session.get(Invoice, invoice_id)
            invoice.charge_id = charge_id
            invoice.status = "paid"


def send_receipts(invoice_ids: list[int]) -> None:
    with SessionLocal() as session:
        rows = session.execute(
            select(Invoice.id, Customer.email).join(Customer).where(Invoice.id.in_(invoice_ids))
        ).all()
        for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))):
            invoice.issued_at = datetime.utcnow()
        session.commit()
    for invoice_id, email in rows:
        gateway.send_receipt(email, invoice_id)  # ok: TX-02


def lock_billing_run(day: date) -> None:
    with SessionLocal() as session:
        while not session.execute(text("SELECT pg_try_advisory_xact_lock(4242)")).scalar():
            log.info("another billing run holds the lock, waiting")
            time.sleep(5)  # expect: TX-05
        renew_subscriptions(day)
        session.commit()


def pause_subscriptions(subscription_ids: list[int]) -> None:
    with SessionLocal.begin() as session:
        for sub in session.scalars(select(Subscription).where(Subscription.id.in_(subscription_ids))):
            sub.status = "paused"
            log.info("paused %s", sub.id)
            time.sleep(0.2)  # expect: TX-05


def pause_subscriptions_in_batches(subscription_ids: list[int]) -> None:
    for start in range(0, len(subscription_ids), BATCH_SIZE):
        chunk = subscription_ids[start : start + BATCH_SIZE]
        with SessionLocal.begin() as session:
            for sub in session.scalars(select(Subscription).where(Subscription.id.in_(chunk))):
                sub.status = "paused"
        time.sleep(1)  # ok: TX-05
