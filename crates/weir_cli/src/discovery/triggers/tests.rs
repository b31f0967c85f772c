use weir_ir::Module;

use super::{Script, apply, order_scripts};

fn lower(files: &[(&str, &str)]) -> Vec<Module> {
    files
        .iter()
        .map(|(path, src)| weir_lang::lower(path, src).unwrap())
        .collect()
}

fn run(
    modules: &[Module],
    sql_files: &[(&str, &str)],
) -> (
    Vec<weir_audit::context::Trigger>,
    Vec<weir_audit::report::Warning>,
) {
    let mut scripts: Vec<Script> = modules
        .iter()
        .map(Script::python)
        .filter(|s| !s.is_empty())
        .collect();
    scripts.extend(sql_files.iter().map(|(f, t)| Script::sql_file(f, t)));
    order_scripts(&mut scripts, modules);
    apply(&scripts)
}

/// An Alembic history whose file names do not sort in revision order: the
/// later revision replaces the notify function and drops a trigger; the
/// downgrades (which drop everything) are not the schema.
#[test]
fn alembic_history_in_revision_order() {
    let modules = lower(&[
        (
            "alembic/versions/9f3c1e2a7b4d_orders_notify.py",
            r#""""orders notify trigger

Revision ID: 9f3c1e2a7b4d
Revises:
"""
from alembic import op

revision = "9f3c1e2a7b4d"
down_revision = None

NOTIFY_FN = """
CREATE FUNCTION notify_order_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('orders_v1', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade():
    op.execute(NOTIFY_FN)
    op.execute(
        """
        CREATE TRIGGER orders_changed
            AFTER INSERT OR UPDATE OR DELETE ON orders
            FOR EACH ROW EXECUTE PROCEDURE notify_order_change();
        CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
            FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
        """
    )


def downgrade():
    op.execute("DROP TRIGGER orders_changed ON orders")
    op.execute("DROP FUNCTION notify_order_change()")
"#,
        ),
        (
            "alembic/versions/1a2b3c4d5e6f_orders_channel_v2.py",
            r#"from alembic import op
import sqlalchemy as sa

revision = "1a2b3c4d5e6f"
down_revision = "9f3c1e2a7b4d"


def upgrade():
    op.execute(sa.text("""
CREATE OR REPLACE FUNCTION notify_order_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('orders_v2', json_build_object('id', NEW.id)::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""))
    op.execute("DROP TRIGGER IF EXISTS orders_touch ON public.orders")


def downgrade():
    pass
"#,
        ),
    ]);
    let (triggers, warnings) = run(&modules, &[]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let t = &triggers[0];
    assert_eq!(t.name, "orders_changed");
    assert_eq!(t.table, "orders");
    assert_eq!(t.events, vec!["INSERT", "UPDATE", "DELETE"]);
    assert_eq!(t.function, "notify_order_change");
    assert_eq!(
        t.channel.as_deref(),
        Some("orders_v2"),
        "the later revision wins"
    );
    assert_eq!(t.file, "alembic/versions/9f3c1e2a7b4d_orders_notify.py");
    assert_eq!(t.line, 25);
    let defined = t.function_defined_at.as_ref().unwrap();
    assert_eq!(
        defined.file,
        "alembic/versions/1a2b3c4d5e6f_orders_channel_v2.py"
    );
    assert_eq!(defined.line, 10);
}

#[test]
fn django_run_sql_and_trigger_arguments() {
    let modules = lower(&[(
        "billing/migrations/0007_invoice_events.py",
        r#"from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], row_to_json(NEW)::text);
    RETURN NEW;
END
$fn$;
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_invoice_status")]

    operations = [
        migrations.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION notify_change();"),
        migrations.RunSQL(
            sql=[
                "CREATE TRIGGER invoice_events AFTER UPDATE ON billing_invoice FOR EACH ROW EXECUTE FUNCTION notify_change('invoice_events');",
            ],
            reverse_sql=["DROP TRIGGER invoice_events ON billing_invoice;"],
        ),
    ]
"#,
    )]);
    let (triggers, warnings) = run(&modules, &[]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    assert_eq!(triggers[0].channel.as_deref(), Some("invoice_events"));
    assert_eq!(triggers[0].table, "billing_invoice");
    assert_eq!(triggers[0].line, 20);
    assert!(triggers[0].notifies);
}

#[test]
fn sql_files_drops_cascade_and_down_sections() {
    let (triggers, warnings) = run(
        &[],
        &[
            (
                "db/migrations/20240101_init.sql",
                "-- migrate:up
CREATE TABLE jobs (id bigserial PRIMARY KEY, progress int);
CREATE FUNCTION jobs_notify() RETURNS trigger AS $$
BEGIN NOTIFY jobs_changed; RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER jobs_notify AFTER UPDATE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();
CREATE FUNCTION audit() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER jobs_audit AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER legacy_audit AFTER INSERT ON legacy FOR EACH ROW EXECUTE FUNCTION audit();

-- migrate:down
DROP TRIGGER jobs_notify ON jobs;
",
            ),
            (
                "db/migrations/20240202_cleanup.sql",
                "DROP FUNCTION audit() CASCADE;\nDROP TABLE legacy;\nCREATE TRIGGER broken AFTER ON jobs;\nCREATE OR REPLACE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();\n",
            ),
        ],
    );
    let names: Vec<(&str, Option<&str>, &str)> = triggers
        .iter()
        .map(|t| (t.name.as_str(), t.channel.as_deref(), t.level.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("jobs_notify", Some("jobs_changed"), "ROW")],
        "OR REPLACE redefines it"
    );
    assert_eq!(triggers[0].events, vec!["INSERT", "UPDATE"]);
    assert_eq!(triggers[0].file, "db/migrations/20240202_cleanup.sql");
    assert_eq!(triggers[0].line, 4);
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].path.as_deref(),
        Some("db/migrations/20240202_cleanup.sql")
    );
    assert_eq!(warnings[0].line, Some(3));
}

/// A trigger DDL constant nobody is seen executing still describes the
/// schema; a DROP constant cannot be placed in time and is ignored.
#[test]
fn constants_and_unreadable_sql_in_code() {
    let modules = lower(&[(
        "app/db/triggers.py",
        r#"from sqlalchemy import DDL, event

from app.models import Job

JOB_TRIGGER = """
CREATE TRIGGER job_status AFTER UPDATE OF status ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_status_notify();
"""
DROP_JOB_TRIGGER = "DROP TRIGGER job_status ON jobs"

event.listen(
    Job.__table__,
    "after_create",
    DDL("""CREATE FUNCTION job_status_notify() RETURNS trigger AS $$
BEGIN PERFORM pg_notify('job_status', NEW.id::text); RETURN NEW; END $$ LANGUAGE plpgsql"""),
)


def install(conn):
    conn.exec_driver_sql("CREATE TRIGGER oops BEFORE INSERT jobs EXECUTE FUNCTION f()")
"#,
    )]);
    let (triggers, warnings) = run(&modules, &[]);
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    assert_eq!(triggers[0].channel.as_deref(), Some("job_status"));
    assert_eq!(triggers[0].line, 6);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].line, Some(20));
    assert!(
        warnings[0].message.contains("CREATE TRIGGER"),
        "{}",
        warnings[0].message
    );
}

/// SQL held in locals of `upgrade()`, as Alembic migrations often write it.
#[test]
fn sql_in_local_variables() {
    let modules = lower(&[(
        "migrations/versions/8a328b5576d0_add_notification_trigger.py",
        r#"from alembic import op

revision: str = "8a328b5576d0"
down_revision = "3261387bf67c"


def upgrade():
    notify_function = """
    CREATE OR REPLACE FUNCTION notify_new_notification()
    RETURNS TRIGGER AS $$
    BEGIN
        PERFORM pg_notify('new_notification_channel', 'New notification: ' || NEW.text);
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """
    op.execute(notify_function)

    trigger = """
    CREATE TRIGGER new_notification_trigger
    AFTER INSERT ON notification
    FOR EACH ROW
    EXECUTE FUNCTION notify_new_notification();
    """
    op.execute(trigger)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS new_notification_trigger ON notification")
"#,
    )]);
    let (triggers, warnings) = run(&modules, &[]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(triggers.len(), 1);
    assert_eq!(
        triggers[0].channel.as_deref(),
        Some("new_notification_channel")
    );
    assert_eq!(triggers[0].line, 20);
}

/// sql-migrate files put the Down section first; the Up section holds a
/// `DO` block that creates the trigger only when missing.
#[test]
fn sql_migrate_sections_and_do_blocks() {
    let (triggers, warnings) = run(
        &[],
        &[
            (
                "db/sql_migrations/000400_sync_state_notify_fn.sql",
                "-- +migrate Up\nCREATE OR REPLACE FUNCTION notify_sync_state() RETURNS trigger AS $$\nDECLARE\n  channel TEXT := 'sync_state';\nBEGIN\n  PERFORM pg_notify(channel, row_to_json(NEW)::text);\n  RETURN NEW;\nEND $$ LANGUAGE plpgsql;\n",
            ),
            (
                "db/sql_migrations/000500_sync_state_trigger.sql",
                "-- +migrate Down\nDROP TRIGGER IF EXISTS sync_state_notify ON sync_state;\n\n-- +migrate Up\n\n-- +migrate StatementBegin\nDO $$ BEGIN IF NOT EXISTS (\n    SELECT 1 FROM pg_trigger WHERE tgname = 'sync_state_notify'\n) THEN CREATE TRIGGER sync_state_notify\nAFTER\nINSERT\n    ON sync_state FOR EACH ROW EXECUTE PROCEDURE notify_sync_state();\nEND IF;\nEND $$;\n-- +migrate StatementEnd\n",
            ),
        ],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(triggers.len(), 1, "the Down section does not drop it");
    let t = &triggers[0];
    assert_eq!(
        (t.name.as_str(), t.table.as_str()),
        ("sync_state_notify", "sync_state")
    );
    assert_eq!(t.events, vec!["INSERT"]);
    assert_eq!(t.channel.as_deref(), Some("sync_state"));
    assert_eq!(t.line, 9);
}
