//! Linear: one issue through the GraphQL API (`https://api.linear.app/graphql`,
//! or `WEIR_LINEAR_URL`), authenticated with `LINEAR_API_KEY`, which is
//! never printed. The team comes from the configuration or the board's
//! Linear configuration table; the labels are looked up and created when
//! missing; the issue goes into the Epic 0 project, or under the Epic 0
//! issue when the epic is an issue. Requests time out, and 429 and 5xx
//! answers (and failed connections) are retried with backoff.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::{LABELS, Task};
use crate::config::Config;

pub const DEFAULT_URL: &str = "https://api.linear.app/graphql";
const ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    agent: ureq::Agent,
    url: String,
    key: String,
    backoff: Duration,
}

impl Client {
    fn from_env() -> Result<Client> {
        let key = std::env::var("LINEAR_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| anyhow!("LINEAR_API_KEY is not set: create a personal API key in Linear (Settings → Security & access) and export it"))?;
        let url = std::env::var("WEIR_LINEAR_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
        // A test hook: the first retry waits this long, doubling each time.
        let backoff = std::env::var("WEIR_LINEAR_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(500), Duration::from_millis);
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            url,
            key: key.trim().to_string(),
            backoff,
        })
    }

    /// Runs one GraphQL operation and returns its `data`.
    fn graphql(&self, what: &str, query: &str, variables: &Value) -> Result<Value> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut last_problem = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(self.backoff * 2u32.pow(attempt - 1));
            }
            let response = self
                .agent
                .post(&self.url)
                .header("Authorization", &self.key)
                .header("Content-Type", "application/json")
                .header("User-Agent", concat!("weir/", env!("CARGO_PKG_VERSION")))
                .send(body.as_str());
            let mut response = match response {
                Ok(r) => r,
                Err(e) => {
                    last_problem = format!("cannot reach {} ({e})", self.url);
                    continue;
                }
            };
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            if status == 429 || status >= 500 {
                last_problem = format!("Linear answered HTTP {status} {}", short(&text));
                if let Some(wait) = retry_after(&response) {
                    std::thread::sleep(wait);
                }
                continue;
            }
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status == 401 || status == 403 || is_auth_error(&parsed) {
                bail!(
                    "Linear rejected the API key (HTTP {status}) while {what}: check LINEAR_API_KEY"
                );
            }
            if let Some(errors) = parsed
                .get("errors")
                .and_then(Value::as_array)
                .filter(|e| !e.is_empty())
            {
                let messages: Vec<&str> = errors
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .collect();
                bail!(
                    "Linear returned an error while {what}: {}",
                    messages.join("; ")
                );
            }
            if !(200..300).contains(&status) {
                bail!(
                    "Linear answered HTTP {status} while {what}: {}",
                    short(&text)
                );
            }
            return parsed
                .get("data")
                .cloned()
                .filter(|d| !d.is_null())
                .ok_or_else(|| {
                    anyhow!("Linear's answer while {what} has no data: {}", short(&text))
                });
        }
        bail!("{last_problem} while {what}; gave up after {ATTEMPTS} attempts")
    }
}

fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.min(30)))
}

fn is_auth_error(answer: &Value) -> bool {
    answer["errors"].as_array().is_some_and(|errors| {
        errors.iter().any(|e| {
            let code = e["extensions"]["code"]
                .as_str()
                .or_else(|| e["extensions"]["type"].as_str());
            code.is_some_and(|c| c.to_ascii_lowercase().contains("authentication"))
        })
    })
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    t.replace('\n', " ")
}

const TEAMS: &str = "query WeirTeams { teams(first: 250) { nodes { id key name } } }";
const LABELS_QUERY: &str = "query WeirLabels($names: [String!]) { issueLabels(first: 250, filter: { name: { in: $names } }) { nodes { id name team { id } } } }";
const LABEL_CREATE: &str = "mutation WeirLabelCreate($input: IssueLabelCreateInput!) { issueLabelCreate(input: $input) { success issueLabel { id name } } }";
const PROJECTS: &str = "query WeirProjects($prefix: String!) { projects(first: 50, filter: { name: { containsIgnoreCase: $prefix } }) { nodes { id name } } }";
const EPIC_ISSUES: &str = "query WeirEpicIssues($team: ID!, $prefix: String!) { issues(first: 50, filter: { team: { id: { eq: $team } }, title: { containsIgnoreCase: $prefix } }) { nodes { id identifier title } } }";
const ISSUE_CREATE: &str = "mutation WeirIssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }";

