"""aiohttp request handlers."""
import asyncio
import json
import logging
from pathlib import Path
from urllib.parse import urlencode

import aiofiles
import aiohttp
from aiohttp import web
from bs4 import BeautifulSoup

from gateway import cache, transform, upstream
from gateway.ratelimit import Bucket, acquire, wait_for_slot

log = logging.getLogger("gateway")
routes = web.RouteTableDef()
STATIC = Path("/srv/gateway/static")
BUCKETS: dict[str, Bucket] = {}


def bucket_for(request: web.Request) -> Bucket:
    return BUCKETS.setdefault(request.remote or "-", Bucket(rate=5, capacity=10))


@routes.get("/legacy/{path:.*}")
async def legacy_proxy(request: web.Request) -> web.Response:
    http: aiohttp.ClientSession = request.app["http"]
    path = request.match_info["path"]
    key = cache.cache_key("GET", path, request.query_string)  # ok: RT-01
    cached = cache.lookup(key)  # expect: RT-01
    if cached is not None:
        return web.Response(body=cached, content_type="application/json")
    resp = await http.get(f"{upstream.LEGACY_URL}/{path}?{request.query_string}")
    doc = transform.xml_to_json(await resp.read())  # expect: RT-05
    cache.remember(key, json.dumps(doc).encode())  # expect: RT-01
    return web.json_response(doc)


@routes.get("/v2/legacy/{path:.*}")
async def legacy_proxy_offloaded(request: web.Request) -> web.Response:
    http: aiohttp.ClientSession = request.app["http"]
    path = request.match_info["path"]
    key = cache.cache_key("GET", path, request.query_string)
    loop = asyncio.get_running_loop()
    cached = await loop.run_in_executor(None, cache.lookup, key)  # ok: RT-01
    if cached is not None:
        return web.Response(body=cached, content_type="application/json")
    raw = await upstream.fetch_with_retry(http, f"{upstream.LEGACY_URL}/{path}?{request.query_string}")
    doc = await loop.run_in_executor(None, transform.xml_to_json, raw)  # ok: RT-05
    await asyncio.to_thread(cache.remember, key, json.dumps(doc).encode())  # ok: RT-01
    return web.json_response(doc)


@routes.post("/batch")
async def batch(request: web.Request) -> web.Response:
    wait_for_slot(bucket_for(request))  # expect: RT-03
    items = json.loads(await request.read())  # expect: RT-05
    results = await upstream.fetch_items(request.app["http"], [item["id"] for item in items])  # ok: RT-07
    return web.json_response(results)


@routes.post("/batch/ordered")
async def batch_ordered(request: web.Request) -> web.Response:
    await acquire(bucket_for(request))  # ok: RT-03
    body = await request.text()
    items = json.loads(body)  # expect: RT-05
    results = []
    for item in items:
        results.append(await upstream.fetch_item(request.app["http"], item["id"]))  # expect: RT-07
    return web.json_response(results)


@routes.get("/users")
async def users(request: web.Request) -> web.Response:
    ids = json.loads(request.query.get("ids", "[]"))  # ok: RT-05
    found = [await upstream.fetch_user(request.app["http"], user_id) for user_id in ids]  # expect: RT-07
    return web.json_response(found)


@routes.post("/users/lookup")
async def users_lookup(request: web.Request) -> web.Response:
    payload = await request.json()  # ok: RT-05
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(upstream.fetch_user(request.app["http"], uid)) for uid in payload["ids"]]  # ok: RT-07
    return web.json_response([task.result() for task in tasks])


@routes.get("/status")
async def status(request: web.Request) -> web.Response:
    http: aiohttp.ClientSession = request.app["http"]
    statuses = {}
    for name, url in upstream.BACKENDS.items():
        async with http.get(url) as resp:  # expect: RT-07
            statuses[name] = resp.status
    return web.json_response(statuses)


@routes.get("/page-title")
async def page_title(request: web.Request) -> web.Response:
    url = f"{upstream.LEGACY_URL}/pages?{urlencode({'id': request.query['id']})}"  # ok: RT-01
    async with request.app["http"].get(url) as resp:
        html = await resp.text()
    soup = BeautifulSoup(html, "html.parser")  # expect: RT-05
    return web.json_response({"title": soup.title.string if soup.title else None})


@routes.get("/page-summary")
async def page_summary(request: web.Request) -> web.Response:
    async with request.app["http"].get(f"{upstream.LEGACY_URL}/pages/{request.query['id']}") as resp:
        html = await resp.text()
    return web.json_response(await asyncio.to_thread(transform.html_summary, html))  # ok: RT-05


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    async with aiofiles.open(STATIC / request.match_info["name"], "rb") as fh:  # ok: RT-01
        return web.Response(body=await fh.read())


@routes.get("/static-legacy/{name}")
async def static_file_legacy(request: web.Request) -> web.Response:
    reader = (STATIC / request.match_info["name"]).read_bytes
    return web.Response(body=reader())  # expect: RT-01


@routes.post("/reports/{name}")
async def render_report(request: web.Request) -> web.Response:
    proc = await asyncio.create_subprocess_exec(  # ok: RT-01
        "/usr/local/bin/render-report", request.match_info["name"], stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return web.Response(body=out, content_type="application/pdf")
