"""Search index maintenance: listing changes are queued through Redis."""
import json
import logging

import redis.asyncio as redis

from market.channels import AUCTION_BIDS
from market.config import settings

log = logging.getLogger(__name__)

client = redis.from_url(settings.redis_url)


async def queue_reindex(listing_ids: list[int]) -> None:
    await client.publish(settings.search_channel, json.dumps(listing_ids))  # ok: TX-06


async def broadcast_bid(auction_id: int, amount: float) -> None:
    await client.publish(AUCTION_BIDS.format(auction_id=auction_id), str(amount))  # ok: TX-06


async def warm_cache(listing_ids: list[int]) -> None:
    await client.publish("cache.warm", json.dumps(listing_ids))  # expect: TX-06


async def reindex_worker(index) -> None:
    pubsub = client.pubsub()
    await pubsub.subscribe(settings.search_channel)  # ok: TX-06
    await pubsub.psubscribe("auction.*.bids")  # ok: TX-06
    async for message in pubsub.listen():
        if message["type"] == "message":
            await index.refresh(json.loads(message["data"]))
