"""Daily reports, run from cron: ``python -m app.reports summary`` / ``export``."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import Row, func, select, text

from app.db import SyncSession
from app.models import Job

CSV_HEADER = "id,kind,status,progress,created_at,updated_at\n"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def render_csv(rows: Sequence[Row]) -> str:
    parts = [CSV_HEADER]
    parts.extend(
        f"{r.id},{r.kind},{r.status},{r.progress},"
        f"{r.created_at.isoformat()},{r.updated_at.isoformat()}\n"
        for r in rows
    )
    return "".join(parts)


def render_summary_table(counts: Sequence[Row]) -> str:
    out = ""
    for kind, job_status, n in counts:
        out += f"{kind:<12} {job_status:<10} {n:>8}\n"
    return out


def export_jobs_csv(day: date, dest: Path) -> int:
    start, end = _day_bounds(day)
    with SyncSession() as session:
        rows = session.execute(
            select(Job.id, Job.kind, Job.status, Job.progress, Job.created_at, Job.updated_at)
            .where(Job.created_at >= start, Job.created_at < end)
            .order_by(Job.id)
        ).all()
    dest.write_text(render_csv(rows), encoding="utf-8")
    return len(rows)


def daily_summary(day: date) -> str:
    start, end = _day_bounds(day)
    with SyncSession() as session:
        counts = session.execute(
            select(Job.kind, Job.status, func.count())
            .where(Job.created_at >= start, Job.created_at < end)
            .group_by(Job.kind, Job.status)
            .order_by(Job.kind, Job.status)
        ).all()
    header = f"Jobs created on {day:%Y-%m-%d}\n{'kind':<12} {'status':<10} {'count':>8}\n"
    return header + render_summary_table(counts)


def export_audit_csv(day: date, dest: Path) -> int:
    start, end = _day_bounds(day)
    with SyncSession() as session:
        rows = session.execute(
            text(
                "SELECT * FROM audit_log"
                " WHERE created_at >= :start AND created_at < :end ORDER BY id"
            ),
            {"start": start, "end": end},
        ).all()
    dest.write_text("".join(f"{r.id},{r.job_id},{r.action}\n" for r in rows), encoding="utf-8")
    return len(rows)


_JOBS_BY_ID: dict[int, Job | None] = {}


def job_headline(job_id: int) -> str:
    """One line per job for the daily mail; the same ids come up all day, so cache them."""
    if job_id not in _JOBS_BY_ID:
        with SyncSession() as session:
            _JOBS_BY_ID[job_id] = session.get(Job, job_id)
    job = _JOBS_BY_ID[job_id]
    if job is None:
        return f"#{job_id} (deleted)"
    return f"#{job.id} {job.kind}: {job.status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs-report")
    parser.add_argument("command", choices=("summary", "export"))
    parser.add_argument("--day", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--out", type=Path, default=Path("jobs.csv"))
    args = parser.parse_args(argv)

    if args.command == "summary":
        sys.stdout.write(daily_summary(args.day))
    else:
        n = export_jobs_csv(args.day, args.out)
        print(f"wrote {n} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
