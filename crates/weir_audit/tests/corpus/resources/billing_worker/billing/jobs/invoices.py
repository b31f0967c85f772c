"""Invoice runs over an asyncpg pool and psycopg2 connections."""
import asyncpg
import psycopg2

from billing.settings import DATABASE_DSN


async def issue_invoices(pool: asyncpg.Pool, period: str) -> int:
    conn = await pool.acquire()  # expect: RL-05
    rows = await conn.fetch("SELECT customer_id FROM subscriptions WHERE period = $1", period)
    await conn.executemany("INSERT INTO invoices (customer_id, period) VALUES ($1, $2)", [(r[0], period) for r in rows])
    await pool.release(conn)
    return len(rows)


async def issue_invoices_safe(pool: asyncpg.Pool, period: str) -> int:
    async with pool.acquire() as conn:  # ok: RL-05, RL-03
        rows = await conn.fetch("SELECT customer_id FROM subscriptions WHERE period = $1", period)
    return len(rows)


async def void_invoice(pool: asyncpg.Pool, invoice_id: int) -> None:
    conn = await pool.acquire()  # ok: RL-05, RL-03
    try:
        await conn.execute("UPDATE invoices SET void = true WHERE id = $1", invoice_id)
    finally:
        await pool.release(conn)


async def mark_paid(invoice_id: int) -> None:
    conn = await asyncpg.connect(DATABASE_DSN)  # expect: RL-03
    await conn.execute("UPDATE invoices SET paid = true WHERE id = $1", invoice_id)


async def mark_paid_safe(invoice_id: int) -> None:
    conn = await asyncpg.connect(DATABASE_DSN)  # ok: RL-03, RL-05
    try:
        await conn.execute("UPDATE invoices SET paid = true WHERE id = $1", invoice_id)
    finally:
        await conn.close()


def export_ledger(customer_id: int) -> list[tuple]:
    conn = psycopg2.connect(DATABASE_DSN)  # expect: RL-05
    cur = conn.cursor()  # expect: RL-03
    cur.execute("SELECT id, amount FROM invoices WHERE customer_id = %s", (customer_id,))
    rows = cur.fetchall()
    if not rows:
        return []
    conn.close()
    return rows


def export_ledger_safe(customer_id: int) -> list[tuple]:
    conn = psycopg2.connect(DATABASE_DSN)  # ok: RL-05, RL-03
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, amount FROM invoices WHERE customer_id = %s", (customer_id,))
            return cur.fetchall()
    finally:
        conn.close()

