"""FastAPI application: lifespan, health and webhooks."""
import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from time import sleep as snooze

from fastapi import FastAPI, HTTPException, Request

from app.api import router
from app.config import load_settings
from app.db import engine, legacy_sku_map
from app.security import signature_matches

log = logging.getLogger("orders")


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.settings = load_settings()  # expect: RT-01
    app.state.sku_map = await asyncio.to_thread(legacy_sku_map)  # ok: RT-01
    app.state.inflight = 0
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(router)


@app.get("/health")
async def health() -> dict:
    started = time.perf_counter()  # ok: RT-03
    async with engine.connect() as conn:  # ok: RT-01
        await conn.exec_driver_sql("SELECT 1")
    return {"ok": True, "db_ms": round((time.perf_counter() - started) * 1000, 1)}


@app.post("/admin/drain")
async def drain(request: Request) -> dict:
    for _ in range(30):
        if not request.app.state.inflight:
            break
        snooze(1)  # expect: RT-03
    return {"drained": not request.app.state.inflight}


@app.post("/admin/drain/async")
async def drain_async(request: Request) -> dict:
    for _ in range(30):
        if not request.app.state.inflight:
            break
        await asyncio.sleep(1)  # ok: RT-03
    return {"drained": not request.app.state.inflight}


@app.post("/webhooks/payments")
async def payment_webhook(request: Request) -> dict:
    body = await request.body()
    signature = request.headers.get("x-signature", "")
    if not signature_matches(app.state.settings.webhook_secret, body, signature):  # ok: RT-05
        raise HTTPException(status_code=400)
    event = json.loads(body)  # expect: RT-05
    log.info("payment event %s", event.get("type"))
    return {"ok": True}


@app.post("/webhooks/carriers")
async def carrier_webhook(request: Request) -> dict:
    event = await request.json()  # ok: RT-05
    meta = json.loads(request.headers.get("x-carrier-meta", "{}"))  # ok: RT-05
    return {"ok": True, "carrier": meta.get("carrier"), "type": event.get("type")}
