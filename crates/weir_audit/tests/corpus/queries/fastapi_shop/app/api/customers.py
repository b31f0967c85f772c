"""Customer back-office endpoints."""
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from app.db import get_session
from app.models import Customer

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/newsletter")
async def newsletter_recipients(limit: int = 1000, offset: int = 0, session: AsyncSession = Depends(get_session)):
    stmt = (
        select(Customer)
        .where(Customer.marketing_opt_in.is_(True), Customer.is_blocked.is_(False))
        .order_by(Customer.id)
        .offset(offset)
        .limit(limit)
    )
    customers = (await session.scalars(stmt)).all()  # expect: QE-04 ok: QE-09
    return [{"email": c.email, "first_name": c.first_name} for c in customers]


@router.get("/newsletter/columns")
async def newsletter_recipients_columns(limit: int = 1000, offset: int = 0, session: AsyncSession = Depends(get_session)):
    stmt = (
        select(Customer.email, Customer.first_name)
        .where(Customer.marketing_opt_in.is_(True), Customer.is_blocked.is_(False))
        .order_by(Customer.id)
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()  # ok: QE-04, QE-09
    return [{"email": email, "first_name": first_name} for email, first_name in rows]


@router.get("/search")
async def search_customers(q: str, session: AsyncSession = Depends(get_session)):
    stmt = (
        select(Customer)
        .options(load_only(Customer.id, Customer.email, Customer.first_name, Customer.last_name))
        .where(Customer.email.ilike(f"%{q}%"))
        .order_by(Customer.email)
        .limit(25)
    )
    customers = (await session.scalars(stmt)).all()  # ok: QE-04, QE-09
    return [{"id": c.id, "email": c.email, "name": f"{c.first_name} {c.last_name}"} for c in customers]


@router.get("/blocked")
async def blocked_customers(session: AsyncSession = Depends(get_session)):
    customers = (await session.scalars(select(Customer).where(Customer.is_blocked.is_(True)).limit(200))).all()  # expect: QE-04 ok: QE-09
    return [c.email for c in customers]


@router.get("/export")
async def export_customers(limit: int = 500, offset: int = 0, session: AsyncSession = Depends(get_session)):
    params = {"limit": limit, "offset": offset}
    result = await session.execute(text("SELECT * FROM customers ORDER BY id LIMIT :limit OFFSET :offset"), params)  # expect: QE-04 ok: QE-09
    return [dict(row) for row in result.mappings()]


@router.get("/{customer_id}")
async def customer_profile(customer_id: int, session: AsyncSession = Depends(get_session)):
    customer = await session.get(Customer, customer_id)  # ok: QE-04, QE-09
    if customer is None:
        raise HTTPException(status_code=404, detail="customer not found")
    return {
        "id": customer.id,
        "email": customer.email,
        "name": f"{customer.first_name} {customer.last_name}",
        "company": customer.company,
        "city": customer.city,
        "country": customer.country,
        "loyalty_points": customer.loyalty_points,
    }
