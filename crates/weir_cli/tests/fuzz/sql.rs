//! Fuzz targets for the SQL trigger extraction: the SQL frontend alone
//! (`weir_lang::sql::read_sql`, `notify_targets`) and, through `weir
//! context` on a generated project (see `project.rs`), the migrations it
//! reads SQL from: `.sql` files (with dbmate/goose down sections) and Python
//! migrations (Alembic `op.execute`, `text(...)`, constants, f-strings,
//! Django `RunSQL`, `DDL`, `down_revision` chains).
//!
//! Inputs: random bytes, token soup of PostgreSQL syntax (dollar quotes,
//! nested comments, `E''` strings, `DO` blocks, `pg_notify`), mutations of
//! the migrations of the fixtures, the corpus and the example project, and
//! deep nesting (parentheses, comments, `DO` blocks within `EXECUTE`
//! strings).

use std::fmt::Write as _;
use std::sync::OnceLock;

use weir_ir::sql::SqlStatementKind;

use crate::harness::{Rng, fuzz, mutate, seed_files};
use crate::project::{bundle, check_project};

const TOKENS: &[&str] = &[
    "CREATE ",
    "CREATE OR REPLACE ",
    "TRIGGER ",
    "CONSTRAINT TRIGGER ",
    "FUNCTION ",
    "TEMP ",
    "CREATE TRIGGER jobs_notify ",
    "AFTER ",
    "BEFORE ",
    "INSTEAD OF ",
    "INSERT OR UPDATE OF status, progress OR DELETE ",
    "TRUNCATE ",
    "ON ",
    "public.jobs ",
    "\"Jobs\" ",
    "REFERENCING NEW TABLE AS inserted ",
    "DEFERRABLE INITIALLY DEFERRED ",
    "FOR EACH ROW ",
    "FOR EACH STATEMENT ",
    "WHEN (OLD.status IS DISTINCT FROM NEW.status) ",
    "EXECUTE FUNCTION ",
    "EXECUTE PROCEDURE ",
    "notify_jobs()",
    "notify_change('jobs', 'job_events')",
    "RETURNS trigger ",
    "RETURNS void ",
    "LANGUAGE plpgsql",
    "AS ",
    "$$",
    "$body$",
    "$fn$",
    "$1",
    "$",
    "BEGIN ",
    "END",
    "END;",
    "DECLARE payload json;",
    "IF TG_OP = 'DELETE' THEN ",
    "END IF;",
    "RETURN NEW;",
    "RETURN NULL;",
    "PERFORM pg_notify(",
    "pg_notify(",
    "'job_progress'",
    "TG_ARGV[0]",
    "TG_ARGV[",
    "TG_TABLE_NAME",
    "json_build_object('id', NEW.id)::text",
    "row_to_json(NEW)",
    "NOTIFY ",
    "NOTIFY job_events, 'payload'",
    "LISTEN ",
    "LISTEN \"Order Events\"",
    "UNLISTEN *",
    "DROP TRIGGER IF EXISTS jobs_notify ON jobs",
    "DROP FUNCTION IF EXISTS notify_jobs() CASCADE",
    "DROP TABLE jobs, job_items",
    "DROP ",
    "DO $$",
    "DO $do$ BEGIN ",
    "DO '",
    "DO\n",
    "EXECUTE '",
    "EXECUTE format('CREATE TRIGGER %I', t)",
    "E'",
    "E'\\''",
    "E'\\\\'",
    "U&'\\0041'",
    "B'101'",
    "X'ff'",
    "''",
    "'",
    "\"",
    "/*",
    "*/",
    "/* /* */",
    "--",
    "-- migrate:up\n",
    "-- migrate:down\n",
    "-- +goose Up\n",
    "-- +goose Down\n",
    "-- +goose StatementBegin\n",
    "-- +migrate Down\n",
    ";",
    "(",
    ")",
    ",",
    ".",
    "::",
    "[",
    "]",
    "||",
    "\\",
    "\n",
    "\r\n",
    "\t",
    " ",
    "é",
    "\u{feff}",
    "\u{2028}",
];

