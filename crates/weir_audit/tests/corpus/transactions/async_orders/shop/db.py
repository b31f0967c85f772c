from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://shop@db/shop", pool_pre_ping=True, pool_recycle=1800)

Session = async_sessionmaker(engine)