/// The team for `wanted` (UUID, key or name).
fn find_team(client: &Client, wanted: &str) -> Result<String> {
    let data = client.graphql("listing teams", TEAMS, &json!({}))?;
    let teams = data["teams"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found = teams.iter().find(|t| {
        t["id"].as_str() == Some(wanted)
            || t["key"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(wanted))
            || t["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
    });
    if let Some(team) = found {
        Ok(team["id"].as_str().unwrap_or_default().to_string())
    } else {
        let known: Vec<String> = teams
            .iter()
            .map(|t| {
                format!(
                    "{} ({})",
                    t["key"].as_str().unwrap_or("?"),
                    t["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        bail!(
            "Linear has no team `{wanted}` (this key sees: {}); fix the board's Linear configuration table or `linear-team` in [tool.weir.publish]",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )
    }
}

/// The ids of the three labels, created in the team when missing.
fn labels(client: &Client, team: &str) -> Result<Vec<String>> {
    let data = client.graphql(
        "looking up labels",
        LABELS_QUERY,
        &json!({ "names": LABELS }),
    )?;
    let nodes = data["issueLabels"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut ids = Vec::new();
    for name in LABELS {
        let usable = nodes.iter().find(|l| {
            l["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && (l["team"].is_null() || l["team"]["id"].as_str() == Some(team))
        });
        let id = if let Some(label) = usable {
            label["id"].as_str().unwrap_or_default().to_string()
        } else {
            let created = client.graphql(
                &format!("creating the label `{name}`"),
                LABEL_CREATE,
                &json!({ "input": { "name": name, "teamId": team } }),
            )?;
            created["issueLabelCreate"]["issueLabel"]["id"]
                .as_str()
                .filter(|_| created["issueLabelCreate"]["success"] == true)
                .ok_or_else(|| anyhow!("Linear did not create the label `{name}`"))?
                .to_string()
        };
        ids.push(id);
    }
    Ok(ids)
}

/// Where the issue goes: `("projectId", id)` or `("parentId", id)`.
fn find_epic(client: &Client, team: &str, epic: &str) -> Result<(&'static str, String)> {
    // "Epic 0: Technical Debt" is found by its full name, or by "Epic 0".
    let prefix = epic.split(':').next().unwrap_or(epic).trim();
    let pick = |nodes: &[Value], field: &str| -> Option<String> {
        let name = |n: &Value| n[field].as_str().unwrap_or_default().to_string();
        nodes
            .iter()
            .find(|n| name(n).eq_ignore_ascii_case(epic))
            .or_else(|| {
                nodes.iter().find(|n| {
                    let name = name(n);
                    let rest = name.get(prefix.len()..).unwrap_or("x");
                    name.to_ascii_lowercase()
                        .starts_with(&prefix.to_ascii_lowercase())
                        && !rest.starts_with(|c: char| c.is_ascii_digit())
                })
            })
            .and_then(|n| n["id"].as_str().map(ToString::to_string))
    };
    let projects = client.graphql(
        "looking up the Epic 0 project",
        PROJECTS,
        &json!({ "prefix": prefix }),
    )?;
    let nodes = projects["projects"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(id) = pick(&nodes, "name") {
        return Ok(("projectId", id));
    }
    let issues = client.graphql(
        "looking up the Epic 0 issue",
        EPIC_ISSUES,
        &json!({ "team": team, "prefix": prefix }),
    )?;
    let nodes = issues["issues"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(id) = pick(&nodes, "title") {
        return Ok(("parentId", id));
    }
    bail!(
        "Linear has no project or issue named `{epic}` (nor starting with `{prefix}`): create the technical-debt epic, or name it with `epic` in [tool.weir.publish]"
    )
}

/// Which team: configuration first, then the board's table.
fn team_setting(root: &Path, config: &Config) -> Result<String> {
    if let Some(team) = &config.publish.linear_team.value {
        return Ok(team.clone());
    }
    let board = root.join(&config.publish.board.value);
    let text = std::fs::read_to_string(&board).with_context(|| {
        format!(
            "no Linear team: set `linear-team` in [tool.weir.publish], or add a Linear configuration table to `{}`",
            board.display()
        )
    })?;
    super::board::linear_team(&text).ok_or_else(|| {
        anyhow!(
            "no Linear team: `{}` has no Linear configuration table with a Team UUID, Team ID or Team Key row; or set `linear-team` in [tool.weir.publish]",
            board.display()
        )
    })
}

/// Creates the issue; returns its identifier and URL.
pub fn publish(root: &Path, config: &Config, task: &Task) -> Result<String> {
    let wanted = team_setting(root, config)?;
    let client = Client::from_env()?;
    let team = find_team(&client, &wanted)?;
    let epic = find_epic(&client, &team, &config.publish.epic.value)?;
    let label_ids = labels(&client, &team)?;
    let mut input = json!({
        "teamId": team,
        "title": task.title,
        "description": task.body,
        "labelIds": label_ids,
        "priority": task.priority,
    });
    input[epic.0] = json!(epic.1);
    let data = client.graphql(
        "creating the issue",
        ISSUE_CREATE,
        &json!({ "input": input }),
    )?;
    let created = &data["issueCreate"];
    if created["success"] != true {
        bail!(
            "Linear did not create the issue: {}",
            short(&created.to_string())
        );
    }
    Ok(format!(
        "created Linear issue {} {}",
        created["issue"]["identifier"].as_str().unwrap_or("?"),
        created["issue"]["url"].as_str().unwrap_or("")
    ))
}
