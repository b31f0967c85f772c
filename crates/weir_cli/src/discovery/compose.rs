//! Compose files (`docker-compose*.yml`, `compose*.yaml`): the database
//! behind each service image (`postgres:16-alpine` → PostgreSQL 16) and the
//! server settings of its `command` (`postgres -c max_connections=100`).
//! Read with saphyr, a YAML 1.2 parser that keeps positions.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use weir_audit::context::catalog::{self, Technology};

use super::{Problem, versions};

/// A database image found in a service.
#[derive(Debug)]
pub struct ServiceImage {
    pub service: String,
    pub technology: &'static Technology,
    pub version: Option<String>,
    /// The image as written, variables substituted.
    pub image: String,
    pub line: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Setting {
    pub service: String,
    pub database: &'static str,
    pub name: String,
    pub value: String,
    pub line: u32,
}

/// Worker processes of an application server started by a service command.
#[derive(Debug, PartialEq, Eq)]
pub struct AppServer {
    pub service: String,
    pub server: &'static str,
    pub workers: u32,
    pub line: u32,
}

#[derive(Debug, Default)]
pub struct ComposeFile {
    pub images: Vec<ServiceImage>,
    pub settings: Vec<Setting>,
    pub workers: Vec<AppServer>,
    pub problems: Vec<Problem>,
}

fn as_str<'a>(node: &'a MarkedYaml<'_>) -> Option<&'a str> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s),
        _ => None,
    }
}

fn get<'a, 'i>(node: &'a MarkedYaml<'i>, key: &str) -> Option<&'a MarkedYaml<'i>> {
    let YamlData::Mapping(map) = &node.data else {
        return None;
    };
    map.iter()
        .find(|(k, _)| as_str(k) == Some(key))
        .map(|(_, v)| v)
}

fn line_of(node: &MarkedYaml<'_>) -> u32 {
    u32::try_from(node.span.start.line()).unwrap_or(u32::MAX)
}

pub fn read(text: &str) -> ComposeFile {
    let mut out = ComposeFile::default();
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(docs) => docs,
        Err(e) => {
            // An error at the end of the text is marked on the line after
            // the last one when the text ends without a line break.
            let last = text.lines().count().max(1);
            out.problems.push(Problem {
                line: Some(u32::try_from(e.marker().line().min(last)).unwrap_or(u32::MAX)),
                message: format!("invalid YAML: {}", e.info()),
            });
            return out;
        }
    };
    for doc in &docs {
        let Some(YamlData::Mapping(services)) = get(doc, "services").map(|s| &s.data) else {
            continue;
        };
        for (name, service) in services {
            let name = as_str(name).unwrap_or_default().to_string();
            read_service(&name, service, &mut out);
        }
    }
    out
}

fn command_args(command: &MarkedYaml<'_>) -> Vec<String> {
    match &command.data {
        YamlData::Value(Scalar::String(s)) => shell_words(s),
        YamlData::Sequence(items) => items
            .iter()
            .filter_map(as_str)
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `gunicorn -w 4`, `gunicorn --workers=4`, `uvicorn --workers 2`,
/// `hypercorn -w 2`: the server and its worker count.
pub fn app_workers(args: &[String]) -> Option<(&'static str, u32)> {
    let server = args.iter().find_map(|a| {
        let base = a.rsplit('/').next().unwrap_or(a);
        ["gunicorn", "uvicorn", "hypercorn"]
            .into_iter()
            .find(|s| base == *s)
    })?;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = match arg.as_str() {
            "-w" | "--workers" => iter.next().map(String::as_str),
            _ => arg
                .strip_prefix("--workers=")
                .or_else(|| arg.strip_prefix("-w").filter(|r| !r.is_empty())),
        };
        if let Some(n) = value.and_then(|v| v.parse::<u32>().ok()) {
            return Some((server, n));
        }
    }
    None
}

fn read_service(name: &str, service: &MarkedYaml<'_>, out: &mut ComposeFile) {
    if let Some(command) = get(service, "command")
        && let Some((server, workers)) = app_workers(&command_args(command))
    {
        out.workers.push(AppServer {
            service: name.to_string(),
            server,
            workers,
            line: line_of(command),
        });
    }
    let Some(image_node) = get(service, "image") else {
        return;
    };
    let Some(raw) = as_str(image_node) else {
        out.problems.push(Problem {
            line: Some(line_of(image_node)),
            message: format!("service `{name}`: `image` is not a string"),
        });
        return;
    };
    let image = substitute_variables(raw);
    let (repository, tag) = split_image(&image);
    let Some(technology) = catalog::by_image(repository) else {
        return;
    };
    out.images.push(ServiceImage {
        service: name.to_string(),
        technology,
        version: tag.and_then(versions::from_image_tag),
        image: image.clone(),
        line: line_of(image_node),
    });
    let Some(command) = get(service, "command") else {
        return;
    };
    let args = command_args(command);
    for (setting, value) in server_settings(technology.id, &args) {
        out.settings.push(Setting {
            service: name.to_string(),
            database: technology.id,
            name: setting,
            value,
            line: line_of(command),
        });
    }
}

/// `postgres:16-alpine` → (`postgres`, `16-alpine`); a digest drops the tag;
/// a registry port (`host:5000/redis`) is not a tag.
fn split_image(image: &str) -> (&str, Option<&str>) {
    let image = image.split('@').next().unwrap_or(image);
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(at) => (
            &image[..name_start + at],
            Some(&image[name_start + at + 1..]),
        ),
        None => (image, None),
    }
}