/// Typical migrations, beside the repository's own.
const INLINE_SQL: &[&str] = &[
    "-- migrate:up\nCREATE OR REPLACE FUNCTION notify_order() RETURNS trigger AS $body$\n\
     DECLARE\n  payload json;\nBEGIN\n  payload := json_build_object('id', NEW.id, 'op', TG_OP);\n  \
     PERFORM pg_notify(TG_ARGV[0], payload::text);\n  RETURN NEW;\nEND;\n$body$ LANGUAGE plpgsql;\n\n\
     CREATE TRIGGER orders_notify AFTER INSERT OR UPDATE ON public.orders\n  \
     FOR EACH ROW EXECUTE FUNCTION notify_order('order_events');\n\n\
     -- migrate:down\nDROP TRIGGER orders_notify ON orders;\nDROP FUNCTION notify_order();\n",
    "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION audit() RETURNS trigger\n\
     LANGUAGE plpgsql AS '\nBEGIN\n  NOTIFY audit_log, ''changed'';\n  RETURN NULL;\nEND;\n';\n\
     -- +goose StatementEnd\nCREATE CONSTRAINT TRIGGER audit_after AFTER UPDATE ON accounts\n\
     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE PROCEDURE audit();\n\
     -- +goose Down\nDROP TABLE accounts;\n",
    "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'jobs_notify') THEN\n    \
     EXECUTE 'CREATE TRIGGER jobs_notify AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_jobs()';\n  \
     END IF;\nEND\n$$;\nLISTEN jobs;\nNOTIFY jobs, E'it''s \\'done\\'';\nSELECT pg_notify('jobs', '{}');\n",
    "/* V3__events.sql /* nested */ still a comment */\nCREATE TABLE events (id bigserial PRIMARY KEY);\n\
     CREATE OR REPLACE FUNCTION events_fn() RETURNS trigger AS $fn$\nBEGIN\n  \
     EXECUTE format('NOTIFY %I, %L', TG_TABLE_NAME, NEW.id::text);\n  RETURN NEW;\nEND $fn$ LANGUAGE plpgsql;\n\
     CREATE TRIGGER events_tr AFTER INSERT ON events REFERENCING NEW TABLE AS inserted\n  \
     FOR EACH STATEMENT EXECUTE FUNCTION events_fn();\nDROP FUNCTION events_fn() CASCADE;\n",
];

/// Ways Python migrations hand SQL to the database; `{}` is the SQL.
const PYTHON_WRAPPERS: &[&str] = &[
    "from alembic import op\n\nrevision = \"0002\"\ndown_revision = \"0001\"\n\n\ndef upgrade():\n    op.execute(\"\"\"{}\"\"\")\n\n\ndef downgrade():\n    op.execute(\"DROP TRIGGER jobs_notify ON jobs\")\n",
    "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade() -> None:\n    op.execute(sa.text('''{}'''))\n",
    "from alembic import op\n\nTRIGGER_SQL = \"\"\"{}\"\"\"\n\n\ndef upgrade():\n    op.execute(TRIGGER_SQL)\n",
    "from alembic import op\n\nNOTIFY_TRIGGER = r\"\"\"{}\"\"\"\n",
    "from alembic import op\n\nCHANNEL = \"job_events\"\n\n\ndef upgrade():\n    for table in (\"jobs\", \"items\"):\n        op.execute(f\"\"\"{}\"\"\")\n",
    "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"shop\", \"0001_initial\")]\n    operations = [\n        migrations.RunSQL(\n            sql=\"\"\"{}\"\"\",\n            reverse_sql=\"DROP TRIGGER t ON x\",\n        ),\n    ]\n",
    "from sqlalchemy import DDL, event\n\nfrom app.models import Job\n\nevent.listen(Job.__table__, \"after_create\", DDL(\"\"\"{}\"\"\"))\n",
    "async def setup(conn):\n    await conn.execute(\"\"\"{}\"\"\")\n    await conn.execute(\"LISTEN job_events\")\n",
];

const MIGRATION_PATHS: &[&str] = &[
    "alembic/versions/0001_create.py",
    "alembic/versions/0002_notify.py",
    "alembic/versions/0003_more.py",
    "shop/migrations/0001_initial.py",
    "app/listener.py",
];
const SQL_PATHS: &[&str] = &[
    "db/migrations/0001_init.sql",
    "db/migrations/0002_notify.sql",
];

