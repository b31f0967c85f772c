"""Catalogue endpoints."""
from decimal import Decimal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from app.db import get_session
from app.models import Category, Product, ProductReview
from app.repositories import stock_levels
from app.services import catalog

router = APIRouter(prefix="/catalog", tags=["catalog"])


class ProductRow(BaseModel):
    id: int
    name: str
    price: Decimal
    in_stock: int


@router.get("/categories")
async def list_categories(session: AsyncSession = Depends(get_session)):
    categories = (await session.scalars(select(Category).order_by(Category.name))).all()  # expect: QE-09 ok: QE-04
    return [{"slug": c.slug, "name": c.name} for c in categories]


@router.get("/categories/{slug}/products")
async def category_products(slug: str, session: AsyncSession = Depends(get_session)):
    category = await catalog.category_by_slug(session, slug)
    if category is None:
        raise HTTPException(status_code=404, detail="unknown category")
    stmt = select(Product).where(Product.category_id == category.id, Product.is_active.is_(True)).order_by(Product.name)
    products = (await session.scalars(stmt)).all()  # expect: QE-04, QE-09
    return [{"id": p.id, "name": p.name, "price": str(p.price)} for p in products]


@router.get("/products")
async def list_products(
    page: int = Query(1, ge=1),
    per_page: int = Query(24, ge=1, le=100),
    session: AsyncSession = Depends(get_session),
):
    stmt = (
        select(Product)
        .options(load_only(Product.id, Product.name, Product.price))
        .where(Product.is_active.is_(True))
        .order_by(Product.name)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    products = (await session.scalars(stmt)).all()  # ok: QE-04, QE-09
    levels = await stock_levels(session, [p.id for p in products])  # ok: QE-07
    return [ProductRow(id=p.id, name=p.name, price=p.price, in_stock=levels.get(p.id, 0)) for p in products]  # ok: QE-07


@router.get("/products/featured")
async def featured_products(session: AsyncSession = Depends(get_session)):
    product_ids = (await session.scalars(select(Product.id).where(Product.is_featured.is_(True)).limit(12))).all()  # ok: QE-04, QE-09
    cards = []
    for product_id in product_ids:
        cards.append(await catalog.product_card(session, product_id))  # expect: QE-07
    return cards


@router.get("/products/featured/compact")
async def featured_products_compact(session: AsyncSession = Depends(get_session)):
    stmt = select(Product.id, Product.name, Product.price).where(Product.is_featured.is_(True)).limit(12)
    rows = (await session.execute(stmt)).all()  # ok: QE-04, QE-09
    levels = await stock_levels(session, [r.id for r in rows])  # ok: QE-07
    return [ProductRow(id=r.id, name=r.name, price=r.price, in_stock=levels.get(r.id, 0)) for r in rows]  # ok: QE-07


@router.get("/products/{product_id}")
async def product_detail(product_id: int, session: AsyncSession = Depends(get_session)):
    product = await session.get(Product, product_id)  # ok: QE-04, QE-09
    if product is None or not product.is_active:
        raise HTTPException(status_code=404, detail="product not found")
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "compare_at_price": str(product.compare_at_price) if product.compare_at_price else None,
        "weight_grams": product.weight_grams,
        "reviews": await catalog.recent_reviews(session, product.id),
    }


@router.get("/products/{product_id}/reviews")
async def product_reviews(product_id: int, limit: int = Query(20, le=100), session: AsyncSession = Depends(get_session)):
    stmt = (
        select(ProductReview)
        .where(ProductReview.product_id == product_id)
        .order_by(ProductReview.created_at.desc())
        .limit(limit)
    )
    reviews = (await session.scalars(stmt)).all()  # ok: QE-09
    return [{"rating": r.rating, "body": r.body, "at": r.created_at.isoformat()} for r in reviews]


@router.get("/stats")
async def catalogue_stats(session: AsyncSession = Depends(get_session)):
    counts = {}
    for flag in ("is_active", "is_featured"):
        column = getattr(Product, flag)
        counts[flag] = await session.scalar(select(func.count(Product.id)).where(column.is_(True)))  # ok: QE-07, QE-09
    return counts
