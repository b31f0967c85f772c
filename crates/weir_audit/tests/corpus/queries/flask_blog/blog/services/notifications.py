"""E-mail notifications, queued in the outbound_emails table."""
from sqlalchemy.orm import joinedload

from blog.extensions import db
from blog.models import Comment, OutboundEmail, Post, Subscription, User


def notify_subscribers(post_id: int) -> int:
    post = db.session.get(Post, post_id)  # ok: QE-01
    if post is None or not post.published:
        return 0
    subscriptions = db.session.query(Subscription).filter(Subscription.author_id == post.author_id).all()
    recipients = [sub.user.email for sub in subscriptions]  # expect: QE-07
    subject = f"New post: {post.title}"
    db.session.add_all([OutboundEmail(to_address=address, subject=subject, body=post.summary) for address in recipients])  # ok: QE-05
    db.session.commit()
    return len(recipients)


def queue_weekly_digest(posts: list[Post]) -> int:
    readers = db.session.query(User).filter(User.email_confirmed.is_(True), User.notify_on_post.is_(True)).all()
    body = "\n".join(f"- {p.title}" for p in posts)
    for reader in readers:
        db.session.add(OutboundEmail(to_address=reader.email, subject="This week on the blog", body=body))  # expect: QE-05
    db.session.commit()
    return len(readers)


def notify_comment_authors(post: Post) -> int:
    comments = db.session.query(Comment).options(joinedload(Comment.author)).filter(Comment.post_id == post.id).all()
    addresses = {c.author.email for c in comments if c.author_id != post.author_id}  # ok: QE-07
    db.session.add_all([OutboundEmail(to_address=a, subject=f"Update on {post.title}", body=post.summary) for a in addresses])  # ok: QE-05
    db.session.commit()
    return len(addresses)
