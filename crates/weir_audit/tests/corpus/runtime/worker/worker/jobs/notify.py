"""Follower notifications: push messages and e-mail digests."""
import asyncio
import logging

import asyncpg
import httpx

from worker import retry, store

log = logging.getLogger("worker.notify")
PUSH_URL = "https://push.example.com/v1/send"
MAIL_URL = "https://mail.example.com/v3/messages"


async def send_push(client: httpx.AsyncClient, token: str, text: str) -> bool:
    resp = await client.post(PUSH_URL, json={"to": token, "text": text})
    return resp.is_success


async def send_mail(client: httpx.AsyncClient, address: str, subject: str, body: str) -> None:
    for attempt in range(3):
        resp = await client.post(MAIL_URL, json={"to": address, "subject": subject, "text": body})  # ok: RT-07
        if resp.is_success:
            return
        retry.backoff(attempt)  # expect: RT-03
    raise RuntimeError(f"mail to {address} failed")


async def send_mail_async_backoff(client: httpx.AsyncClient, address: str, subject: str, body: str) -> None:
    for attempt in range(3):
        resp = await client.post(MAIL_URL, json={"to": address, "subject": subject, "text": body})  # ok: RT-07
        if resp.is_success:
            return
        await asyncio.sleep(retry.jitter(2**attempt))  # ok: RT-03
    raise RuntimeError(f"mail to {address} failed")


async def notify_followers(job_id: str, payload: dict) -> None:
    followers = payload["followers"]
    async with httpx.AsyncClient(timeout=10) as client:
        for follower in followers:
            await send_push(client, follower["push_token"], payload["text"])  # expect: RT-07
    await asyncio.to_thread(store.save_result, job_id, {"notified": len(followers)})  # ok: RT-01


async def notify_followers_concurrently(job_id: str, payload: dict) -> None:
    tokens = [follower["push_token"] for follower in payload["followers"]]
    async with httpx.AsyncClient(timeout=10) as client:
        results = await asyncio.gather(*(send_push(client, token, payload["text"]) for token in tokens))  # ok: RT-07
    store.save_result(job_id, {"notified": sum(results)})  # expect: RT-01


async def mail_digest(job_id: str, payload: dict) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for address in payload["addresses"]:
            await send_mail_async_backoff(client, address, payload["subject"], payload["body"])  # expect: RT-07
    await asyncio.to_thread(store.save_result, job_id, {"sent": len(payload["addresses"])})


async def drip_campaign(job_id: str, payload: dict) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for address in payload["addresses"]:
            await send_mail_async_backoff(client, address, payload["subject"], payload["body"])  # ok: RT-07
            await asyncio.sleep(payload.get("interval", 2.0))  # ok: RT-03


async def record_deliveries(pool: asyncpg.Pool, job_id: str, followers: list[dict]) -> None:
    async with pool.acquire() as conn:
        for follower in followers:
            await conn.execute("INSERT INTO deliveries (job_id, follower_id) VALUES ($1, $2)", job_id, follower["id"])  # ok: RT-07
