"""ASGI application."""
from fastapi import FastAPI

from app.api import admin, catalog, customers, orders

app = FastAPI(title="shop")
app.include_router(catalog.router)
app.include_router(orders.router)
app.include_router(customers.router)
app.include_router(admin.router)
