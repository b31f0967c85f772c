//! Fuzz targets for the manifests and configuration files stack discovery
//! reads: `pyproject.toml`, `Pipfile`, `setup.cfg`, `requirements*.txt`
//! (with their `-r` includes), compose files, `package.json`, `go.mod`,
//! `docs/project/tech_stack.md`, and the Python files it reads settings
//! from (engine URLs, Django `DATABASES`, gunicorn config, listeners).
//!
//! Each case writes a few such files into a project and runs `weir context`
//! on it (see `project.rs`): random bytes, token soup of the formats'
//! syntax, mutations of the real files of the fixtures, the corpus and the
//! example project (plus typical manifests of each format), and deep
//! nesting (ten thousand nested TOML arrays, YAML flow collections, JSON
//! arrays, continuation lines, alias bombs).

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::harness::{Rng, fuzz, mutate, seed_files};
use crate::project::{PATHS, bundle, check_project};

/// The manifest paths of `PATHS`, by format.
const TOML: &[&str] = &["pyproject.toml", "Pipfile"];
const REQUIREMENTS: &[&str] = &[
    "requirements.txt",
    "requirements/base.txt",
    "requirements/dev.txt",
];
const COMPOSE: &[&str] = &["docker-compose.yml", "deploy/compose.override.yaml"];
const PYTHON_CONFIG: &[&str] = &[
    "app/settings.py",
    "app/db.py",
    "app/listener.py",
    "gunicorn.conf.py",
];

/// Tokens of every manifest syntax, and the package, image and setting
/// names discovery looks for.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ":",
    ",",
    ".",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "#",
    ";",
    "\\\n",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    "\r\n",
    "- ",
    "? ",
    "| ",
    ">-\n",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!tag ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "${PG_VERSION:-16}",
    "${X-}",
    "${",
    "[project]\n",
    "[project.optional-dependencies]\n",
    "[dependency-groups]\n",
    "[tool.poetry.dependencies]\n",
    "[tool.poetry.group.dev.dependencies]\n",
    "[tool.pdm.dev-dependencies]\n",
    "[tool.uv]\n",
    "[packages]\n",
    "[dev-packages]\n",
    "[options]\n",
    "[options.extras_require]\n",
    "install_requires =\n",
    "dependencies = [",
    "{include-group = \"lint\"}",
    "{ version = \"^3.1\", extras = [\"binary\"] }",
    "python = \"^3.11\"",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "0x1F",
    "1e400",
    "services:\n",
    "  db:\n",
    "    image: ",
    "postgres:16-alpine",
    "postgres@sha256:abc",
    "registry:5000/redis:7",
    "timescale/timescaledb:2.14.2-pg16",
    "mysql:8.0",
    "    command: ",
    "postgres -c max_connections=200 -c shared_buffers=1GB",
    "[\"gunicorn\", \"-w\", \"4\", \"app:app\"]",
    "gunicorn --workers=4",
    "uvicorn --workers 2",
    "-w",
    "-r base.txt",
    "-r ../requirements.txt",
    "-r requirements/dev.txt",
    "-r /etc/passwd",
    "-c constraints.txt",
    "-e git+https://github.com/x/y.git#egg=sqlalchemy",
    "--hash=sha256:00",
    "--index-url https://pypi.org/simple",
    "./local/pkg",
    "sqlalchemy[asyncio]>=2.0.29",
    "asyncpg==0.29.0",
    "psycopg2-binary>=2.9,<3",
    "Django~=5.0",
    "celery^5.3",
    "fastapi @ https://x/y.whl",
    "; python_version < \"3.11\"",
    "(>=1.0)",
    "==",
    ">=",
    "~=",
    "===",
    "*",
    "\"dependencies\": {",
    "\"devDependencies\": {",
    "\"pg\": \"^8.11.3\"",
    "\"prisma\": \"latest\"",
    "require (",
    ")",
    "require github.com/jackc/pgx/v5 v5.5.0",
    "gorm.io/gorm v1.25.7+incompatible",
    "// indirect",
    "module example.com/app",
    "| Database | PostgreSQL 16 |",
    "| --- | --- |",
    "- ORM: SQLAlchemy 2.0",
    "```",
    "~~~",
    "Redis",
    "Gin",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\0",
];

