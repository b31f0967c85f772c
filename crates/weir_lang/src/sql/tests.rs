use weir_ir::sql::{CreateTrigger, NotifyTarget, SqlStatementKind};

use super::read_sql;

fn kinds(sql: &str) -> Vec<SqlStatementKind> {
    let script = read_sql(sql);
    assert!(script.unreadable.is_empty(), "{:?}", script.unreadable);
    script.statements.into_iter().map(|s| s.kind).collect()
}

fn trigger(kind: &SqlStatementKind) -> &CreateTrigger {
    match kind {
        SqlStatementKind::CreateTrigger(t) => t,
        other => panic!("not a trigger: {other:?}"),
    }
}

#[test]
fn alembic_notify_function_and_trigger() {
    let sql = r"
        CREATE OR REPLACE FUNCTION notify_job_progress() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('job_progress', json_build_object('id', NEW.id, 'progress', NEW.progress)::text);
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;

        CREATE TRIGGER jobs_progress_notify AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_job_progress();
    ";
    let script = read_sql(sql);
    assert_eq!(script.statements.len(), 2);
    assert_eq!(script.statements[0].line, 2);
    assert_eq!(script.statements[1].line, 9);
    assert!(!script.statements[1].recovered);
    assert_eq!(
        script.statements[0].kind,
        SqlStatementKind::CreateFunction {
            name: "notify_job_progress".into(),
            or_replace: true,
            notifies: vec![NotifyTarget::Channel("job_progress".into())],
        }
    );
    assert_eq!(
        trigger(&script.statements[1].kind),
        &CreateTrigger {
            name: "jobs_progress_notify".into(),
            table: "jobs".into(),
            timing: "AFTER".into(),
            events: vec!["UPDATE".into()],
            level: "ROW".into(),
            function: "notify_job_progress".into(),
            args: vec![],
            or_replace: false,
        }
    );
}

#[test]
fn execute_procedure_multiple_events_and_schema() {
    let kinds = kinds(
        "CREATE TRIGGER orders_audit
             BEFORE INSERT OR UPDATE OF status, total OR DELETE ON Public.Orders
             FOR EACH ROW
             WHEN (pg_trigger_depth() < 1)
             EXECUTE PROCEDURE audit.log_change();",
    );
    let t = trigger(&kinds[0]);
    assert_eq!(t.timing, "BEFORE");
    assert_eq!(t.events, vec!["INSERT", "UPDATE", "DELETE"]);
    assert_eq!(t.table, "public.orders");
    assert_eq!(t.function, "audit.log_change");
}

#[test]
fn or_replace_trigger_and_statement_level() {
    let kinds = kinds(
        "CREATE OR REPLACE TRIGGER refresh_totals AFTER INSERT OR DELETE ON order_lines
         FOR EACH STATEMENT EXECUTE FUNCTION refresh_order_totals();",
    );
    let t = trigger(&kinds[0]);
    assert!(t.or_replace);
    assert_eq!(t.level, "STATEMENT");
}

#[test]
fn string_literal_trigger_arguments_use_the_fallback() {
    let script = read_sql(
        "CREATE TRIGGER jobs_changed AFTER INSERT OR UPDATE ON jobs\n    FOR EACH ROW EXECUTE FUNCTION notify_change('jobs_events', 42);",
    );
    assert!(script.unreadable.is_empty());
    let statement = &script.statements[0];
    assert!(statement.recovered, "sqlparser rejects string arguments");
    let t = trigger(&statement.kind);
    assert_eq!(t.args, vec!["jobs_events", "42"]);
    assert_eq!(t.events, vec!["INSERT", "UPDATE"]);
    assert_eq!(t.level, "ROW");
}

#[test]
fn do_blocks_are_read_inside() {
    let sql = "CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], row_to_json(NEW)::text);
  RETURN NEW;
END
$fn$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'invoices_changed') THEN
    CREATE TRIGGER invoices_changed AFTER UPDATE ON invoices
      FOR EACH ROW EXECUTE FUNCTION notify_change('invoice_events');
  END IF;
  EXECUTE 'DROP TRIGGER IF EXISTS legacy_sync ON invoices';
END
$$;
";
    let script = read_sql(sql);
    assert!(script.unreadable.is_empty(), "{:?}", script.unreadable);
    assert_eq!(script.statements.len(), 3, "{:?}", script.statements);
    assert_eq!(
        script.statements[0].kind,
        SqlStatementKind::CreateFunction {
            name: "notify_change".into(),
            or_replace: false,
            notifies: vec![NotifyTarget::TriggerArg(0)],
        }
    );
    let created = &script.statements[1];
    assert_eq!(created.line, 11);
    assert_eq!(trigger(&created.kind).args, vec!["invoice_events"]);
    assert_eq!(
        script.statements[2].kind,
        SqlStatementKind::DropTrigger {
            name: "legacy_sync".into(),
            table: Some("invoices".into())
        }
    );
    assert_eq!(script.statements[2].line, 14);
}

#[test]
fn drops_listen_and_notify() {
    let kinds = kinds(
        "DROP TRIGGER IF EXISTS jobs_progress_notify ON jobs;
         DROP FUNCTION IF EXISTS notify_job_progress() CASCADE;
         DROP FUNCTION a(), b;
         DROP TABLE IF EXISTS audit_log, job_items CASCADE;
         LISTEN \"JobEvents\";
         NOTIFY job_progress, 'done';
         CREATE TABLE t (id int);
         UPDATE jobs SET progress = 0;",
    );
    assert_eq!(
        kinds,
        vec![
            SqlStatementKind::DropTrigger {
                name: "jobs_progress_notify".into(),
                table: Some("jobs".into())
            },
            SqlStatementKind::DropFunction {
                names: vec!["notify_job_progress".into()],
                cascade: true
            },
            SqlStatementKind::DropFunction {
                names: vec!["a".into(), "b".into()],
                cascade: false
            },
            SqlStatementKind::DropTable {
                names: vec!["audit_log".into(), "job_items".into()]
            },
            SqlStatementKind::Listen {
                channel: "JobEvents".into()
            },
            SqlStatementKind::Notify {
                channel: "job_progress".into()
            },
        ]
    );
}

#[test]
fn unreadable_statements_are_reported_with_their_line() {
    let script = read_sql(
        "CREATE TABLE jobs (id bigint);\n\nCREATE TRIGGER half_written AFTER ON jobs EXECUTE;\nCREATE TRIGGER ok AFTER DELETE ON jobs EXECUTE FUNCTION f();",
    );
    assert_eq!(script.statements.len(), 1);
    assert_eq!(script.unreadable.len(), 1);
    assert_eq!(script.unreadable[0].line, 3);
    assert!(
        script.unreadable[0].message.contains("CREATE TRIGGER"),
        "{}",
        script.unreadable[0].message
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        ";;;",
        "DO",
        "DO $$ BEGIN",
        "CREATE",
        "CREATE TRIGGER",
        "CREATE FUNCTION",
        "DROP FUNCTION",
        "$$$$$$",
        "'unterminated",
        "CREATE TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION f(",
        "\u{feff}CREATE TRIGGER é AFTER INSERT ON ü EXECUTE FUNCTION ø()",
    ] {
        let _ = read_sql(text);
    }
}
