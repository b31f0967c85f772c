"""Server-sent events for the operations dashboard: LISTEN billing_progress."""
import os

import psycopg
from flask import Blueprint, Response

bp = Blueprint("progress", __name__)

DSN = os.environ.get("BILLING_DSN", "postgresql://billing@db/billing")


@bp.get("/runs/progress")
def run_progress():
    def stream():
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute("LISTEN billing_progress")  # ok: TX-06
            for notify in conn.notifies():
                yield f"data: {notify.payload}\n\n"

    return Response(stream(), mimetype="text/event-stream")
