"""Partner report job: fetch statements, reconcile, store a signed CSV."""
import asyncio
import hashlib
import json
import os

import httpx
from lxml import etree

from worker import store

STATEMENTS_URL = "https://partners.example.com/api/statements"
SIGNING_SALT = os.environ.get("REPORT_SALT", "dev-salt").encode()


def statement_rows(tree: etree._Element) -> list[dict]:
    return [
        {"ref": node.get("ref"), "amount": int(node.get("cents")), "currency": node.get("currency")}
        for node in tree.iter("line")
    ]


def render_csv(rows: list[dict]) -> str:
    out = "ref,amount,currency\n"
    for row in rows:
        out += f"{row['ref']},{row['amount']},{row['currency']}\n"  # expect: RT-04
    return out


def summary_line(totals: dict[str, int]) -> str:
    line = ""
    for currency, cents in sorted(totals.items()):
        line += f"{currency} {cents / 100:.2f}; "  # expect: RT-04
    return line.rstrip("; ")


def totals_by_currency(rows: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    count = 0
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], 0) + row["amount"]
        count += 1  # ok: RT-04
    return totals


def mismatches(ours: dict[str, int], theirs: dict[str, int]) -> list[str]:
    expected = dict(ours)  # expect: RT-06
    return sorted(ref for ref, cents in theirs.items() if expected.get(ref) != cents)


def unmatched(ours: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    remaining = dict(ours)  # ok: RT-06
    for ref, cents in theirs.items():
        if remaining.get(ref) == cents:
            del remaining[ref]
    return remaining


def unknown_refs(rows: list[dict], known: set[str]) -> list[str]:
    lookup = set(known)  # expect: RT-06
    return [row["ref"] for row in rows if row["ref"] not in lookup]


def currencies(rows: list[dict]) -> frozenset[str]:
    return frozenset([row["currency"] for row in rows])  # expect: RT-02


def refs_line(rows: list[dict]) -> str:
    return ";".join([row["ref"] for row in rows])  # expect: RT-02


def largest(rows: list[dict]) -> int:
    return max(row["amount"] for row in rows)  # ok: RT-02


def negative_total(rows: list[dict]) -> int:
    return sum(row["amount"] for row in rows if row["amount"] < 0)  # ok: RT-02


def in_batches(rows: list[dict], size: int = 100) -> list[list[dict]]:
    pending = list(rows)  # ok: RT-06
    batches = []
    while pending:
        batches.append(pending[:size])
        del pending[:size]
    return batches


async def fetch_statements(client: httpx.AsyncClient, partners: list[str], month: str) -> dict[str, bytes]:
    statements = {}
    for partner in partners:
        resp = await client.get(f"{STATEMENTS_URL}/{partner}", params={"month": month})  # expect: RT-07
        statements[partner] = resp.content
    return statements


async def partner_report(job_id: str, payload: dict) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(STATEMENTS_URL, params={"month": payload["month"]})
        raw = await resp.aread()
    rows = statement_rows(etree.fromstring(raw))  # expect: RT-05
    csv_text = render_csv(rows)
    signature = hashlib.pbkdf2_hmac("sha256", csv_text.encode(), SIGNING_SALT, 200_000).hex()  # expect: RT-05
    checksum = hashlib.sha256(csv_text.encode()).hexdigest()  # ok: RT-05
    result = {"rows": len(rows), "signature": signature, "sha256": checksum, "summary": summary_line(totals_by_currency(rows))}
    await asyncio.to_thread(store.save_result, job_id, result)


async def partner_report_offloaded(job_id: str, payload: dict) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(STATEMENTS_URL, params={"month": payload["month"]})
        raw = await resp.aread()
    tree = await asyncio.to_thread(etree.fromstring, raw)  # ok: RT-05
    csv_text = render_csv(statement_rows(tree))
    digest = await asyncio.to_thread(hashlib.pbkdf2_hmac, "sha256", csv_text.encode(), SIGNING_SALT, 200_000)  # ok: RT-05
    await asyncio.to_thread(store.save_result, job_id, {"signature": digest.hex()})


async def partner_balances(month: str) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(f"{STATEMENTS_URL}/balances", params={"month": month})
        body = await resp.aread()
    return json.loads(body)  # expect: RT-05
