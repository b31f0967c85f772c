"""Filesystem helpers for archives."""
import gzip
import shutil
import subprocess
import time
from pathlib import Path

ARCHIVE_ROOT = Path("/var/lib/worker/archives")


def wait_until_stable(path: Path, interval: float = 0.5, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    size = -1
    while size != path.stat().st_size:
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        size = path.stat().st_size
        time.sleep(interval)


def gzip_file(path: Path) -> Path:
    target = path.with_suffix(path.suffix + ".gz")
    with open(path, "rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return target


def upload(path: Path, bucket: str) -> None:
    subprocess.run(["aws", "s3", "cp", str(path), f"s3://{bucket}/{path.name}"], check=True, timeout=300)
