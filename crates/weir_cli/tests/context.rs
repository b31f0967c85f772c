//! `weir context`: the example project end to end (with a snapshot), and
//! realistic projects whose manifests, compose files and migrations include
//! malformed ones.

use std::path::Path;

use serde_json::Value;
use weir_cli::run::{RunOptions, context};

mod common;
use common::{example, weir};

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn context_json(dir: &Path) -> Value {
    let out = weir(&["context", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn component<'a>(json: &'a Value, role: &str, id: &str) -> &'a Value {
    json["tech_stack"][role]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {role}: {:#}", json["tech_stack"][role]))
}

fn has_source(component: &Value, file: &str, line: u64) -> bool {
    component["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["file"] == file && s["line"] == line)
}

fn warned(json: &Value, file: &str, line: u64) -> bool {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["path"] == file && w["line"] == line && w["kind"] == "discovery")
}

#[test]
fn example_project_context_has_everything_with_its_origin() {
    let json = context_json(Path::new(&example()));
    assert_eq!(json["schema_version"], 1);

    let pg = component(&json, "databases", "postgresql");
    assert_eq!(pg["version"], "16");
    assert!(has_source(pg, "docker-compose.yml", 3));
    let sqlalchemy = component(&json, "orms", "sqlalchemy");
    assert_eq!(sqlalchemy["version"], "2.0.29");
    assert!(has_source(sqlalchemy, "pyproject.toml", 14));
    assert!(has_source(
        component(&json, "async_frameworks", "asyncio"),
        "app/main.py",
        1
    ));
    assert!(has_source(
        component(&json, "web_frameworks", "fastapi"),
        "pyproject.toml",
        12
    ));
    assert!(has_source(
        component(&json, "drivers", "asyncpg"),
        "app/worker/listener.py",
        9
    ));

    let db = &json["db_config"];
    let engine = db["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "app.db.engine")
        .unwrap();
    assert_eq!(
        (engine["file"].as_str(), engine["line"].as_u64()),
        (Some("app/db.py"), Some(14))
    );
    assert_eq!(engine["pool_size"], 10);
    assert_eq!(engine["pool_pre_ping"], Value::Null);
    let session = &db["sessions"][0];
    assert_eq!(session["name"], "app.db.SessionLocal");
    assert_eq!(session["expire_on_commit"], false);
    assert_eq!(session["line"], 15);
    let setting = &db["server_settings"][0];
    assert_eq!(
        (
            setting["name"].as_str(),
            setting["value"].as_str(),
            setting["line"].as_u64()
        ),
        (Some("max_connections"), Some("100"), Some(4))
    );

    let trigger = &json["triggers"][0];
    assert_eq!(trigger["table"], "jobs");
    assert_eq!(trigger["events"], serde_json::json!(["UPDATE"]));
    assert_eq!(trigger["function"], "notify_job_progress");
    assert_eq!(trigger["channel"], "job_progress");
    assert_eq!(trigger["file"], "alembic/versions/0001_create_jobs.py");
    assert_eq!(trigger["line"], 79);

    let listener = &json["event_subscribers"][0];
    assert_eq!(listener["channel"], "job_progress");
    assert_eq!(listener["technology"], "asyncpg");
    assert_eq!(
        (listener["file"].as_str(), listener["line"].as_u64()),
        (Some("app/worker/listener.py"), Some(53))
    );

    let technologies: Vec<&str> = json["best_practices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["technology"].as_str().unwrap())
        .collect();
    for expected in [
        "sqlalchemy",
        "postgresql",
        "asyncio",
        "fastapi",
        "asyncpg",
        "psycopg",
    ] {
        assert!(technologies.contains(&expected), "{expected} notes missing");
    }
    assert!(
        !technologies.contains(&"django"),
        "Django is not in this stack"
    );
    assert!(json["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn example_context_snapshot() {
    // A relative path keeps the snapshot free of machine-specific prefixes.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let options = RunOptions {
        threads: Some(2),
        ..RunOptions::default()
    };
    let (context, warnings) =
        context(Path::new("../../examples/jobs-service"), &options).expect("discovery runs");
    insta::assert_snapshot!(weir_cli::render::json::render_context(&context, &warnings).unwrap());
}

#[test]
fn missing_path_is_an_error() {
    let out = weir(&["context", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn audit_json_embeds_the_same_context() {
    let out = weir(&[
        "audit",
        &example(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let alone = context_json(Path::new(&example()));
    assert_eq!(report["context"]["triggers"], alone["triggers"]);
    assert_eq!(report["context"]["tech_stack"], alone["tech_stack"]);
    assert_eq!(report["context"]["db_config"], alone["db_config"]);
}

/// A Django shop: requirements with an include, a compose file whose
/// PostgreSQL version disagrees with the docs, a broken override file, a
/// RunSQL trigger, a psycopg listener, and a `.sql` file with a statement
/// nobody can read.
#[test]
fn django_project_with_malformed_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "requirements.txt",
        "-r requirements/base.txt\ngunicorn==21.2.0\ndjango-extensions>=\n",
    );
    write(
        d,
        "requirements/base.txt",
        "Django==5.0.3\npsycopg[binary,pool]==3.1.18\nredis>=5.0\n",
    );
    write(
        d,
        "compose.yaml",
        "services:\n  postgres:\n    image: postgres:15.6\n    command: [\"postgres\", \"-c\", \"max_connections=300\"]\n  redis:\n    image: redis:7-alpine\n",
    );
    write(
        d,
        "docker-compose.override.yml",
        "services:\n  postgres:\n    ports:\n      - 5432:5432\n     environment: broken\n",
    );
    write(
        d,
        "docs/project/tech_stack.md",
        "# Tech stack\n\n| Layer | Choice |\n|---|---|\n| Database | PostgreSQL 16 |\n| Framework | Django 5.0 |\n",
    );
    write(
        d,
        "shop/settings.py",
        "DATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": \"shop\",\n        \"CONN_MAX_AGE\": 60,\n        \"ATOMIC_REQUESTS\": True,\n    }\n}\n",
    );
    write(
        d,
        "orders/migrations/0004_order_events.py",
        r#"from django.db import migrations

NOTIFY = """
CREATE OR REPLACE FUNCTION order_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('order_events', NEW.id::text);
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_order_status")]
    operations = [
        migrations.RunSQL(NOTIFY, reverse_sql="DROP FUNCTION order_events();"),
        migrations.RunSQL(
            "CREATE TRIGGER order_events AFTER INSERT OR UPDATE ON orders_order "
            "FOR EACH ROW EXECUTE PROCEDURE order_events();",
            reverse_sql="DROP TRIGGER order_events ON orders_order;",
        ),
    ]
"#,
    );
    write(
        d,
        "orders/listener.py",
        "import psycopg\n\nCHANNEL = \"order_events\"\n\n\ndef listen(dsn, handle):\n    with psycopg.connect(dsn, autocommit=True) as conn:\n        conn.execute(f\"LISTEN {CHANNEL}\")\n        conn.execute(\"LISTEN order_events\")\n        for notify in conn.notifies():\n            handle(notify.payload)\n",
    );
    write(
        d,
        "db/maintenance.sql",
        "-- run by hand\nCREATE TRIGGER half AFTER ON orders_order;\n",
    );

    let json = context_json(d);
    let pg = component(&json, "databases", "postgresql");
    assert_eq!(pg["version"], "15.6", "compose wins over the docs");
    assert!(has_source(pg, "compose.yaml", 3));
    assert!(
        has_source(pg, "docs/project/tech_stack.md", 5),
        "the disagreeing source is kept"
    );
    let django = component(&json, "orms", "django");
    assert_eq!(django["name"], "Django ORM");
    assert_eq!(django["version"], "5.0.3");
    assert!(
        has_source(django, "requirements/base.txt", 1),
        "followed through -r"
    );
    assert_eq!(
        component(&json, "web_frameworks", "django")["name"],
        "Django"
    );
    assert_eq!(component(&json, "drivers", "psycopg")["version"], "3.1.18");
    assert!(has_source(
        component(&json, "databases", "redis"),
        "compose.yaml",
        6
    ));

    let db = &json["db_config"]["django_databases"][0];
    assert_eq!(db["conn_max_age"], 60);
    assert_eq!(db["atomic_requests"], true);
    assert_eq!(json["db_config"]["server_settings"][0]["value"], "300");

    let trigger = &json["triggers"][0];
    assert_eq!(trigger["table"], "orders_order");
    assert_eq!(trigger["events"], serde_json::json!(["INSERT", "UPDATE"]));
    assert_eq!(trigger["channel"], "order_events");
    assert_eq!(trigger["line"], 18);

    let subscribers = json["event_subscribers"].as_array().unwrap();
    assert_eq!(subscribers.len(), 1, "{subscribers:#?}");
    assert_eq!(subscribers[0]["technology"], "psycopg");
    assert_eq!(subscribers[0]["line"], 9);

    assert!(
        warned(&json, "requirements.txt", 3),
        "{:#}",
        json["warnings"]
    );
    assert!(
        warned(&json, "docker-compose.override.yml", 5),
        "{:#}",
        json["warnings"]
    );
    assert!(
        warned(&json, "db/maintenance.sql", 2),
        "{:#}",
        json["warnings"]
    );
    let notes: Vec<&str> = json["best_practices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["technology"].as_str().unwrap())
        .collect();
    assert!(
        notes.contains(&"django") && !notes.contains(&"sqlalchemy") && !notes.contains(&"fastapi")
    );

    // Discovery never stops the audit: the same project audits with the warnings.
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "discovery" && w["path"] == "docker-compose.override.yml")
    );
}

/// A monorepo with a Node service, a Go service and Python packages
/// declared through Pipfile, setup.cfg and Poetry.
#[test]
fn monorepo_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "services/web/package.json",
        "{\n  \"name\": \"web\",\n  \"dependencies\": {\n    \"@prisma/client\": \"^5.10.2\",\n    \"express\": \"^4.18.2\"\n  }\n}\n",
    );
    write(
        d,
        "services/ledger/go.mod",
        "module github.com/acme/ledger\n\ngo 1.22\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.5.3\n\tgorm.io/gorm v1.25.7\n)\n",
    );
    write(
        d,
        "services/api/Pipfile",
        "[packages]\nflask = \"==3.0.2\"\nflask-sqlalchemy = \"*\"\n\n[dev-packages]\npytest = \"*\"\n",
    );
    write(
        d,
        "libs/reporting/setup.cfg",
        "[metadata]\nname = reporting\n\n[options]\ninstall_requires =\n    SQLAlchemy>=1.4.52\n    pymysql\n",
    );
    write(
        d,
        "services/worker/pyproject.toml",
        "[tool.poetry.dependencies]\npython = \"^3.12\"\naiosqlite = \"^0.20\"\n[tool.poetry\n",
    );
    let json = context_json(d);
    assert_eq!(component(&json, "orms", "prisma")["version"], "5.10.2");
    assert!(has_source(
        component(&json, "web_frameworks", "express"),
        "services/web/package.json",
        5
    ));
    assert_eq!(component(&json, "drivers", "pgx")["version"], "5.5.3");
    assert_eq!(component(&json, "orms", "gorm")["version"], "1.25.7");
    assert_eq!(
        component(&json, "web_frameworks", "flask")["version"],
        "3.0.2"
    );
    assert!(has_source(
        component(&json, "orms", "flask-sqlalchemy"),
        "services/api/Pipfile",
        3
    ));
    assert!(has_source(
        component(&json, "orms", "sqlalchemy"),
        "libs/reporting/setup.cfg",
        6
    ));
    // Drivers imply their databases.
    let pg = component(&json, "databases", "postgresql");
    assert_eq!(pg["sources"][0]["kind"], "implied");
    component(&json, "databases", "mysql");
    // The broken pyproject.toml is reported with its line; the rest went on.
    assert!(
        warned(&json, "services/worker/pyproject.toml", 4),
        "{:#}",
        json["warnings"]
    );
}
