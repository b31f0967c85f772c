//! The technologies discovery recognises, as data: how each is named in
//! package manifests (PyPI, npm, Go modules), imports, container images and
//! prose, what role it plays, and what it implies (asyncpg → PostgreSQL).
//! Adding a technology is one entry here.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Database,
    Orm,
    AsyncFramework,
    WebFramework,
    Driver,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Database,
        Role::Orm,
        Role::AsyncFramework,
        Role::WebFramework,
        Role::Driver,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    PyPI,
    Npm,
    Go,
}

#[derive(Debug)]
pub struct Technology {
    pub id: &'static str,
    /// Roles with the display name in each (Django is an ORM and a web framework).
    pub roles: &'static [(Role, &'static str)],
    pub pypi: &'static [&'static str],
    pub npm: &'static [&'static str],
    pub go: &'static [&'static str],
    pub import_roots: &'static [&'static str],
    /// Image repositories without registry or tag (`postgres`, `bitnami/postgresql`).
    pub images: &'static [&'static str],
    /// Names in prose besides the display names (`Postgres`).
    pub aliases: &'static [&'static str],
    /// Ids of technologies this one implies.
    pub implies: &'static [&'static str],
}

const fn tech(id: &'static str, roles: &'static [(Role, &'static str)]) -> Technology {
    Technology {
        id,
        roles,
        pypi: &[],
        npm: &[],
        go: &[],
        import_roots: &[],
        images: &[],
        aliases: &[],
        implies: &[],
    }
}

use Role::{AsyncFramework, Database, Driver, Orm, WebFramework};

/// Python packages and their import roots, the common case: one line each.
const fn py(
    id: &'static str,
    role: &'static [(Role, &'static str)],
    pypi: &'static [&'static str],
    roots: &'static [&'static str],
    implies: &'static [&'static str],
) -> Technology {
    Technology {
        pypi,
        import_roots: roots,
        implies,
        ..tech(id, role)
    }
}

