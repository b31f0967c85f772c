"""Site settings, navigation data and author cards."""
from functools import cache, lru_cache
from pathlib import Path

from cachetools import TTLCache, cached
from sqlalchemy import func
from sqlalchemy.orm import Session

from blog.extensions import db
from blog.models import SiteSetting, Tag, User, post_tags

THEMES_DIR = Path(__file__).resolve().parent.parent / "static" / "themes"
_AUTHORS: dict[str, User] = {}
_AUTHOR_NAMES: dict[int, str] = {}


@lru_cache(maxsize=64)
def setting(session: Session, key: str) -> SiteSetting | None:  # expect: QE-06
    return session.query(SiteSetting).filter(SiteSetting.key == key).one_or_none()


@cached(cache=TTLCache(maxsize=1, ttl=600))
def tag_cloud(session: Session) -> list[tuple[str, int]]:  # expect: QE-06
    uses = func.count(post_tags.c.post_id)
    return (
        session.query(Tag.name, uses)
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .group_by(Tag.name)
        .order_by(uses.desc())
        .limit(30)
        .all()
    )


@lru_cache(maxsize=1)
def theme_names() -> tuple[str, ...]:  # ok: QE-06
    return tuple(sorted(p.stem for p in THEMES_DIR.glob("*.css")))


@cache
def tag_names() -> list[str]:  # ok: QE-06
    with Session(db.engine) as session:
        return [name for (name,) in session.query(Tag.name).order_by(Tag.name)]


def author_card(username: str) -> User | None:
    if username not in _AUTHORS:
        _AUTHORS[username] = db.session.query(User).filter(User.username == username, User.is_author.is_(True)).first()  # expect: QE-06
    return _AUTHORS[username]


def author_name(author_id: int) -> str:
    if author_id not in _AUTHOR_NAMES:
        _AUTHOR_NAMES[author_id] = db.session.query(User.display_name).filter(User.id == author_id).scalar()  # ok: QE-06
    return _AUTHOR_NAMES[author_id]
