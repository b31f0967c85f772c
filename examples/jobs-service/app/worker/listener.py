"""LISTEN on ``job_progress`` (the ``jobs_progress_notify`` trigger) and on the worker's done channel."""
from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict

import asyncpg

from app.config import settings

log = logging.getLogger(__name__)

CHANNEL = "job_progress"
DONE_CHANNEL = "jobs_done"


class ProgressHub:
    """Latest known progress per job, bounded so a busy day cannot grow it forever."""

    def __init__(self, max_jobs: int = 10_000) -> None:
        self._latest: OrderedDict[int, int] = OrderedDict()
        self._max_jobs = max_jobs

    def update(self, job_id: int, progress: int) -> None:
        self._latest[job_id] = progress
        self._latest.move_to_end(job_id)
        if len(self._latest) > self._max_jobs:
            self._latest.popitem(last=False)

    def latest(self, job_id: int) -> int | None:
        return self._latest.get(job_id)


async def listen(hub: ProgressHub, stop: asyncio.Event) -> None:
    conn = await asyncpg.connect(settings.listen_dsn)

    def on_progress(
        connection: asyncpg.Connection, pid: int, channel: str, payload: str
    ) -> None:
        try:
            event = json.loads(payload)
            hub.update(int(event["id"]), int(event["progress"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed %s payload from pid %s: %r", channel, pid, payload)

    def on_done(connection: asyncpg.Connection, pid: int, channel: str, payload: str) -> None:
        if payload.isdigit():
            hub.update(int(payload), 100)

    try:
        await conn.add_listener(CHANNEL, on_progress)
        await conn.add_listener(DONE_CHANNEL, on_done)
        log.info("listening on %s and %s", CHANNEL, DONE_CHANNEL)
        await stop.wait()
        await conn.remove_listener(DONE_CHANNEL, on_done)
        await conn.remove_listener(CHANNEL, on_progress)
    finally:
        await conn.close()
