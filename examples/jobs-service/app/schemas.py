from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobKind = Literal["import", "reindex", "checksum"]


class JobCreate(BaseModel):
    kind: JobKind
    payload_path: str | None = None
    items: list[str] = Field(default_factory=list, max_length=10_000)


class ItemsAppend(BaseModel):
    names: list[str] = Field(min_length=1, max_length=10_000)


class JobIds(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=500)


class JobItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: str


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    progress: int
    payload_path: str | None
    result: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class JobWithItems(JobOut):
    items: list[JobItemOut]


class JobStats(BaseModel):
    queued: int
    running: int


class JobProgress(BaseModel):
    job_id: int
    progress: int | None
