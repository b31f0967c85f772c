"""HTTP API: orders and users."""
import asyncio
import functools
from pathlib import Path

import anyio
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app import services
from app.db import Order, OrderLine, User, get_session, legacy_sku
from app.documents import export_rows, order_text, summary
from app.files import append_line, write_csv
from app.security import hash_password, new_api_token, verify_password

router = APIRouter()


class LineIn(BaseModel):
    sku: str
    quantity: int


class OrderIn(BaseModel):
    customer_id: int
    country: str
    lines: list[LineIn]


class SignupIn(BaseModel):
    email: str
    password: str


async def _get_order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id)  # ok: RT-01
    if order is None:
        raise HTTPException(status_code=404)
    return order


@router.post("/orders")
async def create_order(payload: OrderIn, session: AsyncSession = Depends(get_session)) -> dict:
    skus = [legacy_sku(line.sku) or line.sku for line in payload.lines]  # expect: RT-01
    order = Order(customer_id=payload.customer_id, country=payload.country)
    order.lines = [OrderLine(sku=sku, quantity=line.quantity, total=0) for sku, line in zip(skus, payload.lines)]
    session.add(order)
    await session.commit()  # ok: RT-01
    return {"id": order.id}


@router.get("/orders/{order_id}/tracking")
async def tracking(order_id: int, session: AsyncSession = Depends(get_session)) -> dict:
    order = await _get_order(session, order_id)
    return {"status": services.tracking_status(order.tracking_number)}  # expect: RT-01  (its sleep is evidence of the same finding)


@router.get("/orders/{order_id}/tracking/threaded")
async def tracking_threaded(order_id: int, session: AsyncSession = Depends(get_session)) -> dict:
    order = await _get_order(session, order_id)
    status = await anyio.to_thread.run_sync(services.tracking_status, order.tracking_number)  # ok: RT-01, RT-03
    return {"status": status}


@router.get("/tracking/{number}")
def tracking_by_number(number: str) -> dict:
    return {"status": services.tracking_status(number)}  # ok: RT-01, RT-03


@router.post("/orders/{order_id}/invoice")
async def create_invoice(order_id: int, request: Request, session: AsyncSession = Depends(get_session)) -> dict:
    order = await _get_order(session, order_id)
    path = services.write_invoice(order, request.app.state.settings.invoice_dir)  # expect: RT-01
    return {"invoice": str(path)}


@router.post("/orders/{order_id}/invoice/threaded")
async def create_invoice_threaded(order_id: int, request: Request, session: AsyncSession = Depends(get_session)) -> dict:
    order = await _get_order(session, order_id)
    invoice_dir = request.app.state.settings.invoice_dir
    path = await run_in_threadpool(services.write_invoice, order, invoice_dir)  # ok: RT-01
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(append_line, Path(invoice_dir) / "index.txt", path.name))  # ok: RT-01
    return {"invoice": str(path), "text": order_text(order)}  # ok: RT-01


@router.post("/orders/export")
async def export_orders(request: Request, background: BackgroundTasks, session: AsyncSession = Depends(get_session)) -> dict:
    orders = list((await session.scalars(select(Order).limit(1000))).all())
    target = Path(request.app.state.settings.export_dir) / "orders.csv"
    background.add_task(write_csv, target, ["id", "status", "country", "total"], export_rows(orders))  # ok: RT-01
    return {"summary": summary(orders), "file": target.name}


@router.get("/orders/export/{name}")
def download_export(name: str, request: Request) -> dict:
    target = Path(request.app.state.settings.export_dir) / name
    return {"csv": target.read_text(encoding="utf-8")}  # ok: RT-01


@router.post("/users")
async def signup(payload: SignupIn, session: AsyncSession = Depends(get_session)) -> dict:
    user = User(email=payload.email, password_hash=hash_password(payload.password))  # expect: RT-05
    session.add(user)
    await session.commit()
    token, _ = new_api_token()  # ok: RT-05
    return {"id": user.id, "token": token}


@router.post("/token")
async def login(form: OAuth2PasswordRequestForm = Depends(), session: AsyncSession = Depends(get_session)) -> dict:
    user = (await session.scalars(select(User).where(User.email == form.username))).first()
    if user is None or not verify_password(form.password, user.password_hash):  # expect: RT-05
        raise HTTPException(status_code=401)
    return {"access_token": new_api_token()[0]}  # ok: RT-05


@router.post("/token/v2")
async def login_v2(form: OAuth2PasswordRequestForm = Depends(), session: AsyncSession = Depends(get_session)) -> dict:
    user = (await session.scalars(select(User).where(User.email == form.username))).first()
    if user is None or not await run_in_threadpool(verify_password, form.password, user.password_hash):  # ok: RT-05
        raise HTTPException(status_code=401)
    return {"access_token": new_api_token()[0]}


@router.put("/users/{user_id}/password")
async def change_password(user_id: int, payload: SignupIn, session: AsyncSession = Depends(get_session)) -> dict:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    user.password_hash = await asyncio.to_thread(lambda: hash_password(payload.password))  # ok: RT-05
    await session.commit()
    return {"ok": True}
