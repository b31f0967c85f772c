"""Engine, session factory and the request-scoped session dependency."""
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import settings

engine = create_engine(settings.database_url, pool_size=10, max_overflow=5, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    db = SessionLocal()  # expect: RL-05
    yield db
    db.close()


def get_db_safe() -> Iterator[Session]:
    db = SessionLocal()  # ok: RL-05, RL-03
    try:
        yield db
    finally:
        db.close()


def get_readonly_db() -> Iterator[Session]:
    with SessionLocal() as db:  # ok: RL-05, RL-03
        yield db