pub const TECHNOLOGIES: &[Technology] = &[
    // Databases
    Technology {
        images: &[
            "postgres",
            "bitnami/postgresql",
            "postgis/postgis",
            "timescale/timescaledb",
            "timescale/timescaledb-ha",
            "pgvector/pgvector",
            "ankane/pgvector",
            "supabase/postgres",
            "cimg/postgres",
        ],
        aliases: &["Postgres"],
        ..tech("postgresql", &[(Database, "PostgreSQL")])
    },
    Technology {
        images: &["mysql", "bitnami/mysql", "mysql/mysql-server"],
        ..tech("mysql", &[(Database, "MySQL")])
    },
    Technology {
        images: &["mariadb", "bitnami/mariadb"],
        ..tech("mariadb", &[(Database, "MariaDB")])
    },
    tech("sqlite", &[(Database, "SQLite")]),
    Technology {
        images: &[
            "redis",
            "bitnami/redis",
            "redis/redis-stack",
            "redis/redis-stack-server",
        ],
        ..tech("redis", &[(Database, "Redis")])
    },
    Technology {
        images: &["mongo", "bitnami/mongodb"],
        ..tech("mongodb", &[(Database, "MongoDB")])
    },
    // ORMs
    py(
        "sqlalchemy",
        &[(Orm, "SQLAlchemy")],
        &["sqlalchemy"],
        &["sqlalchemy"],
        &[],
    ),
    py(
        "sqlmodel",
        &[(Orm, "SQLModel")],
        &["sqlmodel"],
        &["sqlmodel"],
        &["sqlalchemy"],
    ),
    py(
        "flask-sqlalchemy",
        &[(Orm, "Flask-SQLAlchemy")],
        &["flask-sqlalchemy"],
        &["flask_sqlalchemy"],
        &["sqlalchemy", "flask"],
    ),
    Technology {
        aliases: &["Django ORM"],
        ..py(
            "django",
            &[(Orm, "Django ORM"), (WebFramework, "Django")],
            &["django"],
            &["django"],
            &[],
        )
    },
    py(
        "tortoise-orm",
        &[(Orm, "Tortoise ORM")],
        &["tortoise-orm"],
        &["tortoise"],
        &["asyncio"],
    ),
    py("peewee", &[(Orm, "peewee")], &["peewee"], &["peewee"], &[]),
    py("pony", &[(Orm, "Pony ORM")], &["pony"], &["pony"], &[]),
    Technology {
        npm: &["prisma", "@prisma/client"],
        ..py("prisma", &[(Orm, "Prisma")], &["prisma"], &["prisma"], &[])
    },
    Technology {
        npm: &["typeorm"],
        ..tech("typeorm", &[(Orm, "TypeORM")])
    },
    Technology {
        npm: &["sequelize"],
        ..tech("sequelize", &[(Orm, "Sequelize")])
    },
    Technology {
        npm: &["drizzle-orm"],
        ..tech("drizzle", &[(Orm, "Drizzle ORM")])
    },
    Technology {
        npm: &["knex"],
        ..tech("knex", &[(Orm, "Knex")])
    },
    Technology {
        go: &["gorm.io/gorm"],
        ..tech("gorm", &[(Orm, "GORM")])
    },
    Technology {
        go: &["entgo.io/ent"],
        ..tech("ent", &[(Orm, "ent")])
    },
    // Async frameworks
    py(
        "asyncio",
        &[(AsyncFramework, "asyncio")],
        &[],
        &["asyncio"],
        &[],
    ),
    py(
        "trio",
        &[(AsyncFramework, "Trio")],
        &["trio"],
        &["trio"],
        &[],
    ),
    py(
        "anyio",
        &[(AsyncFramework, "AnyIO")],
        &["anyio"],
        &["anyio"],
        &[],
    ),
    py(
        "gevent",
        &[(AsyncFramework, "gevent")],
        &["gevent"],
        &["gevent"],
        &[],
    ),
    // Web frameworks
    py(
        "fastapi",
        &[(WebFramework, "FastAPI")],
        &["fastapi", "fastapi-slim"],
        &["fastapi"],
        &["asyncio"],
    ),
    py(
        "starlette",
        &[(WebFramework, "Starlette")],
        &["starlette"],
        &["starlette"],
        &["asyncio"],
    ),
    py(
        "flask",
        &[(WebFramework, "Flask")],
        &["flask"],
        &["flask"],
        &[],
    ),
    py(
        "quart",
        &[(WebFramework, "Quart")],
        &["quart"],
        &["quart"],
        &["asyncio"],
    ),
    py(
        "aiohttp",
        &[(WebFramework, "aiohttp")],
        &["aiohttp"],
        &["aiohttp"],
        &["asyncio"],
    ),
    py(
        "litestar",
        &[(WebFramework, "Litestar")],
        &["litestar"],
        &["litestar"],
        &["asyncio"],
    ),
    py(
        "sanic",
        &[(WebFramework, "Sanic")],
        &["sanic"],
        &["sanic"],
        &["asyncio"],
    ),
    py(
        "tornado",
        &[(WebFramework, "Tornado")],
        &["tornado"],
        &["tornado"],
        &["asyncio"],
    ),
    py(
        "falcon",
        &[(WebFramework, "Falcon")],
        &["falcon"],
        &["falcon"],
        &[],
    ),
    py(
        "pyramid",
        &[(WebFramework, "Pyramid")],
        &["pyramid"],
        &["pyramid"],
        &[],
    ),
    Technology {
        npm: &["express"],
        ..tech("express", &[(WebFramework, "Express")])
    },
    Technology {
        npm: &["@nestjs/core"],
        ..tech("nestjs", &[(WebFramework, "NestJS")])
    },
    Technology {
        npm: &["fastify"],
        ..tech("fastify", &[(WebFramework, "Fastify")])
    },
    Technology {
        npm: &["koa"],
        ..tech("koa", &[(WebFramework, "Koa")])
    },
    Technology {
        go: &["github.com/gin-gonic/gin"],
        ..tech("gin", &[(WebFramework, "Gin")])
    },
    Technology {
        go: &["github.com/labstack/echo/v4", "github.com/labstack/echo"],
        ..tech("echo", &[(WebFramework, "Echo")])
    },
    Technology {
        go: &["github.com/go-chi/chi/v5", "github.com/go-chi/chi"],
        ..tech("chi", &[(WebFramework, "chi")])
    },
    Technology {
        go: &["github.com/gofiber/fiber/v2", "github.com/gofiber/fiber/v3"],
        ..tech("fiber", &[(WebFramework, "Fiber")])
    },
    // Drivers
    py(
        "asyncpg",
        &[(Driver, "asyncpg")],
        &["asyncpg"],
        &["asyncpg"],
        &["postgresql", "asyncio"],
    ),
    py(
        "psycopg2",
        &[(Driver, "psycopg2")],
        &["psycopg2", "psycopg2-binary"],
        &["psycopg2"],
        &["postgresql"],
    ),
    Technology {
        aliases: &["psycopg 3", "psycopg3"],
        ..py(
            "psycopg",
            &[(Driver, "psycopg")],
            &["psycopg", "psycopg-binary", "psycopg-c", "psycopg-pool"],
            &["psycopg", "psycopg_pool"],
            &["postgresql"],
        )
    },
    py(
        "aiopg",
        &[(Driver, "aiopg")],
        &["aiopg"],
        &["aiopg"],
        &["postgresql", "asyncio"],
    ),
    py(
        "pymysql",
        &[(Driver, "PyMySQL")],
        &["pymysql"],
        &["pymysql"],
        &["mysql"],
    ),
    py(
        "mysqlclient",
        &[(Driver, "mysqlclient")],
        &["mysqlclient"],
        &["MySQLdb"],
        &["mysql"],
    ),
    py(
        "mysql-connector",
        &[(Driver, "MySQL Connector/Python")],
        &["mysql-connector-python", "mysql-connector"],
        &["mysql"],
        &["mysql"],
    ),
    py(
        "aiomysql",
        &[(Driver, "aiomysql")],
        &["aiomysql"],
        &["aiomysql"],
        &["mysql", "asyncio"],
    ),
    py(
        "asyncmy",
        &[(Driver, "asyncmy")],
        &["asyncmy"],
        &["asyncmy"],
        &["mysql", "asyncio"],
    ),
    py(
        "sqlite3",
        &[(Driver, "sqlite3")],
        &[],
        &["sqlite3"],
        &["sqlite"],
    ),
    py(
        "aiosqlite",
        &[(Driver, "aiosqlite")],
        &["aiosqlite"],
        &["aiosqlite"],
        &["sqlite", "asyncio"],
    ),
    Technology {
        aliases: &["redis-py"],
        ..py(
            "redis-py",
            &[(Driver, "redis-py")],
            &["redis"],
            &["redis"],
            &["redis"],
        )
    },
    py(
        "aioredis",
        &[(Driver, "aioredis")],
        &["aioredis"],
        &["aioredis"],
        &["redis", "asyncio"],
    ),
    Technology {
        npm: &["pg"],
        implies: &["postgresql"],
        ..tech("node-postgres", &[(Driver, "node-postgres")])
    },
    Technology {
        npm: &["mysql2"],
        implies: &["mysql"],
        ..tech("mysql2", &[(Driver, "mysql2")])
    },
    Technology {
        npm: &["ioredis"],
        implies: &["redis"],
        ..tech("ioredis", &[(Driver, "ioredis")])
    },
    Technology {
        go: &[
            "github.com/jackc/pgx/v5",
            "github.com/jackc/pgx/v4",
            "github.com/jackc/pgx",
        ],
        implies: &["postgresql"],
        ..tech("pgx", &[(Driver, "pgx")])
    },
    Technology {
        go: &["github.com/lib/pq"],
        implies: &["postgresql"],
        ..tech("lib-pq", &[(Driver, "lib/pq")])
    },
    Technology {
        go: &["github.com/go-sql-driver/mysql"],
        implies: &["mysql"],
        ..tech("go-sql-driver-mysql", &[(Driver, "Go MySQL Driver")])
    },
    Technology {
        go: &[
            "github.com/redis/go-redis/v9",
            "github.com/go-redis/redis/v8",
        ],
        implies: &["redis"],
        ..tech("go-redis", &[(Driver, "go-redis")])
    },
];

