"""Fan-out of database events to the browsers connected to this process."""
import asyncio
import logging

import asyncpg

from market.channels import LISTING_CHANGED, LISTING_FLAGGED
from market.config import settings

log = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self.queues: dict[str, set[asyncio.Queue]] = {}

    def publish(self, topic: str, payload: str) -> None:
        for queue in self.queues.get(topic, ()):
            queue.put_nowait(payload)


async def run_listener(hub: Hub, stop: asyncio.Event) -> None:
    conn = await asyncpg.connect(settings.listen_dsn)

    def forward(connection, pid, channel, payload):
        hub.publish(channel, payload)

    try:
        await conn.add_listener(LISTING_CHANGED, forward)  # ok: TX-06
        await conn.add_listener(LISTING_FLAGGED, forward)  # ok: TX-06
        await conn.add_listener("bids_placed", forward)  # expect: TX-06
        await conn.add_listener("auction_closed", forward)  # expect: TX-06
        await stop.wait()
    finally:
        await conn.close()
