"""Supplier feed import (async, run from the management command and the admin)."""
import asyncio
import logging

import httpx
from asgiref.sync import sync_to_async
from bs4 import BeautifulSoup

from shop.models import Product, Supplier

log = logging.getLogger("feeds")


async def fetch_feed(client: httpx.AsyncClient, supplier: Supplier) -> str:
    resp = await client.get(supplier.feed_url)
    resp.raise_for_status()
    return resp.text


def parse_feed(html: str) -> list[dict]:
    soup = BeautifulSoup(html, "html.parser")
    return [
        {"sku": row["data-sku"], "name": row.get_text(strip=True), "price": row["data-price"]}
        for row in soup.select("tr[data-sku]")
    ]


def _save_rows(supplier: Supplier, rows: list[dict]) -> None:
    for row in rows:
        Product.objects.update_or_create(sku=row["sku"], defaults={"name": row["name"], "price": row["price"], "supplier": supplier})


async def import_supplier(client: httpx.AsyncClient, supplier: Supplier) -> int:
    html = await fetch_feed(client, supplier)
    rows = parse_feed(html)  # expect: RT-05
    for row in rows:
        defaults = {"name": row["name"], "price": row["price"], "supplier": supplier}
        await Product.objects.aupdate_or_create(sku=row["sku"], defaults=defaults)  # ok: RT-07
    return len(rows)


async def import_supplier_offloaded(client: httpx.AsyncClient, supplier: Supplier) -> int:
    html = await fetch_feed(client, supplier)
    rows = await asyncio.to_thread(parse_feed, html)  # ok: RT-05
    await sync_to_async(_save_rows)(supplier, rows)  # ok: RT-01
    return len(rows)


async def sync_all() -> dict[str, int]:
    suppliers = [s async for s in Supplier.objects.filter(active=True)]
    async with httpx.AsyncClient(timeout=20) as client:
        counts = await asyncio.gather(*(import_supplier_offloaded(client, s) for s in suppliers))  # ok: RT-07
    return {supplier.name: count for supplier, count in zip(suppliers, counts)}


async def sync_all_sequential() -> dict[str, int]:
    suppliers = [s async for s in Supplier.objects.filter(active=True)]
    counts = {}
    async with httpx.AsyncClient(timeout=20) as client:
        for supplier in suppliers:
            counts[supplier.name] = await import_supplier(client, supplier)  # expect: RT-07
    return counts


async def check_feeds(suppliers: list[Supplier]) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=5) as client:
        return {s.name: (await client.head(s.feed_url)).status_code for s in suppliers}  # expect: RT-07


async def first_reachable(suppliers: list[Supplier]) -> Supplier | None:
    async with httpx.AsyncClient(timeout=5) as client:
        for supplier in suppliers:
            resp = await client.head(supplier.feed_url)  # ok: RT-07
            if resp.is_success:
                return supplier
    return None
