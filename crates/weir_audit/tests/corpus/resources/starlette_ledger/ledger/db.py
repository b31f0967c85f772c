"""Async SQLAlchemy for the API, an asyncpg pool for bulk work."""
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from ledger.settings import DATABASE_URL

engine = create_async_engine(DATABASE_URL, pool_size=20, max_overflow=10, pool_pre_ping=True)
Session = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    session = Session()  # expect: RL-05
    yield session
    await session.close()


async def session_scope() -> AsyncIterator[AsyncSession]:
    async with Session() as session:  # ok: RL-05, RL-03
        yield session
