"""Operator endpoints: audit trail, queue metrics, stop, requeue, webhook redelivery."""
from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.db import get_session
from app.models import AuditLog, Job, JobItem
from app.repository import JobRepository

admin_router = APIRouter(prefix="/admin", tags=["admin"])

STOP_GRACE_SECONDS = 3.0


async def _record(session: AsyncSession, job_id: int, action: str) -> None:
    job = await session.scalar(select(Job).where(Job.id == job_id))
    session.add(AuditLog(job_id=job_id, action=action, detail=f"{job.kind} at {job.progress}%"))


def _audit_row(entry: AuditLog) -> dict[str, str | None]:
    return {
        "action": entry.action,
        "detail": entry.detail,
        "at": entry.created_at.isoformat(),
    }


@admin_router.get("/jobs/{job_id}/audit")
async def job_audit_trail(
    job_id: int, session: AsyncSession = Depends(get_session)
) -> list[dict[str, str | None]]:
    entries = (
        await session.scalars(
            select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.created_at)
        )
    ).all()
    return [_audit_row(entry) for entry in entries]


@admin_router.get("/jobs/{job_id}/audit/recent")
async def recent_job_audit(
    job_id: int,
    limit: int = 20,
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, str | None]]:
    entries = (
        await session.scalars(
            select(AuditLog)
            .where(AuditLog.job_id == job_id)
            .order_by(AuditLog.created_at.desc())
            .limit(limit)
        )
    ).all()
    return [_audit_row(entry) for entry in entries]


async def _count_status(session: AsyncSession, job_status: str) -> int:
    stmt = select(func.count()).select_from(Job).where(Job.status == job_status)
    return await session.scalar(stmt) or 0


@admin_router.get("/metrics")
async def queue_metrics(session: AsyncSession = Depends(get_session)) -> dict[str, int]:
    queued, running = await asyncio.gather(
        _count_status(session, "queued"), _count_status(session, "running")
    )
    return {"queued": queued, "running": running}


@admin_router.get("/jobs/{job_id}/has-items")
async def job_has_items(
    job_id: int, session: AsyncSession = Depends(get_session)
) -> dict[str, bool]:
    found = await session.scalar(select(exists().where(JobItem.job_id == job_id)))
    return {"has_items": bool(found)}


@admin_router.post("/jobs/{job_id}/requeue")
async def force_requeue(
    job_id: int, session: AsyncSession = Depends(get_session)
) -> dict[str, str]:
    job = await session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
    job.status = "queued"
    job.progress = 0
    await _record(session, job.id, "job.force_requeued")
    await session.commit()
    return {"status": "queued"}


@admin_router.post("/jobs/{job_id}/redeliver")
async def redeliver_webhook(
    job_id: int, session: AsyncSession = Depends(get_session)
) -> dict[str, int]:
    if not settings.webhook_url:
        raise HTTPException(status.HTTP_409_CONFLICT, "no webhook configured")
    job = await session.get(Job, job_id)
    if job is None or job.status != "succeeded":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no finished job with that id")
    payload = {"id": job.id, "kind": job.kind, "status": job.status, "result": job.result}
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.post(settings.webhook_url, json=payload)
    session.add(
        AuditLog(job_id=job.id, action="job.webhook_redelivered", detail=str(response.status_code))
    )
    await session.commit()
    return {"status_code": response.status_code}


@admin_router.get("/jobs/{job_id}/items/count")
async def job_item_count(
    job_id: int, session: AsyncSession = Depends(get_session)
) -> dict[str, int]:
    return {"items": await JobRepository(session).item_count(job_id)}


@admin_router.post("/jobs/{job_id}/stop")
async def stop_job(job_id: int, session: AsyncSession = Depends(get_session)) -> dict[str, str]:
    job = await session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
    job.status = "cancelled"
    await session.flush()
    # Give the worker a moment to notice before reporting the final status.
    await asyncio.sleep(STOP_GRACE_SECONDS)
    await session.refresh(job)
    await session.commit()
    return {"status": job.status}
