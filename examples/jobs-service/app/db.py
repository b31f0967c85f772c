"""Database engines and session factories.

The API and the worker use the async engine; reports and maintenance
scripts run from cron use the sync (psycopg2) engine.
"""
from collections.abc import AsyncIterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from app.config import settings

engine = create_async_engine(settings.database_url, pool_size=10)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request, closed when the response is sent."""
    async with SessionLocal() as session:
        yield session


sync_engine = create_engine(settings.sync_database_url, pool_pre_ping=True, pool_recycle=1800)
SyncSession = sessionmaker(sync_engine)
