"""Job results, stored through psycopg2 (shared with the sync admin tools)."""
import json
import os

import psycopg2

DSN = os.environ.get("WORKER_DSN", "dbname=worker user=worker")


def _connect():
    return psycopg2.connect(DSN, connect_timeout=5)


def save_result(job_id: str, result: dict) -> None:
    conn = _connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE jobs SET status = 'done', result = %s WHERE id = %s", (json.dumps(result), job_id))
    finally:
        conn.close()


def mark_failed(job_id: str, error: str) -> None:
    conn = _connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE jobs SET status = 'failed', error = %s WHERE id = %s", (error[:500], job_id))
    finally:
        conn.close()
