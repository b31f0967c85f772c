"""billing_runs with a progress trigger feeding the operations dashboard

Revision ID: 0001
"""
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute(
        """
        CREATE TABLE billing_runs (
            id serial PRIMARY KEY,
            started_at timestamptz NOT NULL DEFAULT now(),
            processed integer NOT NULL DEFAULT 0,
            total integer NOT NULL DEFAULT 0,
            state varchar(16) NOT NULL DEFAULT 'running'
        )
        """
    )
    op.execute(
        """
        CREATE FUNCTION notify_billing_progress() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('billing_progress', NEW.id::text || ':' || NEW.processed::text);
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER billing_runs_progress AFTER UPDATE ON billing_runs "
        "FOR EACH ROW EXECUTE FUNCTION notify_billing_progress()"
    )


def downgrade():
    op.execute("DROP TABLE billing_runs")
    op.execute("DROP FUNCTION notify_billing_progress()")