/// Typical manifests of each format, beside the repository's own files.
const INLINE_SEEDS: &[(&str, &str)] = &[
    (
        "pyproject.toml",
        r#"[tool.poetry]
name = "billing"
version = "1.4.0"

[tool.poetry.dependencies]
python = "^3.11"
Django = "^5.0"
psycopg = { version = "^3.1.18", extras = ["binary", "pool"] }
celery = [
    { version = "^5.3", python = ">=3.8" },
    { version = "^5.2", python = "<3.8" },
]

[tool.poetry.group.dev.dependencies]
pytest-django = "*"

[tool.pdm.dev-dependencies]
lint = ["mypy>=1.9"]

[tool.uv]
dev-dependencies = ["ipython"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
"#,
    ),
    (
        "Pipfile",
        r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
flask = "==3.0.2"
flask-sqlalchemy = "*"
psycopg2 = {version = ">=2.9", markers = "sys_platform == 'linux'"}
redis = {extras = ["hiredis"], version = "~=5.0"}

[dev-packages]
pytest = "*"

[requires]
python_version = "3.12"
"#,
    ),
    (
        "setup.cfg",
        "[metadata]\nname = reports\nversion = attr: reports.__version__\n\n\
         [options]\npackages = find:\npython_requires = >=3.10\ninstall_requires =\n    \
         SQLAlchemy>=1.4,<2.1\n    psycopg2-binary>=2.9  # the C build needs libpq\n    \
         requests\n\n[options.extras_require]\nasync =\n    asyncpg>=0.27\n    \
         SQLAlchemy[asyncio]\ncelery = celery[redis]>=5.2\n\n; a comment\n[flake8]\n\
         max-line-length = 100\n",
    ),
    (
        "requirements.txt",
        "# production\n-r requirements/base.txt\n--index-url https://pypi.org/simple\n\
         gunicorn==21.2.0 \\\n    --hash=sha256:3213aa5e8c24949e792bcacfc176fef362e7aac80b76c56f6b5122bf350722f0\n\
         -e git+https://github.com/acme/orm-utils.git@v1.2#egg=orm-utils\n\
         ./vendor/sqlalchemy-utils\npsycopg[binary,pool]>=3.1 ; python_version >= \"3.8\"\n",
    ),
    (
        "requirements/base.txt",
        "Django>=4.2,<5\ndjango-environ==0.11.2\ncelery[redis]==5.3.6\nredis>=5\n",
    ),
    (
        "requirements/dev.txt",
        "-r base.txt\n-c ../constraints.txt\npytest-django\nfactory-boy  # fixtures\n",
    ),
    (
        "deploy/compose.override.yaml",
        r#"x-db: &db
  image: ${PG_IMAGE:-postgres:15}
  command: ["postgres", "-c", "max_connections=300", "-c", "statement_timeout=30s"]

services:
  primary:
    <<: *db
  replica:
    <<: *db
    image: "bitnami/postgresql:16.2.0"
  web:
    build: .
    command: gunicorn -w 4 --bind 0.0.0.0:8000 config.wsgi
  worker:
    command:
      - celery
      - -A
      - config
      - worker
  cache:
    image: redis:7.2-alpine
    command: redis-server --maxmemory 256mb
"#,
    ),
    (
        "package.json",
        r#"{
  "name": "admin-ui",
  "version": "2.1.0",
  "dependencies": {
    "pg": "^8.11.3",
    "knex": "~3.1.0",
    "prisma": "latest"
  },
  "devDependencies": {
    "typescript": ">=5.3.0 <6"
  }
}
"#,
    ),
    (
        "go.mod",
        "module example.com/events\n\ngo 1.22\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.5.0\n\t\
         gorm.io/gorm v1.25.7 // indirect\n)\n\nrequire github.com/redis/go-redis/v9 v9.4.0\n\n\
         replace example.com/x => ../x\n",
    ),
    (
        "docs/project/tech_stack.md",
        "# Tech stack\n\n| Layer | Technology |\n| --- | --- |\n| Database | PostgreSQL 16 |\n\
         | ORM | SQLAlchemy 2.0 |\n| Cache | Redis 7 |\n\n- Queue: Celery 5.3\n- Driver: asyncpg\n\n\
         ```yaml\nimage: mysql:8\n```\n",
    ),
    (
        "app/settings.py",
        r#"import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", "shop"),
        "CONN_MAX_AGE": 60,
        "OPTIONS": {"pool": {"min_size": 2, "max_size": 10}},
    },
    "replica": {"ENGINE": "django.db.backends.mysql", "ATOMIC_REQUESTS": True},
}
"#,
    ),
    (
        "app/db.py",
        r#"from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = "postgresql+asyncpg://app:app@db:5432/app"

engine = create_async_engine(DATABASE_URL, pool_size=20, max_overflow=5, pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
sync_engine = create_engine("mysql+pymysql://u:p@h/db", poolclass=NullPool)
Session = sessionmaker(bind=sync_engine, autoflush=False)
"#,
    ),
    (
        "app/listener.py",
        r#"import asyncpg

CHANNEL = "job_progress"


async def listen(dsn):
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(CHANNEL, on_progress)
    await conn.execute("LISTEN order_events")


def on_progress(connection, pid, channel, payload):
    print(channel, payload)


async def publish(conn, job_id):
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(job_id))
    await conn.execute(f"NOTIFY {CHANNEL}, 'done'")
"#,
    ),
    (
        "gunicorn.conf.py",
        "bind = \"0.0.0.0:8000\"\nworkers = 4\nworker_class = \"uvicorn.workers.UvicornWorker\"\n",
    ),
];

