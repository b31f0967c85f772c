"""Pushes balances to the notification service."""
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account


async def push_balance(session: AsyncSession, account_id: int) -> None:
    account = await session.get(Account, account_id)
    async with httpx.AsyncClient() as client:
        await client.post("https://notify.internal/balance", json={"id": account.id, "balance": account.balance})
