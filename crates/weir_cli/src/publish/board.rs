//! The kanban board file, `docs/tasks/kanban_board.md`: its Linear
//! configuration table (the team for Linear) and its Backlog, where the
//! audit task goes under `**Epic 0: …**`. Only the task's line (and the
//! Epic 0 heading, when the board has none) is added; every other byte of
//! the file stays as it was.

use std::path::Path;

use anyhow::{Result, bail};

use super::{Task, priority_label, write_atomically};
use crate::config::Config;

/// The team named by the board's Linear configuration table: the `Team
/// UUID` row when it holds a UUID, else `Team ID`, else `Team Key`.
pub fn linear_team(board: &str) -> Option<String> {
    let mut uuid = None;
    let mut id = None;
    let mut key = None;
    for line in board.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [name, value, ..] = cells.as_slice() else {
            continue;
        };
        let name = name.trim_matches('*').trim().to_ascii_lowercase();
        let value = cell_value(value);
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "team uuid" if is_uuid(&value) => uuid = Some(value),
            "team id" => id = Some(value),
            "team key" => key = Some(value),
            _ => {}
        }
    }
    uuid.or(id).or(key)
}

/// `` `TOS` (visible in …) `` → `TOS`; `**ENG**` → `ENG`.
fn cell_value(cell: &str) -> String {
    if let Some(start) = cell.find('`')
        && let Some(len) = cell[start + 1..].find('`')
    {
        return cell[start + 1..start + 1 + len].trim().to_string();
    }
    cell.trim_matches('*').trim().to_string()
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_heading(line: &str) -> bool {
    line.starts_with('#')
}

/// `**Epic 0: Technical Debt**` (and `**Epic 0**`).
fn is_epic_zero(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("**Epic 0:") || t.starts_with("**Epic 0**") || t.starts_with("**Epic 0 ")
}

fn is_epic(line: &str) -> bool {
    line.trim().starts_with("**Epic ")
}

/// The board with the task added, or why it cannot be.
pub fn add_task(board: &str, epic: &str, line: &str, title: &str) -> Result<String> {
    let nl = if board.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = board.split_inclusive('\n').collect();
    let text = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let Some(backlog) = lines.iter().position(|l| text(l).trim() == "### Backlog") else {
        bail!(
            "the board has no `### Backlog` section; add one (under `## Work in Progress`) and publish again"
        );
    };
    let end = lines[backlog + 1..]
        .iter()
        .position(|l| is_heading(&text(l)) || text(l).trim() == "---")
        .map_or(lines.len(), |i| backlog + 1 + i);
    let entry = format!("{line}{nl}");
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    // The last line may lack its newline; the inserted text must not glue onto it.
    let ensure_newline = |out: &mut Vec<String>, at: usize| {
        if at > 0 && !out[at - 1].ends_with('\n') {
            out[at - 1].push_str(nl);
        }
    };
    if let Some(epic_line) = (backlog + 1..end).find(|&i| is_epic_zero(&text(lines[i]))) {
        // Re-publishing the same day replaces that day's task line.
        if let Some(existing) = (epic_line + 1..end)
            .take_while(|&i| !is_epic(&text(lines[i])))
            .find(|&i| text(lines[i]).contains(&format!("[{title}]")))
        {
            out[existing] = if lines[existing].ends_with('\n') {
                entry
            } else {
                line.to_string()
            };
            return Ok(out.concat());
        }
        let block_end = (epic_line + 1..end)
            .find(|&i| is_epic(&text(lines[i])))
            .unwrap_or(end);
        // After the epic's last non-blank line.
        let mut at = block_end;
        while at > epic_line + 1 && text(lines[at - 1]).trim().is_empty() {
            at -= 1;
        }
        if at == epic_line + 1 {
            // An epic with no items yet: keep its blank line after the heading.
            ensure_newline(&mut out, at);
            out.insert(at, format!("{nl}{entry}"));
            if at < lines.len() && !text(lines[at]).trim().is_empty() {
                out.insert(at + 1, nl.to_string());
            }
        } else {
            ensure_newline(&mut out, at);
            out.insert(at, entry);
        }
    } else {
        let at = backlog + 1;
        ensure_newline(&mut out, at);
        let mut block = format!("{nl}**{epic}**{nl}{nl}{entry}");
        if at < lines.len() && !text(lines[at]).trim().is_empty() {
            block.push_str(nl);
        }
        out.insert(at, block);
    }
    Ok(out.concat())
}

/// Adds the audit task to the board; returns a description of what was done.
pub fn publish(root: &Path, config: &Config, task: &Task, report_file: &Path) -> Result<String> {
    let path = root.join(&config.publish.board.value);
    let board = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "`{}` is not UTF-8 text; it was left untouched",
                path.display()
            )
        })?,
        Err(e) => bail!(
            "cannot read the kanban board `{}` ({e}); create it, or set `board` in [tool.weir.publish]",
            path.display()
        ),
    };
    let board_dir = path.parent().unwrap_or(root);
    let link = relative_link(board_dir, report_file);
    let line = format!(
        "  - [{}]({link}) — {}; labels: {}; priority: {}",
        task.title,
        task.summary,
        super::LABELS.join(", "),
        priority_label(task.priority)
    );
    let updated = add_task(&board, &config.publish.epic.value, &line, &task.title)
        .map_err(|e| anyhow::anyhow!("{e} (`{}` was left untouched)", path.display()))?;
    write_atomically(&path, updated.as_bytes())?;
    Ok(format!(
        "added \"{}\" to `{}` under Backlog → Epic 0",
        task.title,
        path.display()
    ))
}

