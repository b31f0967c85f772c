//! The report as JSON. The schema is versioned by `schema_version`; fields
//! are only ever added within a version.

use anyhow::Result;
use serde::Serialize;
use weir_audit::context::ProjectContext;
use weir_audit::report::{Report, Warning};

pub fn render(report: &Report) -> Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// `weir context`: the context store, and what discovery could not read.
pub fn render_context(context: &ProjectContext, warnings: &[Warning]) -> Result<String> {
    #[derive(Serialize)]
    struct Output<'a> {
        #[serde(flatten)]
        context: &'a ProjectContext,
        warnings: &'a [Warning],
    }
    Ok(serde_json::to_string_pretty(&Output { context, warnings })? + "\n")
}
