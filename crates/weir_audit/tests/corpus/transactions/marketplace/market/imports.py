"""Nightly price feed: one import row, then prices committed every 1000."""
from sqlalchemy.ext.asyncio import AsyncSession

from market.models import ImportedPrice, PriceImport

CHUNK = 1000


async def import_prices(session: AsyncSession, source: str, rows: list[dict]) -> int:
    run = PriceImport(source=source)
    session.add(run)
    await session.commit()  # ok: TX-03
    for i, row in enumerate(rows, start=1):
        session.add(ImportedPrice(import_id=run.id, sku=row["sku"], amount=row["amount"]))
        if i % CHUNK == 0:
            await session.commit()
    await session.commit()
    return len(rows)
