"""Shipping, tracking and invoicing services."""
import asyncio
import logging
import time
from pathlib import Path

import httpx
import requests as rq

from app.db import Order
from app.documents import html_to_pdf, invoice_html

log = logging.getLogger(__name__)
SHIPPING_URL = "https://shipping.internal/api"
TRACKING_URL = "https://tracking.example.com/v1"


async def quote(carrier: str, order: Order) -> dict:
    async with httpx.AsyncClient(base_url=SHIPPING_URL, timeout=10) as client:
        body = {"weight": order.weight_grams, "country": order.country}
        resp = await client.post(f"/carriers/{carrier}/quote", json=body)
        resp.raise_for_status()
        return resp.json()


async def all_quotes(carriers: tuple[str, ...], order: Order) -> dict[str, dict]:
    results = await asyncio.gather(*(quote(carrier, order) for carrier in carriers))  # ok: RT-07
    return dict(zip(carriers, results))


async def cheapest_quote(carriers: tuple[str, ...], order: Order) -> dict:
    quotes = []
    for carrier in carriers:
        quotes.append(await quote(carrier, order))  # expect: RT-07
    return min(quotes, key=lambda q: q["price"])


async def first_available_carrier(carriers: tuple[str, ...], order: Order) -> str | None:
    for carrier in carriers:
        offer = await quote(carrier, order)  # ok: RT-07
        if offer.get("available"):
            return carrier
    return None


async def book_pickups(client: httpx.AsyncClient, orders: list[Order]) -> None:
    for order in orders:
        await client.post(f"{SHIPPING_URL}/pickups", json={"order": order.id})  # ok: RT-07
        await asyncio.sleep(1.0)


_last_tracking_call = 0.0
TRACKING_MIN_INTERVAL = 0.5


def _respect_rate_limit() -> None:
    global _last_tracking_call
    wait = _last_tracking_call + TRACKING_MIN_INTERVAL - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _last_tracking_call = time.monotonic()


def tracking_status(number: str) -> str:
    _respect_rate_limit()
    resp = rq.get(f"{TRACKING_URL}/shipments/{number}", timeout=5)
    resp.raise_for_status()
    return resp.json()["status"]


def write_invoice(order: Order, invoice_dir: str) -> Path:
    target = Path(invoice_dir) / f"invoice-{order.id}.pdf"
    html_to_pdf(invoice_html(order), target)
    log.info("invoice written to %s", target)
    return target
