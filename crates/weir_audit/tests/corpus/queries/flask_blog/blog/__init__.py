"""Application factory."""
import os

from flask import Flask

from blog.extensions import db, login_manager


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "postgresql+psycopg2://blog@localhost/blog")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "pool_size": 5}
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    db.init_app(app)
    login_manager.init_app(app)

    from blog.cli.users import import_posts, rename_user
    from blog.views import admin, dashboard, posts

    app.register_blueprint(posts.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.cli.add_command(rename_user)
    app.cli.add_command(import_posts)
    return app