struct Seeds {
    /// Python files that run SQL: migrations, listeners.
    python: Vec<Vec<u8>>,
    /// SQL texts: `.sql` files, the SQL strings of `python`, `INLINE_SQL`.
    sql: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let files = seed_files(&[
            "../weir_audit/tests/fixtures/python",
            "../weir_audit/tests/corpus",
            "../../examples",
        ]);
        let mut seeds = Seeds {
            python: Vec::new(),
            sql: INLINE_SQL.iter().map(|s| s.as_bytes().to_vec()).collect(),
        };
        for file in files {
            let bytes = std::fs::read(&file).expect("read seed");
            let name = file.to_string_lossy();
            if name.ends_with(".sql") {
                seeds.sql.push(bytes);
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let runs_sql = [
                "op.execute",
                "RunSQL",
                "DDL(",
                "LISTEN",
                "NOTIFY",
                "pg_notify",
            ]
            .iter()
            .any(|k| text.contains(k));
            if !name.ends_with(".py") || !runs_sql {
                continue;
            }
            // The SQL of its triple-quoted strings.
            for (i, part) in text.split("\"\"\"").enumerate() {
                let upper = part.to_ascii_uppercase();
                if i % 2 == 1
                    && ["CREATE", "NOTIFY", "LISTEN", "DROP"]
                        .iter()
                        .any(|k| upper.contains(k))
                {
                    seeds.sql.push(part.as_bytes().to_vec());
                }
            }
            seeds.python.push(bytes);
        }
        assert!(seeds.python.len() >= 5, "migration seeds missing");
        assert!(seeds.sql.len() >= 8, "SQL seeds missing");
        seeds
    })
}

fn line_bound(text: &str) -> u32 {
    1 + u32::try_from(text.bytes().filter(|&b| b == b'\n' || b == b'\r').count()).unwrap()
}

/// Reads one SQL text: never a panic, every statement and problem on a
/// line of the text, a trigger's fields filled.
fn check_sql(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bound = line_bound(&text);
    let _ = weir_lang::sql::may_be_relevant(&text);
    let script = weir_lang::sql::read_sql(&text);
    for statement in &script.statements {
        assert!(
            (1..=bound).contains(&statement.line),
            "statement on line {} of {bound}: {statement:?}",
            statement.line
        );
        if let SqlStatementKind::CreateTrigger(trigger) = &statement.kind {
            assert!(
                !trigger.name.is_empty() && !trigger.table.is_empty(),
                "{trigger:?}"
            );
        }
    }
    for problem in &script.unreadable {
        assert!(
            (1..=bound).contains(&problem.line),
            "problem on line {} of {bound}: {problem:?}",
            problem.line
        );
    }
    let _ = weir_lang::sql::notify_targets(&text);
}

#[test]
fn sql_random_bytes() {
    fuzz(
        "sql_random_bytes",
        15_000,
        |rng| {
            let len = rng.below(400);
            (0..len)
                .map(|_| {
                    if rng.one_in(6) {
                        rng.byte()
                    } else {
                        rng.pick(b" \n\t();,.:'\"$-/*[]|\\EeUu&abcdefnotifyrg0123456789_")
                    }
                })
                .collect()
        },
        check_sql,
    );
}

fn token_soup(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(120) {
        out.push_str(rng.pick(TOKENS));
        out.push_str(rng.pick(&["", " ", " ", "\n"]));
    }
    out
}

#[test]
fn sql_token_soup() {
    fuzz(
        "sql_token_soup",
        15_000,
        |rng| token_soup(rng).into_bytes(),
        check_sql,
    );
}

fn mutated_sql(rng: &mut Rng) -> Vec<u8> {
    let sql = &seeds().sql;
    let seed = rng.pick_ref(sql);
    let other = rng.pick_ref(sql);
    mutate(rng, seed, other, TOKENS)
}

#[test]
fn sql_mutated_migrations() {
    fuzz("sql_mutated_migrations", 15_000, mutated_sql, check_sql);
}

