"""Archive jobs: compress a day of events and upload it."""
import asyncio
import datetime as dt
import functools
import logging

from worker import archiver, store

log = logging.getLogger("worker.archive")


async def archive_day(job_id: str, payload: dict) -> None:
    day = dt.date.fromisoformat(payload["day"])
    archive = archiver.build_archive(day)  # expect: RT-01  (its sleep is evidence of the same finding)
    location = archiver.publish_archive(archive)  # expect: RT-01
    store.save_result(job_id, {"location": location})  # expect: RT-01
    log.info("archived %s to %s", day, location)


async def archive_day_offloaded(job_id: str, payload: dict) -> None:
    day = dt.date.fromisoformat(payload["day"])
    archive = await asyncio.to_thread(archiver.build_archive, day)  # ok: RT-01, RT-03
    loop = asyncio.get_running_loop()
    location = await loop.run_in_executor(None, lambda: archiver.publish_archive(archive))  # ok: RT-01
    await loop.run_in_executor(None, functools.partial(store.save_result, job_id, {"location": location}))  # ok: RT-01
    log.info("archived %s to %s", day, location)


async def verify_upload(job_id: str, payload: dict) -> None:
    proc = await asyncio.create_subprocess_exec(  # ok: RT-01
        "aws", "s3", "ls", payload["location"], stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if not out:
        await asyncio.to_thread(store.mark_failed, job_id, "archive missing after upload")  # ok: RT-01
    dump = archiver.dump_path(dt.date.fromisoformat(payload["day"]))  # ok: RT-01
    log.info("verified %s (%s)", payload["location"], dump.name)
