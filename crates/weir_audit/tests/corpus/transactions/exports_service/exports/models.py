from sqlalchemy import BigInteger, SmallInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Export(Base):
    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)


class Row(Base):
    __tablename__ = "export_rows"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    export_id: Mapped[int]
    body: Mapped[str]
