"""Queries shared by views and services (legacy Query API)."""
from sqlalchemy import exists, func, select

from blog.extensions import db
from blog.models import Comment, Post, Subscription


def comment_count(post_id: int) -> int:
    return db.session.query(func.count(Comment.id)).filter(Comment.post_id == post_id, Comment.approved.is_(True)).scalar()


def comment_counts(post_ids: list[int]) -> dict[int, int]:
    rows = (
        db.session.query(Comment.post_id, func.count(Comment.id))
        .filter(Comment.post_id.in_(post_ids), Comment.approved.is_(True))
        .group_by(Comment.post_id)
        .all()
    )
    return dict(rows)


def subscriber_count(author_id: int) -> int:
    return db.session.query(func.count(Subscription.id)).filter(Subscription.author_id == author_id).scalar()


def has_pending_comments(user_id: int) -> bool:
    return db.session.query(Comment).filter(Comment.author_id == user_id, Comment.approved.is_(False)).count() > 0  # expect: QE-08


def pending_comment_total() -> int:
    return len(db.session.query(Comment).filter(Comment.approved.is_(False)).all())  # expect: QE-08


def published_post_total(author_id: int) -> int:
    return len(db.session.scalars(select(Post).where(Post.author_id == author_id, Post.published.is_(True))).all())  # expect: QE-08


def is_subscribed(user_id: int, author_id: int) -> bool:
    stmt = exists().where(Subscription.user_id == user_id, Subscription.author_id == author_id)
    return db.session.query(stmt).scalar()  # ok: QE-08


def draft_count(author_id: int) -> int:
    return db.session.query(Post).filter(Post.author_id == author_id, Post.published.is_(False)).count()  # ok: QE-08
