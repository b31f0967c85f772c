"""Export files and the search indexer."""
import subprocess
import time
from pathlib import Path

from django.conf import settings

EXPORT_DIR = Path(settings.MEDIA_ROOT) / "exports"
INDEX_STATUS = Path(settings.MEDIA_ROOT) / "search" / "status"
INDEX_TIMEOUT = 120.0


def _wait_until_idle(status_file: Path) -> None:
    deadline = time.monotonic() + INDEX_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if status_file.read_text().strip() == "idle":
            return
    raise TimeoutError(f"indexer still busy after {INDEX_TIMEOUT}s")


def write_export(name: str, content: str) -> Path:
    target = EXPORT_DIR / name
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(content)
    return target


def run_indexer(paths: list[Path]) -> str:
    subprocess.run(["/usr/local/bin/search-indexer", "--rebuild", "--background", *map(str, paths)], check=True)
    _wait_until_idle(INDEX_STATUS)
    return INDEX_STATUS.with_name("last-run.log").read_text()


def save_upload(name: str, data: bytes) -> Path:
    target = Path(settings.MEDIA_ROOT) / "uploads" / name
    target.write_bytes(data)
    return target
