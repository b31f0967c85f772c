"""Administration: publishing, tags, comment moderation."""
from datetime import datetime, timezone

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from blog.extensions import db
from blog.models import Comment, Post, SiteSetting, Tag
from blog.services import notifications

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.post("/posts/<int:post_id>/publish")
@login_required
def publish(post_id: int):
    post = db.session.get(Post, post_id)  # ok: QE-01
    if post is None or post.author_id != current_user.id:
        abort(404)
    post.published = True
    post.published_at = datetime.now(timezone.utc)
    db.session.commit()
    queued = notifications.notify_subscribers(post.id)  # expect: QE-03 ok: QE-01
    return jsonify(published=True, notified=queued)


@bp.post("/posts/<int:post_id>/notify-commenters")
@login_required
def notify_commenters(post_id: int):
    post = db.session.get(Post, post_id)  # ok: QE-01
    if post is None or post.author_id != current_user.id:
        abort(404)
    sent = notifications.notify_comment_authors(post)  # ok: QE-01
    return jsonify(notified=sent)


@bp.post("/posts/<int:post_id>/tags")
@login_required
def set_tags(post_id: int):
    post = db.session.get(Post, post_id)  # ok: QE-01
    if post is None:
        abort(404)
    names = {n.strip().lower() for n in request.get_json().get("tags", []) if n.strip()}
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in sorted(names - existing.keys()):
        tag = Tag(name=name)
        db.session.add(tag)  # expect: QE-05
        existing[name] = tag
    post.tags = list(existing.values())
    db.session.commit()
    return jsonify(tags=sorted(existing))


@bp.post("/settings/defaults")
@login_required
def default_settings():
    for key, value in (("site_title", "Notes"), ("posts_per_page", "10"), ("comments_open", "true")):
        db.session.add(SiteSetting(key=key, value=value))  # ok: QE-05
    db.session.commit()
    return jsonify(ok=True)


@bp.post("/comments/approve")
@login_required
def approve_comments():
    ids = [int(i) for i in request.get_json().get("ids", [])]
    for comment_id in ids:
        db.session.query(Comment).filter(Comment.id == comment_id).update({"approved": True}, synchronize_session=False)  # expect: QE-02
    db.session.commit()
    return jsonify(approved=len(ids))


@bp.post("/comments/reject")
@login_required
def reject_comments():
    ids = [int(i) for i in request.get_json().get("ids", [])]
    removed = db.session.query(Comment).filter(Comment.id.in_(ids)).delete(synchronize_session=False)  # ok: QE-02
    db.session.commit()
    return jsonify(removed=removed)


@bp.post("/comments/purge")
@login_required
def purge_comments():
    for status in ("spam", "trash"):
        db.session.query(Comment).filter(Comment.status == status).delete(synchronize_session=False)  # expect: QE-02
    db.session.commit()
    return jsonify(ok=True)


@bp.get("/stats")
@login_required
def admin_stats():
    return jsonify(
        pending=db.session.query(Comment).filter(Comment.approved.is_(False)).count(),  # ok: QE-08
        published=db.session.query(Post).filter(Post.published.is_(True)).count(),  # ok: QE-08
    )
