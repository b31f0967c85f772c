"""SQL for the shop: one function per query, no business rules."""
from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product, ProductReview, StockLevel


async def get_product(session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


async def products_by_ids(session: AsyncSession, product_ids: list[int]) -> dict[int, Product]:
    rows = await session.scalars(select(Product).where(Product.id.in_(product_ids)))
    return {p.id: p for p in rows}


async def stock_level(session: AsyncSession, product_id: int) -> int:
    available = StockLevel.on_hand - StockLevel.reserved
    stmt = select(func.coalesce(func.sum(available), 0)).where(StockLevel.product_id == product_id)
    return int(await session.scalar(stmt))


async def stock_levels(session: AsyncSession, product_ids: list[int]) -> dict[int, int]:
    stmt = (
        select(StockLevel.product_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(StockLevel.product_id.in_(product_ids))
        .group_by(StockLevel.product_id)
    )
    return {pid: int(n) for pid, n in (await session.execute(stmt)).all()}


async def rating_summary(session: AsyncSession, product_id: int) -> tuple[float | None, int]:
    stmt = select(func.avg(ProductReview.rating), func.count(ProductReview.id)).where(ProductReview.product_id == product_id)
    avg, count = (await session.execute(stmt)).one()
    return (float(avg) if avg is not None else None), count


async def reserve_stock(session: AsyncSession, product_id: int, quantity: int) -> None:
    await session.execute(
        update(StockLevel)
        .where(StockLevel.product_id == product_id, StockLevel.warehouse == "main")
        .values(reserved=StockLevel.reserved + quantity)
    )


async def reserve_stock_many(session: AsyncSession, quantities: dict[int, int]) -> None:
    if not quantities:
        return
    await session.execute(
        update(StockLevel)
        .where(StockLevel.product_id.in_(list(quantities)), StockLevel.warehouse == "main")
        .values(reserved=StockLevel.reserved + case(quantities, value=StockLevel.product_id, else_=0))
    )