/// The path of `PATHS` a repository file stands for, if any.
fn path_for(rel: &str, bytes: &[u8]) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let text = String::from_utf8_lossy(bytes);
    Some(match name {
        "pyproject.toml" => "pyproject.toml",
        "Pipfile" => "Pipfile",
        "setup.cfg" => "setup.cfg",
        "package.json" => "package.json",
        "go.mod" => "go.mod",
        "tech_stack.md" => "docs/project/tech_stack.md",
        _ if name.ends_with(".txt") && name.contains("requirements") => "requirements.txt",
        _ if name.starts_with("docker-compose") || name.starts_with("compose.") => {
            "docker-compose.yml"
        }
        "gunicorn.conf.py" | "gunicorn_conf.py" => "gunicorn.conf.py",
        _ if name.ends_with(".py") && text.contains("DATABASES") => "app/settings.py",
        _ if name.ends_with(".py") && text.contains("create_engine") => "app/db.py",
        _ if name.ends_with(".py")
            && (text.contains("LISTEN") || text.contains("add_listener")) =>
        {
            "app/listener.py"
        }
        _ => return None,
    })
}

/// Seeds by path: the repository's manifests and settings files (rule
/// fixtures, labelled corpus, example project) and `INLINE_SEEDS`.
fn seeds() -> &'static [(&'static str, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let files = seed_files(&[
            "../weir_audit/tests/fixtures/python",
            "../weir_audit/tests/corpus",
            "../../examples",
        ]);
        let mut seeds: Vec<(&'static str, Vec<u8>)> = files
            .iter()
            .filter_map(|f| {
                let bytes = std::fs::read(f).expect("read seed");
                Some((path_for(&f.to_string_lossy(), &bytes)?, bytes))
            })
            .collect();
        let from_repository = seeds.len();
        seeds.extend(
            INLINE_SEEDS
                .iter()
                .map(|(path, text)| (*path, text.as_bytes().to_vec())),
        );
        assert!(from_repository > 20, "manifest seeds missing");
        for path in TOML.iter().chain(REQUIREMENTS).chain(COMPOSE) {
            assert!(seeds.iter().any(|(p, _)| p == path), "no seed for {path}");
        }
        seeds
    })
}

