import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shop.db import Session
from shop.models import Invoice


async def issue(number: str):
    async with Session() as session:
        invoice = Invoice(number=number, state="draft")
        session.add(invoice)
        await session.commit()
        return invoice.id  # expect: TX-08


async def issue_refreshed(number: str):
    async with Session() as session:
        invoice = Invoice(number=number, state="draft")
        session.add(invoice)
        await session.commit()
        await session.refresh(invoice)
        return invoice.id  # ok: TX-08


async def invoice_total(session: AsyncSession, invoice_id: int) -> int:
    invoice = await session.get(Invoice, invoice_id)
    return sum(item.amount for item in invoice.items)  # expect: TX-08


async def invoice_total_eager(session: AsyncSession, invoice_id: int) -> int:
    stmt = select(Invoice).options(selectinload(Invoice.items)).where(Invoice.id == invoice_id)
    invoice = (await session.scalars(stmt)).one()
    return sum(item.amount for item in invoice.items)  # ok: TX-08


async def totals(session: AsyncSession, first: int, second: int):
    return await asyncio.gather(invoice_total(session, first), invoice_total(session, second))  # expect: TX-08


async def total_own_session(invoice_id: int) -> int:
    async with Session() as session:
        return await invoice_total_eager(session, invoice_id)


async def totals_separate(first: int, second: int):
    return await asyncio.gather(total_own_session(first), total_own_session(second))  # ok: TX-08
