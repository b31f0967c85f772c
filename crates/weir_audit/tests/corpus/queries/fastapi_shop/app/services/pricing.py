"""Prices: list price with tax, coupons."""
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import repositories
from app.models import Coupon

TAX_RATES = {"standard": Decimal("0.19"), "reduced": Decimal("0.07"), "zero": Decimal("0")}
CENT = Decimal("0.01")
_COUPONS: dict[str, Coupon] = {}


@lru_cache(maxsize=16)
def tax_multiplier(tax_class: str) -> Decimal:  # ok: QE-06
    return Decimal("1") + TAX_RATES.get(tax_class, TAX_RATES["standard"])


def apply_coupon(price: Decimal, coupon: Coupon | None) -> Decimal:
    if coupon is None:
        return price
    return (price * (100 - coupon.percent_off) / 100).quantize(CENT, ROUND_HALF_UP)


async def current_price(session: AsyncSession, product_id: int, coupon: Coupon | None = None) -> Decimal:
    product = await repositories.get_product(session, product_id)
    if product is None:
        raise LookupError(f"product {product_id} not found")
    gross = (product.price * tax_multiplier(product.tax_class)).quantize(CENT, ROUND_HALF_UP)
    return apply_coupon(gross, coupon)


async def coupon_by_code(session: AsyncSession, code: str) -> Coupon | None:
    coupon = _COUPONS.get(code.upper())
    if coupon is None:
        coupon = await session.scalar(select(Coupon).where(Coupon.code == code.upper()))
        if coupon is not None:
            _COUPONS[code.upper()] = coupon  # expect: QE-06
    return coupon
