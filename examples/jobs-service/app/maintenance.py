"""Housekeeping tasks, run from cron: ``python -m app.maintenance <task>``."""
from __future__ import annotations

import argparse
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from app.db import SyncSession
from app.models import AuditLog, Job

log = logging.getLogger(__name__)

FINISHED_STATUSES = ("succeeded", "cancelled")


def _ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def archive_finished_jobs(older_than_days: int = 30) -> int:
    cutoff = _ago(days=older_than_days)
    with SyncSession() as session:
        jobs = session.scalars(
            select(Job).where(Job.status.in_(FINISHED_STATUSES), Job.updated_at < cutoff)
        ).all()
        for job in jobs:
            job.status = "archived"
            job.payload_path = None
            session.commit()
    log.info("archived %d jobs finished before %s", len(jobs), cutoff)
    return len(jobs)


def purge_audit_log(older_than_days: int = 90) -> int:
    cutoff = _ago(days=older_than_days)
    session = SyncSession()
    try:
        result = session.execute(delete(AuditLog).where(AuditLog.created_at < cutoff))
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    log.info("purged %d audit rows older than %s", result.rowcount, cutoff)
    return result.rowcount


def requeue_stale_jobs(stale_after_minutes: int = 15) -> int:
    """Put back jobs whose worker died mid-run (no update for a while)."""
    cutoff = _ago(minutes=stale_after_minutes)
    session = SyncSession()
    result = session.execute(
        update(Job)
        .where(Job.status == "running", Job.updated_at < cutoff)
        .values(status="queued", progress=0)
    )
    session.add(AuditLog(action="jobs.requeued_stale", detail=f"{result.rowcount} jobs"))
    session.commit()
    session.close()
    return result.rowcount


TASKS = {
    "archive": archive_finished_jobs,
    "purge-audit": purge_audit_log,
    "requeue-stale": requeue_stale_jobs,
}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(prog="jobs-maintenance")
    parser.add_argument("task", choices=sorted(TASKS))
    args = parser.parse_args(argv)
    count = TASKS[args.task]()
    print(f"{args.task}: {count} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
