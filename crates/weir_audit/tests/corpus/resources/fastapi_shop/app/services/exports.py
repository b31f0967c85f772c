"""CSV export generators."""
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OrderLine


def export_lines(db: Session, order_id: int) -> Iterator[str]:
    yield "sku,qty\n"
    for line in db.scalars(select(OrderLine).where(OrderLine.order_id == order_id)):
        yield f"{line.sku},{line.qty}\n"