/// One construct of PostgreSQL nested about `depth` deep.
fn deep_sql(rng: &mut Rng, depth: usize) -> String {
    let nest = |open: &str, middle: &str, close: &str| {
        let mut out = open.repeat(depth);
        out.push_str(middle);
        out.push_str(&close.repeat(depth));
        out
    };
    match rng.below(8) {
        0 => format!(
            "CREATE TRIGGER t AFTER UPDATE ON jobs FOR EACH ROW WHEN {} EXECUTE FUNCTION f();",
            nest("(", "NEW.x > 1", ")")
        ),
        1 => format!("NOTIFY jobs, {};", nest("(", "'x'", ")")),
        2 => nest("/* ", "CREATE TRIGGER t", " */"),
        3 => {
            // `DO` blocks in `DO` blocks, each with its own dollar tag.
            let depth = depth.min(200);
            let mut out = String::new();
            for level in 0..depth {
                let _ = write!(out, "DO $t{level}$ BEGIN ");
            }
            out.push_str("PERFORM pg_notify('jobs', 'x');");
            for level in (0..depth).rev() {
                let _ = write!(out, " END $t{level}$;");
            }
            out
        }
        4 => {
            // `EXECUTE` strings in `EXECUTE` strings: quotes double per level.
            let mut sql = String::from("NOTIFY jobs");
            for _ in 0..depth.min(12) {
                sql = format!("DO 'BEGIN EXECUTE ''{}''; END'", sql.replace('\'', "''"));
            }
            sql
        }
        5 => format!(
            "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN PERFORM pg_notify({}, 'x'); RETURN NEW; END $$ LANGUAGE plpgsql;",
            nest("coalesce(", "TG_ARGV[0]", ", 'c')")
        ),
        6 => ";".repeat(depth) + &"LISTEN a;".repeat(depth.min(2_000)),
        _ => format!(
            "CREATE TRIGGER t AFTER INSERT ON {} FOR EACH ROW EXECUTE FUNCTION f({});",
            vec!["s"; depth.min(2_000)].join("."),
            vec!["'a'"; depth.min(2_000)].join(", ")
        ),
    }
}

#[test]
fn sql_deep_nesting() {
    fuzz(
        "sql_deep_nesting",
        500,
        |rng| {
            let depth = 1 + rng.below(10_000);
            deep_sql(rng, depth).into_bytes()
        },
        check_sql,
    );
}

/// SQL for a migration: soup, a mutated seed, or deep nesting.
fn some_sql(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => token_soup(rng),
        1 => String::from_utf8_lossy(&mutated_sql(rng)).into_owned(),
        _ => {
            let depth = 1 + rng.below(2_000);
            deep_sql(rng, depth)
        }
    }
}

/// A Python migration: a real one mutated, or generated SQL in one of the
/// ways migrations run it, with a revision chain that may loop.
fn python_migration(rng: &mut Rng) -> Vec<u8> {
    let mut text = if rng.one_in(2) {
        let python = &seeds().python;
        let seed = rng.pick_ref(python);
        let other = rng.pick_ref(python);
        let mut tokens: Vec<&str> = TOKENS.to_vec();
        tokens.extend([
            "op.execute(\"",
            "\")",
            "\"\"\"",
            "f\"{table}\"",
            "{",
            "}",
            "\n    ",
        ]);
        String::from_utf8_lossy(&mutate(rng, seed, other, &tokens)).into_owned()
    } else {
        rng.pick(PYTHON_WRAPPERS).replace("{}", &some_sql(rng))
    };
    if rng.one_in(2) {
        let ids = [
            "\"a\"",
            "\"b\"",
            "\"c\"",
            "None",
            "(\"a\", \"b\")",
            "[\"c\"]",
        ];
        let revision = rng.pick(&ids[..3]);
        let down = rng.pick(&ids);
        let _ = write!(text, "\nrevision = {revision}\ndown_revision = {down}\n");
    }
    text.into_bytes()
}

#[test]
fn sql_migrations_project() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fuzz(
        "sql_migrations_project",
        2_000,
        |rng| {
            let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
            for _ in 0..=rng.below(3) {
                let path = rng.pick(MIGRATION_PATHS);
                if !files.iter().any(|(p, _)| *p == path) {
                    files.push((path, python_migration(rng)));
                }
            }
            for &path in SQL_PATHS {
                if rng.one_in(2) {
                    files.push((path, some_sql(rng).into_bytes()));
                }
            }
            bundle(&files)
        },
        move |input| check_project(&dir.path().join("project"), input),
    );
}
