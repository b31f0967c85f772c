"""Product cards, reviews and category lookups shared by the catalogue endpoints."""
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import repositories
from app.models import Category, ProductReview
from app.services.pricing import current_price

_CATEGORIES_BY_SLUG: dict[str, Category] = {}
_CATEGORY_NAMES: dict[int, str] = {}


class ProductCard(BaseModel):
    id: int
    price: Decimal
    in_stock: int
    rating: float | None = None
    reviews: int = 0


async def product_card(session: AsyncSession, product_id: int) -> ProductCard:
    price = await current_price(session, product_id)
    in_stock = await repositories.stock_level(session, product_id)
    rating, reviews = await repositories.rating_summary(session, product_id)
    return ProductCard(id=product_id, price=price, in_stock=in_stock, rating=rating, reviews=reviews)


async def category_by_slug(session: AsyncSession, slug: str) -> Category | None:
    if slug not in _CATEGORIES_BY_SLUG:
        _CATEGORIES_BY_SLUG[slug] = await session.scalar(select(Category).where(Category.slug == slug))  # expect: QE-06
    return _CATEGORIES_BY_SLUG[slug]


async def category_name(session: AsyncSession, category_id: int) -> str | None:
    if category_id not in _CATEGORY_NAMES:
        _CATEGORY_NAMES[category_id] = await session.scalar(select(Category.name).where(Category.id == category_id))  # ok: QE-06
    return _CATEGORY_NAMES.get(category_id)


async def has_reviews(session: AsyncSession, product_id: int) -> bool:
    return len((await session.scalars(select(ProductReview).where(ProductReview.product_id == product_id))).all()) > 0  # expect: QE-08


async def review_count(session: AsyncSession, product_id: int) -> int:
    return len((await session.scalars(select(ProductReview.id).where(ProductReview.product_id == product_id))).all())  # expect: QE-08


async def recent_reviews(session: AsyncSession, product_id: int, limit: int = 5) -> dict:
    stmt = (
        select(ProductReview)
        .where(ProductReview.product_id == product_id)
        .order_by(ProductReview.created_at.desc())
        .limit(limit)
    )
    reviews = (await session.scalars(stmt)).all()
    return {"shown": len(reviews), "items": [{"rating": r.rating, "body": r.body} for r in reviews]}  # ok: QE-08
