from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.config import settings
from app.db import SessionLocal, get_session
from app.models import AuditLog, Job, JobItem
from app.repository import JobRepository
from app.schemas import (
    ItemsAppend,
    JobCreate,
    JobIds,
    JobItemOut,
    JobOut,
    JobProgress,
    JobStats,
    JobWithItems,
)

router = APIRouter(prefix="/jobs", tags=["jobs"])
ops_router = APIRouter(tags=["ops"])


def _with_items(job: Job, items: Iterable[JobItem]) -> JobWithItems:
    return JobWithItems(
        **JobOut.model_validate(job).model_dump(),
        items=[JobItemOut.model_validate(item) for item in items],
    )


@router.post("", response_model=JobOut, status_code=status.HTTP_201_CREATED)
async def create_job(body: JobCreate, session: AsyncSession = Depends(get_session)) -> Job:
    job = Job(kind=body.kind, status="queued", payload_path=body.payload_path)
    session.add(job)
    await session.flush()

    for name in body.items:
        session.add(JobItem(job_id=job.id, name=name, status="pending"))

    session.add(AuditLog(job_id=job.id, action="job.created", detail=body.kind))
    await session.commit()
    return job


@router.post("/{job_id}/items", status_code=status.HTTP_201_CREATED)
async def append_items(
    job_id: int, body: ItemsAppend, session: AsyncSession = Depends(get_session)
) -> dict[str, int]:
    job = await JobRepository(session).get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
    if job.status != "queued":
        raise HTTPException(status.HTTP_409_CONFLICT, f"job is already {job.status}")

    session.add_all([JobItem(job_id=job.id, name=name, status="pending") for name in body.names])
    await session.commit()
    return {"added": len(body.names)}


@router.get("", response_model=list[JobWithItems])
async def list_jobs(
    status_filter: str | None = Query(None, alias="status"),
    limit: int = Query(50, ge=1, le=200),
    session: AsyncSession = Depends(get_session),
) -> list[JobWithItems]:
    stmt = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if status_filter:
        stmt = stmt.where(Job.status == status_filter)
    jobs = (await session.scalars(stmt)).all()

    out: list[JobWithItems] = []
    for job in jobs:
        items = await session.scalars(
            select(JobItem).where(JobItem.job_id == job.id).order_by(JobItem.id)
        )
        out.append(_with_items(job, items))
    return out


@router.get("/failed", response_model=list[JobWithItems])
async def list_failed_jobs(
    limit: int = Query(50, ge=1, le=200),
    session: AsyncSession = Depends(get_session),
) -> list[JobWithItems]:
    stmt = (
        select(Job)
        .where(Job.status == "failed")
        .options(selectinload(Job.items))
        .order_by(Job.updated_at.desc())
        .limit(limit)
    )
    jobs = (await session.scalars(stmt)).all()

    out: list[JobWithItems] = []
    for job in jobs:
        out.append(_with_items(job, job.items))
    return out


@router.get("/queue", response_model=list[JobOut])
async def queued_jobs(
    limit: int = Query(50, ge=1, le=500),
    session: AsyncSession = Depends(get_session),
) -> list[Job]:
    return list(await JobRepository(session).list_pending(limit))


@router.get("/stats", response_model=JobStats)
async def job_stats(session: AsyncSession = Depends(get_session)) -> JobStats:
    counts: dict[str, int] = {}
    for job_status in ("queued", "running"):
        counts[job_status] = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == job_status)
        ) or 0
    return JobStats(**counts)


@router.post("/cancel")
async def cancel_jobs(body: JobIds, session: AsyncSession = Depends(get_session)) -> dict[str, int]:
    repo = JobRepository(session)
    for job_id in body.ids:
        await repo.mark_status(job_id, "cancelled")
    await session.commit()
    return {"cancelled": len(body.ids)}


@router.post("/{job_id}/cancel", response_model=JobOut)
async def cancel_job(job_id: int, session: AsyncSession = Depends(get_session)) -> Job:
    job = await JobRepository(session).get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
    job.status = "cancelled"
    await session.commit()
    session.add(AuditLog(job_id=job.id, action="job.cancelled"))
    await session.commit()
    return job


@router.post("/retry")
async def retry_jobs(body: JobIds, session: AsyncSession = Depends(get_session)) -> dict[str, int]:
    requeued = await JobRepository(session).requeue(body.ids)
    await session.commit()
    return {"requeued": requeued}


@router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: int, session: AsyncSession = Depends(get_session)) -> Job:
    job = await JobRepository(session).get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
    return job


@router.get("/{job_id}/progress", response_model=JobProgress)
async def get_progress(job_id: int, request: Request) -> JobProgress:
    hub = request.app.state.progress_hub
    return JobProgress(job_id=job_id, progress=hub.latest(job_id))


@ops_router.get("/payloads/{name}/preview")
def preview_payload(name: str) -> Response:
    if Path(name).name != name or name.startswith("."):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid payload name")
    path = settings.payload_dir / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "payload not found")
    with open(path, "rb") as fh:
        head = fh.read(settings.preview_bytes)
    return Response(content=head, media_type="text/plain")


@ops_router.get("/health")
async def health() -> dict[str, str]:
    session = SessionLocal()
    await session.execute(text("SELECT 1"))
    return {"status": "ok", "database": "up"}
