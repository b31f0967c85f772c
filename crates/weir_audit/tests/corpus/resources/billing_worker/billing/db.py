"""Engines of the billing worker (no web framework: pool sizing gaps do not apply)."""
from sqlalchemy import create_engine

from billing.settings import DATABASE_URL

engine = create_engine(DATABASE_URL, pool_size=4, max_overflow=2)  # expect: RL-04
audit_engine = create_engine(DATABASE_URL, pool_size=2, pool_pre_ping=True)  # ok: RL-04
scratch_engine = create_engine("sqlite:///./scratch.db")  # ok: RL-04