/// A seed for `path`: one written for it, or now and then any seed (a
/// compose file where the requirements are expected).
fn seed_for(rng: &mut Rng, path: &str) -> &'static [u8] {
    let seeds = seeds();
    let own: Vec<&(&str, Vec<u8>)> = seeds.iter().filter(|(p, _)| *p == path).collect();
    if own.is_empty() || rng.one_in(10) {
        &rng.pick_ref(seeds).1
    } else {
        &rng.pick_ref(&own).1
    }
}

/// A few distinct manifest paths for one case.
fn some_paths(rng: &mut Rng) -> Vec<&'static str> {
    let manifests: Vec<&'static str> = PATHS
        .iter()
        .copied()
        .filter(|p| !p.ends_with(".sql") && !p.contains("migrations/") && !p.contains("versions/"))
        .collect();
    let mut paths: Vec<&'static str> = Vec::new();
    for _ in 0..=rng.below(4) {
        let path = rng.pick(&manifests);
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

fn run(name: &str, cases: u64, generate: impl Fn(&mut Rng) -> Vec<u8> + Send + 'static) {
    let dir = tempfile::tempdir().expect("temporary directory");
    fuzz(name, cases, generate, move |input| {
        check_project(&dir.path().join("project"), input);
    });
}

#[test]
fn manifests_random_bytes() {
    run("manifests_random_bytes", 2_000, |rng| {
        let files: Vec<(&str, Vec<u8>)> = some_paths(rng)
            .into_iter()
            .map(|path| {
                let len = rng.below(300);
                let bytes = (0..len)
                    .map(|_| {
                        if rng.one_in(8) {
                            rng.byte()
                        } else {
                            rng.pick(b" \n\t[]{}()=:;,.-'\"#\\<>~^*@$abcdefgpqrsxyz0123456789_")
                        }
                    })
                    .collect();
                (path, bytes)
            })
            .collect();
        bundle(&files)
    });
}

#[test]
fn manifests_token_soup() {
    run("manifests_token_soup", 2_000, |rng| {
        let files: Vec<(&str, Vec<u8>)> = some_paths(rng)
            .into_iter()
            .map(|path| {
                let mut text = String::new();
                for _ in 0..rng.below(80) {
                    text.push_str(rng.pick(TOKENS));
                    text.push_str(rng.pick(&["", " ", "\n", "\n  ", "\n    - "]));
                }
                (path, text.into_bytes())
            })
            .collect();
        bundle(&files)
    });
}

#[test]
fn manifests_mutated() {
    run("manifests_mutated", 2_000, |rng| {
        let files: Vec<(&str, Vec<u8>)> = some_paths(rng)
            .into_iter()
            .map(|path| {
                let seed = seed_for(rng, path);
                let other = seed_for(rng, path);
                (path, mutate(rng, seed, other, TOKENS))
            })
            .collect();
        bundle(&files)
    });
}

/// `open` repeated `depth` times, then `middle`, then `close` as often.
fn nest(depth: usize, open: &str, middle: &str, close: &str) -> String {
    let mut out = open.repeat(depth);
    out.push_str(middle);
    out.push_str(&close.repeat(depth));
    out
}

/// One deeply nested or very long construct of one format.
fn deep_file(rng: &mut Rng) -> (&'static str, String) {
    let depth = 1 + rng.below(10_000);
    match rng.below(16) {
        0 => (
            "pyproject.toml",
            format!(
                "[project]\ndependencies = {}\n",
                nest(depth, "[", "\"sqlalchemy>=2\"", "]")
            ),
        ),
        1 => (
            "pyproject.toml",
            format!(
                "[tool.poetry.dependencies]\nsqlalchemy = {}\n",
                nest(depth, "{ a = ", "\"^2.0\"", " }")
            ),
        ),
        2 => (
            rng.pick(TOML),
            format!("[{}]\nx = 1\n", vec!["tool"; depth].join(".")),
        ),
        3 => (
            rng.pick(TOML),
            format!("{} = \"^2.0\"\n", vec!["poetry"; depth].join(".")),
        ),
        4 => (
            rng.pick(TOML),
            "[[packages]]\nname = \"x\"\n".repeat(depth.min(3_000)),
        ),
        5 => (
            rng.pick(COMPOSE),
            format!("services: {}\n", nest(depth, "[", "postgres", "]")),
        ),
        6 => (
            rng.pick(COMPOSE),
            format!(
                "services:\n  db:\n    image: postgres:16\n    command: {}\n",
                nest(depth, "{a: ", "b", "}")
            ),
        ),
        7 => {
            // Block nesting by indentation.
            let depth = depth.min(2_000);
            let mut text = String::from("services:\n");
            for level in 1..=depth {
                text.push_str(&" ".repeat(level));
                text.push_str("db:\n");
            }
            text.push_str(&" ".repeat(depth + 1));
            text.push_str("image: postgres:16\n");
            (rng.pick(COMPOSE), text)
        }
        8 => {
            // An alias bomb: each level refers to the previous one ten times.
            let mut text = String::from("x-0: &a0 [postgres, redis]\n");
            for level in 1..=1 + rng.below(12) {
                let refs = vec![format!("*a{}", level - 1); 10].join(", ");
                let _ = writeln!(text, "x-{level}: &a{level} [{refs}]");
            }
            text.push_str("services:\n  db:\n    image: postgres:16\n    command: *a3\n");
            (rng.pick(COMPOSE), text)
        }
        9 => (
            "package.json",
            format!(
                "{{\"dependencies\": {{\"pg\": {}}}}}\n",
                nest(depth, "[", "1", "]")
            ),
        ),
        10 => (
            rng.pick(REQUIREMENTS),
            format!("sqlalchemy{}>=2.0\n", "\\\n".repeat(depth)),
        ),
        11 => (
            rng.pick(REQUIREMENTS),
            format!(
                "psycopg2>=2.9 ; {}\n",
                nest(depth, "(", "python_version > \"3.8\"", ")")
            ),
        ),
        12 => (
            "setup.cfg",
            // Each line is a source of the same technology: deduplicating
            // them must not be quadratic (it was, a linear scan per line).
            format!(
                "[options]\ninstall_requires =\n{}",
                "    sqlalchemy>=2\n".repeat(depth)
            ),
        ),
        13 => (
            "docs/project/tech_stack.md",
            format!(
                "{}PostgreSQL 16\n{}",
                nest(depth.min(2_000), "- ", "", ""),
                "| Database | PostgreSQL 16 ".repeat(depth.min(2_000))
            ),
        ),
        14 => ("go.mod", "require (\n".repeat(depth)),
        _ => (
            rng.pick(PYTHON_CONFIG),
            format!(
                "DATABASES = {}\n",
                nest(depth.min(300), "{\"default\": ", "{\"ENGINE\": \"x\"}", "}")
            ),
        ),
    }
}

#[test]
fn manifests_deep_nesting() {
    run("manifests_deep_nesting", 300, |rng| {
        let mut files = vec![deep_file(rng)];
        if rng.one_in(3) {
            // `-r` includes that form a cycle, around the deep file if it is one.
            for (path, text) in [
                ("requirements.txt", "-r requirements/dev.txt\n"),
                (
                    "requirements/dev.txt",
                    "-r ../requirements.txt\n-r base.txt\n",
                ),
                ("requirements/base.txt", "-r base.txt\n-r dev.txt\n"),
            ] {
                if files[0].0 != path {
                    files.push((path, text.to_string()));
                }
            }
        }
        let files: Vec<(&str, Vec<u8>)> = files
            .into_iter()
            .map(|(p, text)| (p, text.into_bytes()))
            .collect();
        bundle(&files)
    });
}
