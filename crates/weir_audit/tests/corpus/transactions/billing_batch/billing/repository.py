"""Queries and unit-of-work helpers shared by the jobs and the API."""
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing.models import Invoice, InvoiceLine, Subscription, UsageRecord


def due_subscriptions(session: Session, day: date) -> list[Subscription]:
    stmt = select(Subscription).where(Subscription.status == "active", Subscription.renews_on <= day)
    return list(session.scalars(stmt))


def unbilled_usage(session: Session, subscription_id: int) -> list[UsageRecord]:
    stmt = select(UsageRecord).where(
        UsageRecord.subscription_id == subscription_id, UsageRecord.billed.is_(False)
    )
    return list(session.scalars(stmt))


def open_invoices(session: Session) -> list[Invoice]:
    return list(session.scalars(select(Invoice).where(Invoice.status == "open")))


def save_invoice(session: Session, invoice: Invoice) -> Invoice:
    session.add(invoice)
    session.commit()  # ok: TX-04 (the caller owns the session), TX-07
    return invoice


def mark_usage_billed(session: Session, subscription_id: int) -> None:
    session.execute(
        update(UsageRecord)
        .where(UsageRecord.subscription_id == subscription_id)
        .values(billed=True)
    )
    session.flush()


def add_line(invoice: Invoice, description: str, amount) -> InvoiceLine:
    line = InvoiceLine(description=description, amount=amount)
    invoice.lines.append(line)
    invoice.total += amount
    return line
