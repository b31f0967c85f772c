//! `weir config`: the resolved settings as TOML, each with its origin.

use std::fmt::Write;

use clap::ValueEnum;
use weir_audit::suppress::META_RULES;

use super::{Config, Origin, Setting};

fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn line(out: &mut String, key: &str, value: &str, origin: &Origin) {
    let _ = writeln!(out, "{:<40} # {origin}", format!("{key} = {value}"));
}

fn list_line(out: &mut String, key: &str, setting: &Setting<Vec<String>>) {
    line(out, key, &list(&setting.value), &setting.origin);
}

pub fn describe(config: &Config) -> String {
    let mut out = String::new();
    let file = config
        .file
        .as_ref()
        .map_or_else(|| "none (defaults)".into(), |p| p.display().to_string());
    let _ = writeln!(out, "# configuration file: {file}");
    let _ = writeln!(out, "# project root: {}\n", config.root.display());
    list_line(&mut out, "select", &config.select);
    list_line(&mut out, "extend-select", &config.extend_select);
    list_line(&mut out, "ignore", &config.ignore);
    list_line(&mut out, "exclude", &config.exclude);
    list_line(&mut out, "include", &config.include);
    line(
        &mut out,
        "include-tests",
        &config.include_tests.value.to_string(),
        &config.include_tests.origin,
    );
    let fail_on = config
        .fail_on
        .value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    line(
        &mut out,
        "fail-on",
        &format!("{fail_on:?}"),
        &config.fail_on.origin,
    );
    let baseline = config.baseline.value.as_ref().map_or_else(
        || "none".into(),
        |p| format!("{:?}", p.display().to_string()),
    );
    line(&mut out, "baseline", &baseline, &config.baseline.origin);
    line(
        &mut out,
        "cache",
        &config.cache.value.to_string(),
        &config.cache.origin,
    );
    line(
        &mut out,
        "cache-dir",
        &format!("{:?}", config.cache_dir.value.display().to_string()),
        &config.cache_dir.origin,
    );

    out.push_str("\n[severity]\n");
    if config.severity.is_empty() {
        out.push_str("# no overrides: each rule's own severity\n");
    }
    for s in &config.severity {
        line(
            &mut out,
            &format!("{:?}", s.value.0),
            &format!("{:?}", s.value.1.label().to_ascii_lowercase()),
            &s.origin,
        );
    }
    out.push_str("\n[per-file-ignores]\n");
    if config.per_file_ignores.is_empty() {
        out.push_str("# none\n");
    }
    for s in &config.per_file_ignores {
        line(
            &mut out,
            &format!("{:?}", s.value.0),
            &list(&s.value.1),
            &s.origin,
        );
    }

    out.push_str("\n[thresholds]\n");
    let t = &config.thresholds.values;
    let values = [
        t.transaction_lines.to_string(),
        t.session_usage_ratio.to_string(),
        t.non_db_lines.to_string(),
        t.wide_model_columns.to_string(),
        t.channel_edit_distance.to_string(),
        t.small_collection.to_string(),
    ];
    for ((key, origin), value) in config.thresholds.origins.iter().zip(values) {
        line(&mut out, key, &value, origin);
    }

    out.push_str("\n[publish]\n");
    let p = &config.publish;
    line(
        &mut out,
        "epic",
        &format!("{:?}", p.epic.value),
        &p.epic.origin,
    );
    line(
        &mut out,
        "board",
        &format!("{:?}", p.board.value),
        &p.board.origin,
    );
    line(
        &mut out,
        "results-log",
        &format!("{:?}", p.results_log.value),
        &p.results_log.origin,
    );
    let team = p.linear_team.value.as_ref().map_or_else(
        || "none (from the board's Linear configuration table)".into(),
        |t| format!("{t:?}"),
    );
    line(&mut out, "linear-team", &team, &p.linear_team.origin);

    let enabled: Vec<&str> = weir_audit::registry::RULES
        .iter()
        .map(|r| r.meta().id)
        .chain(META_RULES.iter().map(|m| m.id))
        .filter(|id| config.is_rule_enabled(id))
        .collect();
    let _ = writeln!(
        out,
        "\n# rules enabled ({}): {}",
        enabled.len(),
        enabled.join(" ")
    );
    out
}
