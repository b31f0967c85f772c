"""Thin client for the payment provider and the mail relay."""
import os

import requests

PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "https://payments.internal")
MAILER_URL = os.environ.get("MAILER_URL", "https://mailer.internal")


def charge(token: str, amount, reference: str) -> str:
    response = requests.post(
        f"{PAYMENTS_URL}/v1/charges",
        json={"token": token, "amount": str(amount), "reference": reference},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id"]


def send_receipt(email: str, invoice_id: int) -> None:
    requests.post(f"{MAILER_URL}/send", json={"to": email, "template": "receipt", "invoice": invoice_id}, timeout=5)
