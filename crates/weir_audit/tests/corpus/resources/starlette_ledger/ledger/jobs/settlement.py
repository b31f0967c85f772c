"""Nightly settlement (asyncpg pool) and the statement export (psycopg2)."""
import asyncpg
import psycopg2

from ledger.settings import DATABASE_DSN


async def settle_day(pool: asyncpg.Pool, day: str) -> int:
    conn = await pool.acquire()  # expect: RL-05
    rows = await conn.fetch("SELECT account_id, sum(amount) FROM entries WHERE day = $1 GROUP BY 1", day)
    await conn.executemany("INSERT INTO settlements (account_id, amount, day) VALUES ($1, $2, $3)", [(r[0], r[1], day) for r in rows])
    await pool.release(conn)
    return len(rows)


async def settle_day_safe(pool: asyncpg.Pool, day: str) -> int:
    async with pool.acquire() as conn:  # ok: RL-05, RL-03
        rows = await conn.fetch("SELECT account_id FROM entries WHERE day = $1", day)
    return len(rows)


async def close_day(pool: asyncpg.Pool, day: str) -> None:
    conn = await pool.acquire()  # ok: RL-05, RL-03
    try:
        await conn.execute("UPDATE days SET closed = true WHERE day = $1", day)
    finally:
        await pool.release(conn)


async def reopen_day(day: str) -> None:
    conn = await asyncpg.connect(DATABASE_DSN)  # expect: RL-03
    await conn.execute("UPDATE days SET closed = false WHERE day = $1", day)


def export_statement(account_id: int) -> list[tuple]:
    conn = psycopg2.connect(DATABASE_DSN)  # expect: RL-05
    cur = conn.cursor()  # expect: RL-03
    cur.execute("SELECT id, amount, day FROM entries WHERE account_id = %s ORDER BY day", (account_id,))
    rows = cur.fetchall()
    if not rows:
        return []
    conn.close()
    return rows


def export_statement_safe(account_id: int) -> list[tuple]:
    conn = psycopg2.connect(DATABASE_DSN)  # ok: RL-05, RL-03
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, amount, day FROM entries WHERE account_id = %s", (account_id,))
            return cur.fetchall()
    finally:
        conn.close()