pub fn by_id(id: &str) -> Option<&'static Technology> {
    TECHNOLOGIES.iter().find(|t| t.id == id)
}

/// PyPI compares names case-insensitively with `-`, `_` and `.` alike (PEP 503).
pub fn normalize_pypi(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

pub fn by_package(ecosystem: Ecosystem, name: &str) -> Option<&'static Technology> {
    match ecosystem {
        Ecosystem::PyPI => {
            let name = normalize_pypi(name);
            TECHNOLOGIES
                .iter()
                .find(|t| t.pypi.contains(&name.as_str()))
        }
        Ecosystem::Npm => TECHNOLOGIES.iter().find(|t| t.npm.contains(&name)),
        Ecosystem::Go => TECHNOLOGIES.iter().find(|t| t.go.contains(&name)),
    }
}

pub fn by_import_root(root: &str) -> Option<&'static Technology> {
    TECHNOLOGIES.iter().find(|t| t.import_roots.contains(&root))
}

/// By image repository: `postgres`, `docker.io/library/postgres`,
/// `bitnami/postgresql` (registry host and `library/` stripped).
pub fn by_image(repository: &str) -> Option<&'static Technology> {
    let mut repo = repository;
    if let Some((host, rest)) = repo.split_once('/')
        && (host.contains('.') || host.contains(':') || host == "localhost")
    {
        repo = rest;
    }
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    TECHNOLOGIES.iter().find(|t| t.images.contains(&repo))
}

