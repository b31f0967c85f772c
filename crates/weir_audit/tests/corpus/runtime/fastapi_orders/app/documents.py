"""Invoices and report text: rendering helpers (sync)."""
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from app.db import Order

WKHTMLTOPDF = "/usr/bin/wkhtmltopdf"


def html_to_pdf(html: str, target: Path) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as fh:
        fh.write(html)
    subprocess.run([WKHTMLTOPDF, "--quiet", fh.name, str(target)], check=True, timeout=60)
    Path(fh.name).unlink()


def invoice_html(order: Order) -> str:
    rows = "".join(f"<tr><td>{l.sku}</td><td>{l.quantity}</td><td>{l.total}</td></tr>" for l in order.lines)
    return f"<html><body><h1>Invoice {order.id}</h1><table>{rows}</table></body></html>"


def order_text(order: Order) -> str:
    text = f"Order {order.id} ({order.status})\n"
    for line in order.lines:
        text += f"  {line.quantity} x {line.sku}: {line.total}\n"  # expect: RT-04
    text += f"Total: {order.total}\n"  # ok: RT-04
    return text


def packing_slip(order: Order) -> str:
    slip = str(order.id)
    parcels = 0
    for line in order.lines:
        slip += "\n" + line.sku + " x" + str(line.quantity)  # expect: RT-04
        parcels += line.quantity // 10 + 1  # ok: RT-04
    return slip + f"\nparcels: {parcels}"


def orders_digest(orders: list[Order]) -> str:
    lines = [f"{len(orders)} orders"]
    revenue = Decimal("0")
    for order in orders:
        lines.append(f"{order.id}: {order.total}")
        revenue += order.total  # ok: RT-04
    lines.append(f"revenue {revenue}")
    return "\n".join(lines)


def summary(orders: list[Order]) -> dict:
    return {
        "count": len(orders),
        "paid": len([o for o in orders if o.status == "paid"]),  # expect: RT-02
        "has_open": any([o.status == "open" for o in orders]),  # expect: RT-02
        "all_shipped": all(o.tracking_number for o in orders),  # ok: RT-02
        "countries": ", ".join(sorted({o.country for o in orders})),  # ok: RT-02
        "skus": ", ".join([l.sku for o in orders for l in o.lines]),  # expect: RT-02
    }


def top_customers(totals: dict[int, Decimal], limit: int = 10) -> list[int]:
    ranking = dict(totals)  # expect: RT-06
    ordered = sorted(ranking.items(), key=lambda item: item[1], reverse=True)
    return [customer for customer, _ in ordered[:limit]]


def country_breakdown(counts: dict[str, int]) -> list[str]:
    snapshot = counts.copy()  # expect: RT-06
    return [f"{country}: {n}" for country, n in sorted(snapshot.items())]


def with_all_countries(counts: dict[str, int], countries: list[str]) -> dict[str, int]:
    result = dict(counts)  # ok: RT-06
    for country in countries:
        result.setdefault(country, 0)
    return result


def export_rows(orders: list[Order]) -> list[list[str]]:
    rows = list(orders)  # ok: RT-06
    rows.sort(key=lambda o: o.id)
    return [[str(o.id), o.status, o.country, str(o.total)] for o in rows]
