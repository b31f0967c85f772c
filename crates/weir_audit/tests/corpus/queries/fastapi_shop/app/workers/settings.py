"""arq worker settings."""
import os

from arq.connections import RedisSettings

from app.workers.jobs import low_stock_report, sync_customer


class WorkerSettings:
    functions = [sync_customer, low_stock_report]
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    max_jobs = 20
