"""Engine and session factory for the billing service."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.environ.get("BILLING_DATABASE_URL", "postgresql+psycopg://billing@db/billing")

engine = create_engine(DATABASE_URL, pool_size=10, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
