"""Order endpoints."""
import httpx
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import SessionLocal, get_db, get_db_safe
from app.models import Order, OrderLine
from app.services.mailer import send_receipt, send_receipt_for
from app.services.exports import export_lines

router = APIRouter(prefix="/orders")


@router.get("/{order_id}")
def get_order(order_id: int, db: Session = Depends(get_db_safe)) -> dict:
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(404, "order not found")
    return {"id": order.id, "total": order.total}


@router.post("/{order_id}/pay")
def pay(order_id: int, tasks: BackgroundTasks, db: Session = Depends(get_db_safe)) -> dict:
    order = db.get(Order, order_id)
    order.status = "paid"
    db.commit()
    tasks.add_task(send_receipt, db, order.id)  # expect: RL-06
    return {"status": "paid"}


@router.post("/{order_id}/resend")
def resend(order_id: int, tasks: BackgroundTasks, db: Session = Depends(get_db_safe)) -> dict:
    order = db.get(Order, order_id)
    tasks.add_task(send_receipt_for, order.id)  # ok: RL-06
    return {"status": "queued"}


@router.get("/export.csv")
def export_orders(db: Session = Depends(get_db_safe)) -> StreamingResponse:
    def rows():
        yield "id,total\n"
        for order in db.scalars(select(Order).execution_options(yield_per=500)):
            yield f"{order.id},{order.total}\n"

    return StreamingResponse(rows(), media_type="text/csv")  # expect: RL-02


@router.get("/{order_id}/lines.csv")
def export_order_lines(order_id: int, db: Session = Depends(get_db_safe)) -> StreamingResponse:
    return StreamingResponse(export_lines(db, order_id), media_type="text/csv")  # expect: RL-02


@router.get("/export-safe.csv")
def export_orders_safe() -> StreamingResponse:
    def rows():
        yield "id,total\n"
        with SessionLocal() as session:  # ok: RL-03, RL-05
            for order in session.scalars(select(Order).execution_options(yield_per=500)):
                yield f"{order.id},{order.total}\n"

    return StreamingResponse(rows(), media_type="text/csv")  # ok: RL-02


@router.get("/summary.csv")
def summary_csv(db: Session = Depends(get_db_safe)) -> StreamingResponse:
    totals = db.execute(select(OrderLine.sku, OrderLine.qty)).all()
    body = "".join(f"{sku},{qty}\n" for sku, qty in totals)
    return StreamingResponse(iter([body]), media_type="text/csv")  # ok: RL-02


@router.get("/health")
def health() -> dict:
    session = SessionLocal()  # expect: RL-03
    session.execute(select(1))
    return {"ok": True}


@router.delete("/{order_id}")
def cancel(order_id: int) -> dict:
    session = SessionLocal()  # expect: RL-05 ok: RL-03
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(404, "order not found")
    order.status = "cancelled"
    session.commit()
    session.close()
    return {"status": "cancelled"}


@router.post("/{order_id}/archive")
def archive(order_id: int) -> dict:
    session = SessionLocal()  # ok: RL-05, RL-03
    try:
        order = session.get(Order, order_id)
        order.status = "archived"
        session.commit()
    finally:
        session.close()
    return {"status": "archived"}


@router.post("/{order_id}/fulfil")
def fulfil(order_id: int, db: Session = Depends(get_db_safe)) -> dict:  # expect: RL-01
    order = db.get(Order, order_id)
    items = [{"sku": line.sku, "qty": line.qty} for line in order.lines]
    request = {"order": order_id, "items": items, "priority": "normal"}
    request["warehouse"] = "main"
    request["gift"] = False
    warehouse = httpx.post("https://wms.internal/fulfil", json=request, timeout=30)
    ticket = warehouse.json()["ticket"]
    httpx.post("https://mail.internal/send", json={"ticket": ticket}, timeout=10)
    result = {"order": order_id, "ticket": ticket}
    result["status"] = "fulfilling"
    return result


@router.post("/{order_id}/touch")
def touch(order_id: int, db: Session = Depends(get_db_safe)) -> dict:  # ok: RL-01
    order = db.get(Order, order_id)
    order.touched = True
    db.commit()
    httpx.post("https://audit.internal/touch", json={"order": order_id}, timeout=5)
    return {"ok": True}
