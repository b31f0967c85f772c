"""Background worker: claims queued jobs one at a time and runs them.

Run with ``python -m app.worker.processor``.
"""
from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.db import SessionLocal, engine
from app.models import AuditLog, Job, JobItem
from app.repository import JobRepository

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[AsyncSession, Job], Awaitable[str]]

INDEX_CHUNK_SIZE = 500
IMPORT_COMMIT_EVERY = 100


async def with_retries(
    call: Callable[[], Awaitable[T]], attempts: int = 3, backoff: float = 0.5
) -> T:
    """Retry ``call`` on connection-level errors with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except httpx.TransportError as exc:
            if attempt == attempts:
                raise
            log.warning("%s; retrying in %.1fs (%d/%d)", exc, backoff, attempt, attempts)
            time.sleep(backoff)
            backoff *= 2
    raise AssertionError("unreachable")


async def load_payload(path: Path) -> bytes:
    return await asyncio.to_thread(path.read_bytes)


class JobProcessor:
    def __init__(self, http: httpx.AsyncClient, poll_interval: float = 2.0) -> None:
        self._http = http
        self._poll_interval = poll_interval
        self._handlers: dict[str, Handler] = {
            "import": self._run_import,
            "reindex": self._run_reindex,
            "checksum": self._run_checksum,
        }

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.run_once()
            if not handled:
                await asyncio.sleep(self._poll_interval)

    async def run_once(self) -> bool:
        async with SessionLocal() as session:
            repo = JobRepository(session)
            async with session.begin():
                job = await repo.claim_next()
                if job is None:
                    return False
                job.status = "running"

            job_id = job.id
            log.info("running job %s (%s)", job_id, job.kind)
            try:
                handler = self._handlers[job.kind]
                result = await handler(session, job)
            except Exception as exc:
                log.exception("job %s failed", job_id)
                await session.rollback()
                await repo.mark_failed(job_id, f"{type(exc).__name__}: {exc}")
                await session.commit()
                return True

            completed = await self._complete(session, job, result)
        if completed:
            await self._notify(job, result)
        return True

    async def _run_import(self, session: AsyncSession, job: Job) -> str:
        if not job.payload_path:
            raise ValueError("import job has no payload_path")
        raw = await load_payload(Path(job.payload_path))
        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        rows = [row for row in reader if row and row[0].strip()]

        batch: list[JobItem] = []
        for i, row in enumerate(rows, start=1):
            batch.append(JobItem(job_id=job.id, name=row[0].strip()[:255], status="imported"))
            if i % IMPORT_COMMIT_EVERY == 0:
                session.add_all(batch)
                batch = []
                job.progress = i * 100 // len(rows)
                await session.commit()
        session.add_all(batch)
        await session.commit()
        return f"imported {len(rows)} rows"

    async def _run_reindex(self, session: AsyncSession, job: Job) -> str:
        names = (
            await session.scalars(
                select(JobItem.name).where(JobItem.job_id == job.id).order_by(JobItem.id)
            )
        ).all()
        total = len(names)
        if total == 0:
            return "nothing to index"

        for start in range(0, total, INDEX_CHUNK_SIZE):
            chunk = list(names[start : start + INDEX_CHUNK_SIZE])
            await self._push_to_index(job.id, chunk)
            job.progress = min(99, (start + len(chunk)) * 100 // total)
        await session.commit()
        return f"indexed {total} documents"

    async def _run_checksum(self, session: AsyncSession, job: Job) -> str:
        if not job.payload_path:
            raise ValueError("checksum job has no payload_path")
        data = Path(job.payload_path).read_bytes()
        return f"sha256:{hashlib.sha256(data).hexdigest()} ({len(data)} bytes)"

    async def _push_to_index(self, job_id: int, names: list[str]) -> None:
        response = await with_retries(
            lambda: self._http.post(settings.index_url, json={"job_id": job_id, "documents": names})
        )
        response.raise_for_status()

    async def _complete(self, session: AsyncSession, job: Job, result: str) -> bool:
        current = await JobRepository(session).get(job.id)
        if current is None or current.status == "cancelled":
            log.info("job %s was cancelled or deleted while running; dropping result", job.id)
            return False
        current.status = "succeeded"
        current.progress = 100
        current.result = result
        current.error = None
        session.add(AuditLog(job_id=current.id, action="job.succeeded", detail=result[:500]))
        # Delivered at commit, with the status change it announces.
        await session.execute(text("SELECT pg_notify('job_done', :id)"), {"id": str(current.id)})
        await session.commit()
        return True

    async def _notify(self, job: Job, result: str) -> None:
        if not settings.webhook_url:
            return
        payload = {"id": job.id, "kind": job.kind, "status": "succeeded", "result": result}
        try:
            response = await with_retries(
                lambda: self._http.post(settings.webhook_url, json=payload)
            )
            response.raise_for_status()
        except httpx.HTTPError:
            log.warning("webhook for job %s failed", job.id, exc_info=True)


async def main() -> None:
    logging.basicConfig(level=settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with httpx.AsyncClient(timeout=10.0) as http:
        await JobProcessor(http, poll_interval=settings.worker_poll_interval).run_forever(stop)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
