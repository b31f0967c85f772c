from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobItem

RETRYABLE_STATUSES = ("failed", "cancelled")


class JobRepository:
    """Query helpers for the ``jobs`` table. Callers own the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, job_id: int) -> Job | None:
        return await self.session.scalar(select(Job).where(Job.id == job_id))

    async def list_pending(self, limit: int = 50) -> Sequence[Job]:
        stmt = (
            select(Job)
            .where(Job.status == "queued")
            .order_by(Job.created_at)
            .limit(limit)
        )
        result = await self.session.scalars(stmt)
        return result.all()

    async def claim_next(self) -> Job | None:
        """Lock the oldest queued job; concurrent workers skip rows already locked."""
        stmt = (
            select(Job)
            .where(Job.status == "queued")
            .order_by(Job.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return await self.session.scalar(stmt)

    async def mark_status(self, job_id: int, status: str) -> None:
        await self.session.execute(update(Job).where(Job.id == job_id).values(status=status))

    async def mark_failed(self, job_id: int, error: str) -> None:
        await self.session.execute(
            update(Job).where(Job.id == job_id).values(status="failed", error=error[:2000])
        )

    async def requeue(self, job_ids: Sequence[int]) -> int:
        result = await self.session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status.in_(RETRYABLE_STATUSES))
            .values(status="queued", progress=0, error=None)
        )
        return result.rowcount

    async def item_count(self, job_id: int) -> int:
        stmt = select(JobItem).where(JobItem.job_id == job_id)
        return len((await self.session.scalars(stmt)).all())
