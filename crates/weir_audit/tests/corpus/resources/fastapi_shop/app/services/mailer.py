"""Receipts, sent after the response."""
import httpx
from sqlalchemy.orm import Session

from app.db import SessionLocal
from app.models import Order


def send_receipt(db: Session, order_id: int) -> None:
    order = db.get(Order, order_id)
    httpx.post("https://mail.internal/send", json={"to": order.email, "total": order.total})


def send_receipt_for(order_id: int) -> None:
    with SessionLocal() as session:  # ok: RL-03, RL-05
        order = session.get(Order, order_id)
        email, total = order.email, order.total
    httpx.post("https://mail.internal/send", json={"to": email, "total": total})


def _close_quietly(session: Session) -> None:
    try:
        session.close()
    except Exception:
        pass


def mark_sent(order_id: int) -> None:
    session = SessionLocal()  # ok: RL-03, RL-05
    try:
        session.get(Order, order_id).receipt_sent = True
        session.commit()
    finally:
        _close_quietly(session)