impl Technology {
    /// Every name prose may use for it: display names and aliases.
    pub fn prose_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.roles
            .iter()
            .map(|(_, name)| *name)
            .chain(self.aliases.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_implications_resolve() {
        for (i, t) in TECHNOLOGIES.iter().enumerate() {
            assert!(
                TECHNOLOGIES[..i].iter().all(|o| o.id != t.id),
                "duplicate id {}",
                t.id
            );
            assert!(!t.roles.is_empty(), "{} has no role", t.id);
            for implied in t.implies {
                assert!(
                    by_id(implied).is_some(),
                    "{} implies unknown {implied}",
                    t.id
                );
            }
            for name in t.pypi {
                assert_eq!(
                    *name,
                    normalize_pypi(name),
                    "{}: PyPI names are normalized",
                    t.id
                );
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            by_package(Ecosystem::PyPI, "Psycopg2_Binary").unwrap().id,
            "psycopg2"
        );
        assert_eq!(
            by_package(Ecosystem::PyPI, "SQLAlchemy").unwrap().id,
            "sqlalchemy"
        );
        assert_eq!(
            by_package(Ecosystem::Npm, "@prisma/client").unwrap().id,
            "prisma"
        );
        assert_eq!(
            by_package(Ecosystem::Go, "github.com/jackc/pgx/v5")
                .unwrap()
                .id,
            "pgx"
        );
        assert_eq!(by_import_root("MySQLdb").unwrap().id, "mysqlclient");
        assert_eq!(by_image("postgres").unwrap().id, "postgresql");
        assert_eq!(
            by_image("docker.io/library/postgres").unwrap().id,
            "postgresql"
        );
        assert_eq!(
            by_image("ghcr.io/bitnami/postgresql").unwrap().id,
            "postgresql"
        );
        assert_eq!(by_image("localhost:5000/redis").unwrap().id, "redis");
        assert!(by_image("nginx").is_none());
    }
}