/// A relative Markdown link from `from_dir` to `to`.
fn relative_link(from_dir: &Path, to: &Path) -> String {
    let from = std::fs::canonicalize(from_dir).unwrap_or_else(|_| from_dir.to_path_buf());
    let target = to
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map_or_else(
            || to.to_path_buf(),
            |p| p.join(to.file_name().unwrap_or_default()),
        );
    let from: Vec<_> = from.components().collect();
    let target_parts: Vec<_> = target.components().collect();
    let common = from
        .iter()
        .zip(&target_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(
        target_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOARD: &str = "# Tasks\n\n## Linear Configuration\n\n| Variable | Value |\n|---|---|\n| **Team ID** | PrompsitAPI |\n| **Team Key** | API |\n\n## Work in Progress\n\n### Backlog\n\n**Epic 0: Common Tasks**\n\n  - [US001 Story](x)\n    _(tasks not created yet)_\n\n**Epic 1: Feature**\n\n  - [US002 Story](y)\n\n### Todo\n\n_(empty)_\n";

    #[test]
    fn reads_the_team_from_the_configuration_table() {
        assert_eq!(linear_team(BOARD).as_deref(), Some("PrompsitAPI"));
        let with_uuid = "| **Team UUID** | 5e3b87df-5f1a-4f70-8621-4ced0ed7bdcf | for API |\n| **Team Key** | XRFF |";
        assert_eq!(
            linear_team(with_uuid).as_deref(),
            Some("5e3b87df-5f1a-4f70-8621-4ced0ed7bdcf")
        );
        let key_only =
            "| Team UUID | resolved at run time |\n| Team Key | `TOS` (in every issue id) |";
        assert_eq!(linear_team(key_only).as_deref(), Some("TOS"));
        assert_eq!(linear_team("# no table"), None);
    }

    #[test]
    fn adds_under_epic_zero_and_changes_nothing_else() {
        let out = add_task(
            BOARD,
            "Epic 0: Technical Debt",
            "  - [Audit: 1](a.md)",
            "Audit: 1",
        )
        .unwrap();
        let expected = BOARD.replace(
            "    _(tasks not created yet)_\n",
            "    _(tasks not created yet)_\n  - [Audit: 1](a.md)\n",
        );
        assert_eq!(out, expected);
        // The same day again replaces the line.
        let again = add_task(
            &out,
            "Epic 0: Technical Debt",
            "  - [Audit: 1](b.md)",
            "Audit: 1",
        )
        .unwrap();
        assert_eq!(again, expected.replace("(a.md)", "(b.md)"));
    }

    #[test]
    fn creates_epic_zero_when_absent() {
        let board = "## Work in Progress\n\n### Backlog\n\n**Epic 1: Feature**\n\n  - [US002](y)\n\n### Todo\n";
        let out = add_task(board, "Epic 0: Technical Debt", "  - [A](a.md)", "A").unwrap();
        assert_eq!(
            out,
            "## Work in Progress\n\n### Backlog\n\n**Epic 0: Technical Debt**\n\n  - [A](a.md)\n\n**Epic 1: Feature**\n\n  - [US002](y)\n\n### Todo\n"
        );
        let empty = "### Backlog\n\nNo active backlog items.\n\n### Todo\n";
        let out = add_task(empty, "Epic 0: Technical Debt", "  - [A](a.md)", "A").unwrap();
        assert_eq!(
            out,
            "### Backlog\n\n**Epic 0: Technical Debt**\n\n  - [A](a.md)\n\nNo active backlog items.\n\n### Todo\n"
        );
        let crlf = "### Backlog\r\n\r\n**Epic 0: Debt**\r\n\r\n### Todo\r\n";
        let out = add_task(crlf, "Epic 0: X", "  - [A](a.md)", "A").unwrap();
        assert_eq!(
            out,
            "### Backlog\r\n\r\n**Epic 0: Debt**\r\n\r\n  - [A](a.md)\r\n\r\n### Todo\r\n"
        );
    }

    #[test]
    fn a_board_without_backlog_is_refused() {
        assert!(add_task("# Board\n\n### Todo\n", "Epic 0: X", "  - [A](a)", "A").is_err());
    }
}
