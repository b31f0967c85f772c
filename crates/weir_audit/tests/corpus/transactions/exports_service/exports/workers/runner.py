import asyncio
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exports.models import Export, Row

COMMIT_EVERY = 200


async def render(session: AsyncSession, export: Export, dest: Path) -> None:
    rows = (await session.scalars(select(Row).where(Row.export_id == export.id))).all()
    with dest.open("w") as out:  # expect: TX-02
        for i, row in enumerate(rows):
            out.write(row.body)
            export.progress = i * 100 // len(rows)  # expect: TX-01
    export.status = "done"
    await session.commit()


async def render_streaming(session: AsyncSession, export: Export, rows: list[Row]) -> None:
    await session.refresh(export)
    for i, row in enumerate(rows, start=1):
        transform(row)
        if i % COMMIT_EVERY == 0:
            export.progress = i * 100 // len(rows)  # ok: TX-01
            await session.commit()
    await session.commit()


async def mark_steps(session: AsyncSession, export_id: int, steps: list[int]) -> None:
    for step in steps:
        await session.execute(update(Export).where(Export.id == export_id).values(progress=step))  # expect: TX-01
    await session.commit()


async def mark_steps_committed(session: AsyncSession, export_id: int, steps: list[int]) -> None:
    for step in steps:
        await session.execute(update(Export).where(Export.id == export_id).values(progress=step))  # ok: TX-01
        await session.commit()


async def upload(session: AsyncSession, client: httpx.AsyncClient, export_id: int) -> None:
    export = await session.get(Export, export_id)
    await client.put(f"https://storage/exports/{export_id}", content=b"...")  # expect: TX-02
    export.status = "uploaded"
    await session.commit()


async def upload_outside(session: AsyncSession, client: httpx.AsyncClient, export_id: int) -> None:
    await client.put(f"https://storage/exports/{export_id}", content=b"...")  # ok: TX-02
    async with session.begin():
        export = await session.get(Export, export_id)
        export.status = "uploaded"


async def wait_until_ready(session: AsyncSession, export_id: int) -> None:
    export = await session.get(Export, export_id)
    while export.status != "ready":
        await asyncio.sleep(2)  # expect: TX-05
        await session.refresh(export)
    await session.commit()


async def poll_ready(session: AsyncSession, export_id: int) -> str:
    while True:
        export = await session.get(Export, export_id)
        status = export.status
        await session.rollback()
        if status == "ready":
            return status
        await asyncio.sleep(2)  # ok: TX-05


def transform(row: Row) -> str:
    return row.body.upper()
