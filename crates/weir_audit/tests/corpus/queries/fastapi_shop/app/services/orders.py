"""Order placement, payment and loyalty."""
import secrets
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import repositories
from app.models import Customer, Order, OrderLine
from app.services.pricing import current_price


class LineIn(BaseModel):
    product_id: int
    quantity: int


async def place_order(session: AsyncSession, customer: Customer, lines: list[LineIn]) -> Order:
    order = Order(number=secrets.token_hex(5).upper(), customer_id=customer.id, status="pending")
    order_lines = []
    for line in lines:
        price = await current_price(session, line.product_id)  # expect: QE-07
        order_lines.append(OrderLine(order=order, product_id=line.product_id, quantity=line.quantity, unit_price=price))
    order.total = sum((ol.unit_price * ol.quantity for ol in order_lines), Decimal("0"))
    session.add(order)  # ok: QE-05
    session.add_all(order_lines)  # ok: QE-05
    return order


async def reserve_stock(session: AsyncSession, lines: list[LineIn]) -> None:
    for line in lines:
        await repositories.reserve_stock(session, line.product_id, line.quantity)  # expect: QE-02 ok: QE-07


async def reserve_stock_batched(session: AsyncSession, lines: list[LineIn]) -> None:
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    await repositories.reserve_stock_many(session, quantities)  # ok: QE-02, QE-07


async def award_loyalty_points(session: AsyncSession, customer_id: int, order_total: Decimal) -> int:
    customer = await session.get(Customer, customer_id)  # ok: QE-01
    if customer is None:
        return 0
    customer.loyalty_points += int(order_total // 10)
    return customer.loyalty_points


async def mark_paid(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id)  # ok: QE-01
    if order is None:
        raise LookupError(f"order {order_id} not found")
    order.status = "paid"
    await session.commit()
    return (await session.scalars(select(Order).where(Order.id == order_id))).one()  # expect: QE-01


async def order_summary(session: AsyncSession, order_id: int) -> dict:
    order = await session.get(Order, order_id)  # ok: QE-01
    if order is None:
        raise LookupError(f"order {order_id} not found")
    return {
        "number": order.number,
        "status": order.status,
        "items": sum(line.quantity for line in order.lines),  # ok: QE-07
        "total": str(order.total),
    }
