"""Back-office catalogue maintenance."""
from decimal import Decimal

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Coupon, Product

router = APIRouter(prefix="/admin", tags=["admin"])


class ProductIn(BaseModel):
    sku: str
    name: str
    slug: str
    category_id: int
    price: Decimal


@router.post("/products/import")
async def import_products(rows: list[ProductIn], session: AsyncSession = Depends(get_session)):
    for row in rows:
        session.add(Product(sku=row.sku, name=row.name, slug=row.slug, category_id=row.category_id, price=row.price))  # expect: QE-05
    await session.commit()
    return {"imported": len(rows)}


@router.post("/products/import/bulk")
async def import_products_bulk(rows: list[ProductIn], session: AsyncSession = Depends(get_session)):
    products = [Product(sku=r.sku, name=r.name, slug=r.slug, category_id=r.category_id, price=r.price) for r in rows]
    session.add_all(products)  # ok: QE-05
    await session.commit()
    return {"imported": len(products)}


@router.post("/coupons/seasonal")
async def seed_seasonal_coupons(session: AsyncSession = Depends(get_session)):
    for code, percent in (("SPRING10", 10), ("SUMMER15", 15), ("AUTUMN10", 10)):
        session.add(Coupon(code=code, percent_off=percent, max_uses=1000))  # ok: QE-05
    await session.commit()
    return {"created": 3}


@router.post("/products/deactivate")
async def deactivate_products(product_ids: list[int], session: AsyncSession = Depends(get_session)):
    for product_id in product_ids:
        await session.execute(update(Product).where(Product.id == product_id).values(is_active=False))  # expect: QE-02
    await session.commit()
    return {"deactivated": len(product_ids)}


@router.post("/products/deactivate/bulk")
async def deactivate_products_bulk(product_ids: list[int], session: AsyncSession = Depends(get_session)):
    result = await session.execute(update(Product).where(Product.id.in_(product_ids)).values(is_active=False))  # ok: QE-02
    await session.commit()
    return {"deactivated": result.rowcount}


@router.post("/coupons/expire")
async def expire_coupons(codes: list[str], session: AsyncSession = Depends(get_session)):
    result = await session.execute(delete(Coupon).where(Coupon.code.in_(codes)))  # ok: QE-02
    await session.commit()
    return {"deleted": result.rowcount}
