"""Streams export progress to the browser: LISTEN export_progress."""
import asyncpg

CHANNEL = "export_progress"


async def listen(dsn: str, queue) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(CHANNEL, lambda *args: queue.put_nowait(args[-1]))
