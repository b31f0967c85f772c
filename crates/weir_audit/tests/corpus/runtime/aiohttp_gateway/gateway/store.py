"""Response cache persisted in sqlite."""
import sqlite3
import time
from pathlib import Path

CACHE_DB = Path("/var/cache/gateway/responses.sqlite3")


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(CACHE_DB, timeout=5)
    conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, body BLOB, stored_at REAL)")
    return conn


def fetch_row(key: str) -> tuple[bytes, float] | None:
    with connect() as conn:
        return conn.execute("SELECT body, stored_at FROM responses WHERE key = ?", (key,)).fetchone()


def upsert(key: str, body: bytes) -> None:
    with connect() as conn:
        conn.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (key, body, time.time()))


def purge_older_than(seconds: float) -> int:
    with connect() as conn:
        return conn.execute("DELETE FROM responses WHERE stored_at < ?", (time.time() - seconds,)).rowcount
