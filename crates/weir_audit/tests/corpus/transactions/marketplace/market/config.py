from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str = "postgresql+asyncpg://market@localhost/market"
    listen_dsn: str = "postgresql://market@localhost/market"
    redis_url: str = "redis://localhost:6379/2"
    search_channel: str = "search.reindex"


settings = Settings()
