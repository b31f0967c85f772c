"""Worker entry point: pop jobs from Redis and run them."""
import asyncio
import json
import logging
import signal
import time
from time import sleep as snooze

import redis.asyncio as redis

from worker import retry, store
from worker.jobs import HANDLERS

log = logging.getLogger("worker")
QUEUE = "jobs"
REDIS_URL = "redis://localhost:6379/0"


async def run_job(job: dict) -> None:
    handler = HANDLERS[job["type"]]
    started = time.monotonic()  # ok: RT-03
    try:
        await handler(job["id"], job["payload"])
    except Exception as exc:
        log.exception("job %s failed", job["id"])
        store.mark_failed(job["id"], repr(exc))  # expect: RT-01
    log.info("job %s took %.2fs", job["id"], retry.elapsed_since(started))  # ok: RT-03


async def consume_polling(r: redis.Redis, stop: asyncio.Event) -> None:
    idle = 0
    while not stop.is_set():
        item = await r.lpop(QUEUE)
        if item is None:
            idle += 1
            snooze(min(idle * 0.1, 2.0))  # expect: RT-03
            continue
        idle = 0
        await run_job(json.loads(item))  # ok: RT-05


async def consume(r: redis.Redis, stop: asyncio.Event) -> None:
    while not stop.is_set():
        item = await r.blpop([QUEUE], timeout=5)
        if item is None:
            continue
        await run_job(json.loads(item[1]))  # ok: RT-05


async def wait_for_redis(r: redis.Redis) -> None:
    for attempt in range(10):
        try:
            await r.ping()
            return
        except redis.ConnectionError:
            retry.backoff(attempt)  # expect: RT-03
    raise RuntimeError("redis unavailable")


async def wait_for_redis_async(r: redis.Redis) -> None:
    for attempt in range(10):
        try:
            await r.ping()
            return
        except redis.ConnectionError:
            await asyncio.to_thread(retry.backoff, attempt)  # ok: RT-03
    raise RuntimeError("redis unavailable")


async def main() -> None:
    r = redis.from_url(REDIS_URL)
    await wait_for_redis_async(r)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await consume(r, stop)


def run() -> None:
    logging.basicConfig(level=logging.INFO)
    for attempt in range(5):
        try:
            asyncio.run(main())
            return
        except ConnectionError:
            time.sleep(2**attempt)  # ok: RT-03
