from app.api.routes import ops_router, router

__all__ = ["ops_router", "router"]
