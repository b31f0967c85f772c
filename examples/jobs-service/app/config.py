"""Runtime configuration, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: _env(
            "DATABASE_URL", "postgresql+asyncpg://jobs:jobs@localhost:5432/jobs"
        )
    )
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", "redis://localhost:6379/0"))
    payload_dir: Path = field(default_factory=lambda: Path(_env("PAYLOAD_DIR", "/data/payloads")))
    index_url: str = field(
        default_factory=lambda: _env("INDEX_URL", "http://localhost:9200/_bulk_index")
    )
    webhook_url: str | None = field(default_factory=lambda: os.environ.get("WEBHOOK_URL"))
    worker_poll_interval: float = field(
        default_factory=lambda: float(_env("WORKER_POLL_INTERVAL", "2.0"))
    )
    preview_bytes: int = field(default_factory=lambda: int(_env("PREVIEW_BYTES", "4096")))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))

    @property
    def sync_database_url(self) -> str:
        """URL for the psycopg2 engine used by reports and maintenance scripts."""
        explicit = os.environ.get("SYNC_DATABASE_URL")
        if explicit:
            return explicit
        return self.database_url.replace("+asyncpg", "+psycopg2", 1)

    @property
    def listen_dsn(self) -> str:
        """Plain libpq DSN for asyncpg.connect(), which does not accept the +driver suffix."""
        return self.database_url.replace("+asyncpg", "", 1)


settings = Settings()
