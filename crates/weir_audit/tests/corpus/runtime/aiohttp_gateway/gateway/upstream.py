"""Calls to the backend services."""
import asyncio

import aiohttp

LEGACY_URL = "http://legacy.internal:8080"
USERS_URL = "http://users.internal"
SEARCH_URL = "http://search.internal"
BACKENDS = {"legacy": f"{LEGACY_URL}/health", "users": f"{USERS_URL}/health", "search": f"{SEARCH_URL}/health"}


async def fetch_user(http: aiohttp.ClientSession, user_id: int) -> dict:
    async with http.get(f"{USERS_URL}/users/{user_id}") as resp:
        resp.raise_for_status()
        return await resp.json()


async def fetch_item(http: aiohttp.ClientSession, item_id: str) -> dict:
    resp = await http.get(f"{LEGACY_URL}/items/{item_id}")
    resp.raise_for_status()
    return await resp.json()


async def fetch_items(http: aiohttp.ClientSession, ids: list[str]) -> list[dict]:
    return await asyncio.gather(*(fetch_item(http, item_id) for item_id in ids))  # ok: RT-07


async def search_all_pages(http: aiohttp.ClientSession, query: str) -> list[dict]:
    results: list[dict] = []
    page = 1
    for _ in range(50):
        resp = await http.get(f"{SEARCH_URL}/search", params={"q": query, "page": page})  # ok: RT-07
        data = await resp.json()
        results.extend(data["hits"])
        if not data.get("next_page"):
            break
        page = data["next_page"]
    return results


async def fetch_with_retry(http: aiohttp.ClientSession, url: str, attempts: int = 3) -> bytes:
    for attempt in range(attempts):
        try:
            resp = await http.get(url)  # ok: RT-07
            resp.raise_for_status()
            return await resp.read()
        except aiohttp.ClientError:
            await asyncio.sleep(2**attempt)
    raise RuntimeError(f"{url} unavailable")


async def notify_subscribers(http: aiohttp.ClientSession, subscribers: list[str], event: dict) -> int:
    failures = 0
    for url in subscribers:
        resp = await http.post(url, json=event)  # expect: RT-07
        failures += resp.status >= 400
    return failures
