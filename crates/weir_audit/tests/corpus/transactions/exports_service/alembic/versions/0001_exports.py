"""exports table with a progress NOTIFY trigger"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION notify_export_progress() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('export_progress', json_build_object('id', NEW.id, 'progress', NEW.progress)::text);
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        "CREATE TRIGGER exports_progress AFTER UPDATE ON exports FOR EACH ROW EXECUTE FUNCTION notify_export_progress()"
    )
