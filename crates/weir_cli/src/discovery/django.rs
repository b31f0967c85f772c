//! Django's `DATABASES` setting, from the IR of any module that assigns it
//! at top level: each alias with `ENGINE`, `CONN_MAX_AGE`,
//! `CONN_HEALTH_CHECKS`, `ATOMIC_REQUESTS`, `AUTOCOMMIT` and `OPTIONS`, also
//! through `dj_database_url.config(conn_max_age=…)`.

use weir_audit::context::{ConfigValue, DjangoDatabase};
use weir_ir::{Call, Expr, ExprKind, Module};

use super::resolve::Project;

pub fn collect(project: &Project<'_>, modules: &[Module]) -> Vec<DjangoDatabase> {
    let mut out = Vec::new();
    for module in modules {
        let Some(top) = module.top_level() else {
            continue;
        };
        for stmt in &top.body {
            let Some((targets, value)) = stmt.plain_assign() else {
                continue;
            };
            if !targets.iter().any(|t| t.as_name() == Some("DATABASES")) {
                continue;
            }
            let ExprKind::Dict { entries } = &value.kind else {
                continue;
            };
            for (key, entry) in entries {
                // `{DEFAULT_DB: …}`: aliases may be constants.
                let Some(alias) = key.as_ref().and_then(|k| project.string(module, None, k)) else {
                    continue;
                };
                let mut database = DjangoDatabase {
                    alias,
                    file: module.path.clone(),
                    line: key.as_ref().map_or(stmt.span.line, |k| k.span.line),
                    engine: None,
                    conn_max_age: None,
                    conn_health_checks: None,
                    atomic_requests: None,
                    autocommit: None,
                    options: Vec::new(),
                };
                match &entry.kind {
                    ExprKind::Dict { entries } => {
                        read_dict(project, module, entries, &mut database);
                    }
                    ExprKind::Call(call) => read_url_helper(project, module, call, &mut database),
                    _ => {}
                }
                out.push(database);
            }
        }
    }
    out
}

fn read_dict(
    project: &Project<'_>,
    module: &Module,
    entries: &[(Option<Expr>, Expr)],
    db: &mut DjangoDatabase,
) {
    for (key, value) in entries {
        let Some(key) = key.as_ref().and_then(Expr::as_str) else {
            continue;
        };
        let resolved = || Some(project.value(module, None, value));
        match key {
            "ENGINE" => db.engine = resolved(),
            "CONN_MAX_AGE" => db.conn_max_age = resolved(),
            "CONN_HEALTH_CHECKS" => db.conn_health_checks = resolved(),
            "ATOMIC_REQUESTS" => db.atomic_requests = resolved(),
            "AUTOCOMMIT" => db.autocommit = resolved(),
            "OPTIONS" => {
                if let ExprKind::Dict { entries } = &value.kind {
                    for (option, option_value) in entries {
                        if let Some(option) = option.as_ref().and_then(Expr::as_str) {
                            db.options.push((
                                option.to_string(),
                                project.value(module, None, option_value),
                            ));
                        }
                    }
                    db.options.sort_by(|a, b| a.0.cmp(&b.0));
                }
            }
            _ => {}
        }
    }
}

/// `dj_database_url.config(conn_max_age=600, conn_health_checks=True)` and `.parse(url, …)`.
fn read_url_helper(project: &Project<'_>, module: &Module, call: &Call, db: &mut DjangoDatabase) {
    let is_helper = call
        .qualified
        .as_deref()
        .is_some_and(|q| q.starts_with("dj_database_url.") || q.starts_with("environ."))
        || call.method_name() == Some("db_url");
    if !is_helper {
        return;
    }
    let kw = |name: &str| call.keyword(name).map(|v| project.value(module, None, v));
    db.conn_max_age = kw("conn_max_age");
    db.conn_health_checks = kw("conn_health_checks");
    db.engine = kw("engine");
    // The URL scheme names the backend: `default="postgres://…"`.
    if db.engine.is_none()
        && let Some(ConfigValue::Str(url)) = call
            .keyword("default")
            .or_else(|| call.positional(0))
            .map(|v| project.value(module, None, v))
        && let Some((scheme, _)) = url.split_once("://")
        && let Some(backend) = backend_of_scheme(scheme)
    {
        db.engine = Some(ConfigValue::Str(backend.to_string()));
    }
}

/// The `ENGINE` dj-database-url sets for a URL scheme.
fn backend_of_scheme(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "postgres" | "postgresql" | "pgsql" => "django.db.backends.postgresql",
        "postgis" => "django.contrib.gis.db.backends.postgis",
        "mysql" => "django.db.backends.mysql",
        "mysqlgis" => "django.contrib.gis.db.backends.mysql",
        "sqlite" => "django.db.backends.sqlite3",
        "spatialite" => "django.contrib.gis.db.backends.spatialite",
        _ => return None,
    })
}

/// The catalogue id of the database an `ENGINE` (or URL scheme) names.
pub fn database_of(engine: &str) -> Option<&'static str> {
    let backend = engine.rsplit('.').next().unwrap_or(engine);
    match backend {
        "postgresql" | "postgresql_psycopg2" | "postgis" | "postgres" | "pgsql" => {
            Some("postgresql")
        }
        "mysql" | "mysqlgis" => Some("mysql"),
        "sqlite3" | "spatialite" | "sqlite" => Some("sqlite"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_setting() {
        let modules = vec![
            weir_lang::lower(
                "mysite/settings.py",
                r#"import os
import dj_database_url

CONN_AGE = 600
REPLICA = "analytics"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", "shop"),
        "CONN_MAX_AGE": CONN_AGE,
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": True,
        "OPTIONS": {"pool": True, "isolation_level": 3},
    },
    REPLICA: dj_database_url.config(default="postgres://ro@replica/analytics", conn_max_age=60),
}
"#,
            )
            .unwrap(),
        ];
        let project = Project::new(&modules);
        let dbs = collect(&project, &modules);
        assert_eq!(dbs.len(), 2);
        let default = &dbs[0];
        assert_eq!(default.alias, "default");
        assert_eq!(default.line, 8);
        assert_eq!(
            default.engine,
            Some(ConfigValue::Str("django.db.backends.postgresql".into()))
        );
        assert_eq!(default.conn_max_age, Some(ConfigValue::Int(600)));
        assert_eq!(default.atomic_requests, Some(ConfigValue::Bool(true)));
        assert_eq!(
            default.options,
            vec![
                ("isolation_level".to_string(), ConfigValue::Int(3)),
                ("pool".to_string(), ConfigValue::Bool(true)),
            ]
        );
        let analytics = &dbs[1];
        assert_eq!(analytics.alias, "analytics");
        assert_eq!(analytics.conn_max_age, Some(ConfigValue::Int(60)));
        assert_eq!(
            analytics.engine,
            Some(ConfigValue::Str("django.db.backends.postgresql".into()))
        );
        assert_eq!(
            database_of("django.db.backends.postgresql"),
            Some("postgresql")
        );
        assert_eq!(
            database_of("django.contrib.gis.db.backends.postgis"),
            Some("postgresql")
        );
    }
}
