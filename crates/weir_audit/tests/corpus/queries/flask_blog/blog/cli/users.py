"""Maintenance commands (`flask rename-user`, `flask import-posts`)."""
import csv
import re

import click
from flask.cli import with_appcontext

from blog.extensions import db
from blog.models import Post, User


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def reset_avatar(user_id: int) -> None:
    user = db.session.get(User, user_id)  # ok: QE-01
    if user is not None and user.avatar_url and "/legacy/" in user.avatar_url:
        user.avatar_url = None
        db.session.commit()


@click.command("rename-user")
@click.argument("old")
@click.argument("new")
@with_appcontext
def rename_user(old: str, new: str) -> None:
    user = db.session.query(User).filter(User.username == old).one()  # ok: QE-01
    user.username = new
    db.session.commit()
    reset_avatar(user.id)  # expect: QE-01
    click.echo(f"renamed {old} to {new}")


@click.command("import-posts")
@click.argument("path", type=click.Path(exists=True))
@click.option("--author", required=True)
@with_appcontext
def import_posts(path: str, author: str) -> None:
    writer = db.session.query(User).filter(User.username == author).one()  # ok: QE-01
    count = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            db.session.add(Post(author_id=writer.id, title=row["title"], slug=slugify(row["title"]), body=row["body"]))  # expect: QE-05
            count += 1
    db.session.commit()
    click.echo(f"imported {count} posts")
