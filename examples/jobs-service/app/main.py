import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import admin_router, ops_router, router
from app.config import settings
from app.db import engine
from app.worker.listener import ProgressHub, listen

logging.basicConfig(level=settings.log_level)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub = ProgressHub()
    stop = asyncio.Event()
    listener = asyncio.create_task(listen(hub, stop), name="job-progress-listener")
    app.state.progress_hub = hub
    try:
        yield
    finally:
        stop.set()
        await listener
        await engine.dispose()


app = FastAPI(title="jobs-service", version="0.4.2", lifespan=lifespan)
app.include_router(router)
app.include_router(ops_router)
app.include_router(admin_router)
