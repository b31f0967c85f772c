"""Database access: models, the async engine, and the legacy SKU map (sqlite)."""
import os
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine(
    os.environ.get("DATABASE_URL", "postgresql+asyncpg://orders@localhost/orders"),
    pool_size=10,
    max_overflow=5,
    pool_pre_ping=True,
    pool_recycle=1800,
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
LEGACY_DB = os.environ.get("LEGACY_DB", "/var/lib/orders/legacy.sqlite3")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    country: Mapped[str] = mapped_column(String(2))
    weight_grams: Mapped[int] = mapped_column(default=0)
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    lines: Mapped[list["OrderLine"]] = relationship(lazy="selectin")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sku: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


def legacy_sku_map() -> dict[str, str]:
    conn = sqlite3.connect(LEGACY_DB)
    try:
        return {old: new for old, new in conn.execute("SELECT old_sku, new_sku FROM sku_map")}
    finally:
        conn.close()


def legacy_sku(old_sku: str) -> str | None:
    with sqlite3.connect(LEGACY_DB) as conn:
        row = conn.execute("SELECT new_sku FROM sku_map WHERE old_sku = ?", (old_sku,)).fetchone()
    return row[0] if row else None
