"""Application factory and startup hooks."""
import asyncio
import builtins
import json
import logging
import subprocess
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from gateway import store
from gateway.handlers import routes
from gateway.upstream import LEGACY_URL

log = logging.getLogger("gateway")
ROUTES_FILE = Path("/etc/gateway/routes.json")
VERSION_FILE = Path("/srv/gateway/VERSION")


def read_routes() -> dict:
    with builtins.open(ROUTES_FILE, encoding="utf-8") as fh:
        return json.load(fh)


async def on_startup(app: web.Application) -> None:
    with builtins.open(VERSION_FILE, encoding="utf-8") as fh:  # expect: RT-01
        app["version"] = fh.read().strip()
    app["routes"] = await asyncio.to_thread(read_routes)  # ok: RT-01
    app["http"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))  # ok: RT-01
    app["git_sha"] = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()  # expect: RT-01
    app["purger"] = asyncio.create_task(purge_cache_periodically())


async def wait_for_legacy(app: web.Application) -> None:
    for _ in range(20):
        try:
            async with app["http"].get(f"{LEGACY_URL}/health") as resp:  # ok: RT-07
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            log.info("legacy backend not ready yet")
        time.sleep(1)  # expect: RT-03
    raise RuntimeError("legacy backend never became ready")


async def reload_routes(request: web.Request) -> web.Response:
    request.app["routes"] = read_routes()  # expect: RT-01
    return web.json_response({"routes": len(request.app["routes"])})


async def purge_cache_periodically() -> None:
    while True:
        removed = await asyncio.to_thread(store.purge_older_than, 3600)  # ok: RT-01
        log.info("purged %d cached responses", removed)
        await asyncio.sleep(600)  # ok: RT-03


async def on_cleanup(app: web.Application) -> None:
    app["purger"].cancel()
    await app["http"].close()


def create_app() -> web.Application:
    app = web.Application()
    app.add_routes(routes)
    app.router.add_post("/admin/reload-routes", reload_routes)
    app.on_startup.append(on_startup)
    app.on_startup.append(wait_for_legacy)
    app.on_cleanup.append(on_cleanup)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), port=8080)
