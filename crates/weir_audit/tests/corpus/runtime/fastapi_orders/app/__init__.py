"""Order service: FastAPI, async SQLAlchemy, httpx."""
