"""Daily archive: dump, compress and upload one day of events."""
import datetime as dt
from pathlib import Path

from worker import fs

BUCKET = "events-archive"


def dump_path(day: dt.date) -> Path:
    return fs.ARCHIVE_ROOT / f"events-{day.isoformat()}.jsonl"


def build_archive(day: dt.date) -> Path:
    dump = dump_path(day)
    fs.wait_until_stable(dump)
    return fs.gzip_file(dump)


def publish_archive(archive: Path) -> str:
    fs.upload(archive, BUCKET)
    return f"s3://{BUCKET}/{archive.name}"
