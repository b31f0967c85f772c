"""Public blog pages."""
from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from blog.extensions import db
from blog.models import Comment, Post, Tag, User
from blog.services import settings

bp = Blueprint("posts", __name__)


@bp.route("/")
def index():
    page = request.args.get("page", 1, type=int)
    stmt = (
        select(Post)
        .options(joinedload(Post.author), selectinload(Post.tags))
        .where(Post.published.is_(True))
        .order_by(Post.published_at.desc())
    )
    pagination = db.paginate(stmt, page=page, per_page=10)  # ok: QE-09
    return render_template("index.html", pagination=pagination, tags=settings.tag_names())


@bp.route("/archive")
def archive():
    posts = db.session.query(Post).filter(Post.published.is_(True)).order_by(Post.published_at.desc()).all()  # expect: QE-09
    years: dict[int, list[dict]] = {}
    for post in posts:
        entry = {"title": post.title, "slug": post.slug, "author": post.author.display_name}  # expect: QE-07
        years.setdefault(post.published_at.year, []).append(entry)
    return render_template("archive.html", years=years)


@bp.route("/feed.json")
def json_feed():
    posts = db.session.query(Post).options(joinedload(Post.author), selectinload(Post.tags)).filter(Post.published.is_(True)).order_by(Post.published_at.desc()).limit(20).all()  # ok: QE-09
    items = []
    for post in posts:
        items.append(
            {
                "id": post.slug,
                "title": post.title,
                "author": {"name": post.author.display_name},  # ok: QE-07
                "tags": [t.name for t in post.tags],  # ok: QE-07
                "image": post.cover.url if post.cover else None,  # ok: QE-07
            }
        )
    return jsonify({"version": "https://jsonfeed.org/version/1.1", "items": items})


@bp.route("/tags/<name>")
def tagged(name: str):
    stmt = select(Post).join(Post.tags).where(Tag.name == name, Post.published.is_(True)).order_by(Post.published_at.desc())
    posts = db.session.scalars(stmt).all()  # expect: QE-09
    return jsonify([{"title": p.title, "slug": p.slug, "tags": [t.name for t in p.tags]} for p in posts])  # expect: QE-07


@bp.route("/posts/<slug>")
def show(slug: str):
    post = db.session.query(Post).filter(Post.slug == slug, Post.published.is_(True)).first()  # ok: QE-09
    if post is None:
        abort(404)
    comments = db.session.query(Comment).options(joinedload(Comment.author)).filter(Comment.post_id == post.id, Comment.approved.is_(True)).order_by(Comment.created_at).all()  # expect: QE-09
    thread = [{"author": c.author.display_name, "body": c.body, "at": c.created_at.isoformat()} for c in comments]  # ok: QE-07
    return render_template("post.html", post=post, comments=thread)


@bp.post("/posts/<slug>/comments")
@login_required
def add_comment(slug: str):
    post = db.session.query(Post).filter(Post.slug == slug, Post.published.is_(True)).first()  # ok: QE-09
    if post is None:
        abort(404)
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=30)
    too_fast = db.session.query(Comment).filter(Comment.author_id == current_user.id, Comment.created_at > cutoff).count() > 0  # expect: QE-08 ok: QE-09
    if too_fast:
        abort(429)
    db.session.add(Comment(post_id=post.id, author_id=current_user.id, body=request.form["body"].strip()))
    db.session.commit()
    return jsonify(ok=True), 201


@bp.route("/authors")
def authors():
    users = db.session.query(User).filter(User.is_author.is_(True)).order_by(User.display_name).all()  # expect: QE-04, QE-09
    return jsonify([{"username": u.username, "name": u.display_name} for u in users])


@bp.route("/authors/<username>")
def author_profile(username: str):
    user = db.session.query(User).filter(User.username == username, User.is_author.is_(True)).first()  # ok: QE-04, QE-09
    if user is None:
        abort(404)
    post_count = db.session.query(Post).filter(Post.author_id == user.id, Post.published.is_(True)).count()  # ok: QE-08, QE-09
    return jsonify(
        {
            "username": user.username,
            "name": user.display_name,
            "bio": user.bio,
            "avatar": user.avatar_url,
            "website": user.website,
            "location": user.location,
            "posts": post_count,
        }
    )


@bp.route("/authors/<username>/posts")
def author_posts(username: str):
    posts = db.session.query(Post).join(Post.author).filter(User.username == username, Post.published.is_(True)).order_by(Post.published_at.desc()).all()  # expect: QE-09
    if not posts:
        abort(404)
    return jsonify([{"title": p.title, "slug": p.slug, "author_id": p.author_id} for p in posts])  # ok: QE-07


@bp.route("/search")
def search():
    q = request.args.get("q", "").strip()
    stmt = select(Post).where(Post.published.is_(True), Post.title.ilike(f"%{q}%")).order_by(Post.published_at.desc()).limit(25)
    results = db.session.scalars(stmt).all()  # ok: QE-09
    return jsonify([{"title": p.title, "slug": p.slug} for p in results])
