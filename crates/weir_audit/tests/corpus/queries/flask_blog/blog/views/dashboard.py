"""Author dashboard and moderation queue."""
from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blog.extensions import db
from blog.models import Comment, Post
from blog.services import stats

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.route("/")
@login_required
def overview():
    posts = db.session.query(Post).filter(Post.author_id == current_user.id).order_by(Post.created_at.desc()).limit(50).all()  # ok: QE-09
    rows = []
    for post in posts:
        rows.append({"title": post.title, "published": post.published, "stats": stats.post_stats(post.id)})  # expect: QE-07
    return render_template("dashboard.html", rows=rows)


@bp.route("/compact")
@login_required
def overview_compact():
    posts = db.session.query(Post).filter(Post.author_id == current_user.id).order_by(Post.created_at.desc()).limit(50).all()  # ok: QE-09
    by_post = stats.stats_for_posts([p.id for p in posts])  # ok: QE-07
    return jsonify([{"title": p.title, **by_post[p.id]} for p in posts])  # ok: QE-07


@bp.route("/moderation")
@login_required
def moderation_queue():
    pending = db.session.query(Comment).filter(Comment.approved.is_(False), Comment.status == "visible").order_by(Comment.created_at).limit(100).all()  # ok: QE-09
    queue = []
    for comment in pending:
        queue.append({"id": comment.id, "post": comment.post.title, "body": comment.body[:200]})  # expect: QE-07
    return jsonify(queue)


@bp.route("/moderation/recent")
@login_required
def moderation_recent():
    stmt = select(Comment).where(Comment.approved.is_(False)).order_by(Comment.created_at.desc()).limit(100)
    stmt = stmt.options(joinedload(Comment.post), joinedload(Comment.author))
    queue = []
    for comment in db.session.scalars(stmt):  # ok: QE-09
        queue.append({"id": comment.id, "post": comment.post.title, "author": comment.author.display_name})  # ok: QE-07
    return jsonify(queue)


@bp.route("/comments")
@login_required
def my_post_comments():
    comments = db.session.query(Comment).join(Comment.post).filter(Post.author_id == current_user.id).order_by(Comment.created_at.desc()).all()  # expect: QE-09
    return jsonify([{"post_id": c.post_id, "body": c.body, "author": c.author.display_name} for c in comments])  # expect: QE-07
