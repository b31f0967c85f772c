"""Flask endpoints used by the support console."""
import logging

import requests
from flask import Blueprint, abort, jsonify, request
from sqlalchemy.exc import IntegrityError

from billing import gateway
from billing.db import SessionLocal
from billing.models import Customer, Invoice, InvoiceLine
from billing.repository import add_line

log = logging.getLogger(__name__)

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

WEBHOOK_URL = "https://hooks.internal/billing"


@bp.post("/<int:invoice_id>/void")
def void_invoice(invoice_id: int):
    session = SessionLocal()
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    invoice.status = "void"
    requests.post(WEBHOOK_URL, json={"event": "invoice.voided", "id": invoice_id}, timeout=5)  # expect: TX-02
    session.commit()  # expect: TX-04
    session.close()
    return jsonify(id=invoice_id, status="void")


@bp.post("/<int:invoice_id>/refund")
def refund_invoice(invoice_id: int):
    with SessionLocal() as session, session.begin():
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            abort(404)
        invoice.status = "refunded"
    requests.post(WEBHOOK_URL, json={"event": "invoice.refunded", "id": invoice_id}, timeout=5)  # ok: TX-02
    return jsonify(id=invoice_id, status="refunded")


@bp.post("/<int:invoice_id>/pay")
def pay_invoice(invoice_id: int):
    token = request.json["payment_token"]
    with SessionLocal() as session:
        invoice = session.get(Invoice, invoice_id)
        amount = invoice.total
    charge_id = gateway.charge(token, amount, f"inv-{invoice_id}")  # ok: TX-02
    with SessionLocal.begin() as session:
        invoice = session.get(Invoice, invoice_id)
        invoice.charge_id = charge_id
        invoice.status = "paid"
    return jsonify(id=invoice_id, charge=charge_id)


@bp.post("/<int:invoice_id>/lines")
def add_lines(invoice_id: int):
    session = SessionLocal()
    invoice = session.get(Invoice, invoice_id)
    for item in request.json["lines"]:
        add_line(invoice, item["description"], item["amount"])
        session.commit()  # expect: TX-07, TX-04
    session.close()
    return jsonify(id=invoice_id, lines=len(invoice.lines))


@bp.post("/import")
def import_lines():
    session = SessionLocal()
    imported = 0
    try:
        for row in request.json["rows"]:
            session.add(InvoiceLine(invoice_id=row["invoice"], description=row["description"], amount=row["amount"]))
            imported += 1
        session.commit()  # ok: TX-04, TX-07
    except IntegrityError:
        session.rollback()
        return jsonify(error="unknown invoice"), 409
    finally:
        session.close()
    return jsonify(imported=imported)


@bp.post("/customers")
def create_customer():
    session = SessionLocal()
    customer = Customer(email=request.json["email"])
    session.add(customer)
    try:
        session.commit()  # ok: TX-04
    except IntegrityError:
        session.rollback()
        abort(409)
    finally:
        session.close()
    return jsonify(id=customer.id), 201


@bp.post("/customers/<int:customer_id>/email")
def change_email(customer_id: int):
    session = SessionLocal()
    customer = session.get(Customer, customer_id)
    customer.email = request.json["email"]
    session.commit()  # expect: TX-04
    session.close()
    gateway.send_receipt(customer.email, 0)  # ok: TX-02
    return jsonify(id=customer_id)
