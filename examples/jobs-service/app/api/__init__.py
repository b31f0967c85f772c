from app.api.admin import admin_router
from app.api.routes import ops_router, router

__all__ = ["admin_router", "ops_router", "router"]