/// `${PG_VERSION:-16}` and `${PG_VERSION-16}` take their default; a variable
/// without one stays as written.
fn substitute_variables(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 2..start + end];
        match inner.split_once(":-").or_else(|| inner.split_once('-')) {
            Some((_, default)) => out.push_str(default),
            None => out.push_str(&rest[start..=start + end]),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whitespace-separated words with simple `'…'`/`"…"` quoting, as a compose
/// `command:` string is split.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// `-c name=value` / `--name=value` (PostgreSQL) and `--name=value` (MySQL,
/// MariaDB) arguments of the server command.
fn server_settings(database: &str, args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let assignment = if arg == "-c" && database == "postgresql" {
            iter.next().map(String::as_str)
        } else if let Some(rest) = arg.strip_prefix("-c").filter(|_| database == "postgresql") {
            Some(rest)
        } else {
            arg.strip_prefix("--")
        };
        if let Some((name, value)) = assignment.and_then(|a| a.split_once('='))
            && matches!(database, "postgresql" | "mysql" | "mariadb")
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            out.push((name.replace('-', "_"), value.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_images_and_command_settings() {
        let file = read(
            r#"services:
  db:
    image: postgres:${PG_MAJOR:-16}-alpine
    command: postgres -c max_connections=200 -c 'shared_buffers=256MB'
    environment:
      POSTGRES_PASSWORD: example
  cache:
    image: docker.io/library/redis:7.2
  mysql:
    image: mysql:8.0
    command: ["mysqld", "--max-connections=500", "--innodb_buffer_pool_size=1G"]
  api:
    build: .
    image: registry.example.com:5000/acme/api:1.4
"#,
        );
        assert!(file.problems.is_empty(), "{:?}", file.problems);
        let images: Vec<(&str, &str, Option<&str>, u32)> = file
            .images
            .iter()
            .map(|i| {
                (
                    i.service.as_str(),
                    i.technology.id,
                    i.version.as_deref(),
                    i.line,
                )
            })
            .collect();
        assert_eq!(
            images,
            vec![
                ("db", "postgresql", Some("16"), 3),
                ("cache", "redis", Some("7.2"), 8),
                ("mysql", "mysql", Some("8.0"), 10),
            ]
        );
        let settings: Vec<(&str, &str, &str, u32)> = file
            .settings
            .iter()
            .map(|s| {
                (
                    s.service.as_str(),
                    s.name.as_str(),
                    s.value.as_str(),
                    s.line,
                )
            })
            .collect();
        assert_eq!(
            settings,
            vec![
                ("db", "max_connections", "200", 4),
                ("db", "shared_buffers", "256MB", 4),
                ("mysql", "max_connections", "500", 11),
                ("mysql", "innodb_buffer_pool_size", "1G", 11),
            ]
        );
    }

    #[test]
    fn malformed_yaml_names_its_line() {
        let file = read("services:\n  db:\n    image: postgres:16\n   broken: [\n");
        assert!(file.images.is_empty());
        assert_eq!(file.problems.len(), 1);
        assert!(
            file.problems[0].line.is_some_and(|l| l >= 3),
            "{:?}",
            file.problems
        );
        let file = read("services:\n  db:\n    image: [postgres, 16]\n");
        assert_eq!(file.problems[0].line, Some(3));
        // Found by fuzzing: an error at the end of a text without a final
        // line break was put on a line the file does not have.
        let file = read("?   d\u{fffd} \nservices-");
        assert_eq!(file.problems[0].line, Some(2), "{:?}", file.problems);
    }

    #[test]
    fn image_names() {
        assert_eq!(split_image("postgres"), ("postgres", None));
        assert_eq!(split_image("postgres:16"), ("postgres", Some("16")));
        assert_eq!(
            split_image("localhost:5000/redis"),
            ("localhost:5000/redis", None)
        );
        assert_eq!(split_image("postgres@sha256:abc"), ("postgres", None));
        assert_eq!(substitute_variables("postgres:${TAG}"), "postgres:${TAG}");
    }
}
