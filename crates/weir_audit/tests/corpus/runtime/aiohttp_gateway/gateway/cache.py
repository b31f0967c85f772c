"""Cache policy on top of the sqlite store."""
import hashlib
import time

from gateway import store

TTL_SECONDS = 300.0


def cache_key(method: str, path: str, query: str) -> str:
    return hashlib.sha1(f"{method} {path}?{query}".encode()).hexdigest()


def lookup(key: str) -> bytes | None:
    row = store.fetch_row(key)
    if row is None:
        return None
    body, stored_at = row
    return body if time.time() - stored_at < TTL_SECONDS else None


def remember(key: str, body: bytes) -> None:
    if len(body) < 1_000_000:
        store.upsert(key, body)


def stats(keys: list[str]) -> dict[str, int]:
    hits = [key for key in keys if store.fetch_row(key) is not None]
    return {"keys": len(keys), "hits": len(hits)}
