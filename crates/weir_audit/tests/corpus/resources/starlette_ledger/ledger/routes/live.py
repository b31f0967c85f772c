"""Live balances over SSE and WebSockets."""
import asyncio
import json

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse

from ledger.db import Session, session_scope
from ledger.models import Account, Entry
from ledger.notify import push_balance

router = APIRouter()


@router.get("/accounts/{account_id}/events")
async def balance_events(account_id: int, session: AsyncSession = Depends(session_scope)):
    async def stream():
        while True:
            account = await session.get(Account, account_id)
            await session.refresh(account)
            yield {"event": "balance", "data": json.dumps({"balance": account.balance})}
            await asyncio.sleep(2)

    return EventSourceResponse(stream())  # expect: RL-02


@router.get("/accounts/{account_id}/events-safe")
async def balance_events_safe(account_id: int):
    async def stream():
        while True:
            async with Session() as session:  # ok: RL-03, RL-05
                account = await session.get(Account, account_id)
                balance = account.balance
            yield {"event": "balance", "data": json.dumps({"balance": balance})}
            await asyncio.sleep(2)

    return EventSourceResponse(stream())  # ok: RL-02


@router.websocket("/ws/accounts/{account_id}")
async def account_socket(
    websocket: WebSocket,
    account_id: int,
    session: AsyncSession = Depends(session_scope),  # expect: RL-02
):
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
            account = await session.get(Account, account_id)
            await websocket.send_json({"balance": account.balance})
    except WebSocketDisconnect:
        return


@router.websocket("/ws/entries")
async def entries_socket(websocket: WebSocket):
    await websocket.accept()
    while True:
        account_id = int(await websocket.receive_text())
        async with Session() as session:  # ok: RL-02, RL-03, RL-05
            rows = await session.scalars(select(Entry).where(Entry.account_id == account_id).limit(20))
            payload = [{"id": e.id, "amount": e.amount} for e in rows]
        await websocket.send_json(payload)


@router.post("/accounts/{account_id}/recompute")
async def recompute(account_id: int, session: AsyncSession = Depends(session_scope)):
    account = await session.get(Account, account_id)
    asyncio.create_task(push_balance(session, account.id))  # expect: RL-06
    return {"queued": True}


@router.post("/accounts/{account_id}/announce")
async def announce(account_id: int, session: AsyncSession = Depends(session_scope)):
    account = await session.get(Account, account_id)
    asyncio.create_task(push_balance_by_id(account.id))  # ok: RL-06
    return {"queued": True}


async def push_balance_by_id(account_id: int) -> None:
    async with Session() as session:  # ok: RL-03, RL-05
        await push_balance(session, account_id)
