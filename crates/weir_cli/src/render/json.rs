//! The report as JSON. The schema is versioned by `schema_version`; fields
//! are only ever added within a version.

use anyhow::Result;
use weir_audit::report::Report;

pub fn render(report: &Report) -> Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}
