"""Background jobs run by the arq worker."""
import logging
from datetime import datetime, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import repositories
from app.db import SessionLocal
from app.models import Customer, Product

log = logging.getLogger("shop.workers")
CRM_URL = "https://crm.internal/api/contacts"


async def record_crm_sync(session: AsyncSession, customer_id: int) -> None:
    customer = await session.get(Customer, customer_id)  # ok: QE-01
    if customer is not None:
        customer.crm_synced_at = datetime.now(timezone.utc)


async def sync_customer(ctx: dict, customer_id: int) -> None:
    async with SessionLocal() as session:
        customer = await session.get(Customer, customer_id)  # ok: QE-01
        if customer is None:
            return
        payload = {"email": customer.email, "first_name": customer.first_name, "last_name": customer.last_name}
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.put(f"{CRM_URL}/{customer.id}", json=payload)
            response.raise_for_status()
        await record_crm_sync(session, customer.id)  # expect: QE-01
        await session.commit()


async def low_stock_report(ctx: dict, threshold: int = 5) -> list[dict]:
    async with SessionLocal() as session:
        product_ids = (await session.scalars(select(Product.id).where(Product.is_active.is_(True)))).all()  # ok: QE-09
        low = []
        for product_id in product_ids:
            available = await repositories.stock_level(session, product_id)  # expect: QE-07
            if available < threshold:
                low.append({"product_id": product_id, "available": available})
        return low


async def low_stock_report_batched(ctx: dict, threshold: int = 5) -> list[dict]:
    async with SessionLocal() as session:
        product_ids = (await session.scalars(select(Product.id).where(Product.is_active.is_(True)))).all()  # ok: QE-09
        levels = await repositories.stock_levels(session, list(product_ids))  # ok: QE-07
        return [{"product_id": pid, "available": n} for pid, n in levels.items() if n < threshold]  # ok: QE-07
