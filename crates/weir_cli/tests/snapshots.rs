//! The three formats on the example project, as snapshots. A change in the
//! report shows up as a reviewable diff (`cargo insta review`).

use std::path::Path;

use weir_cli::render;
use weir_cli::run::{RunOptions, run};

fn example_report() -> (weir_audit::report::Report, std::path::PathBuf) {
    // A relative path keeps the snapshots free of machine-specific prefixes.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let path = Path::new("../../examples/jobs-service").to_path_buf();
    let options = RunOptions {
        threads: Some(2),
        date: "2026-11-27".into(),
        ..RunOptions::default()
    };
    (run(&path, &options).expect("audit runs"), path)
}

#[test]
fn markdown_report() {
    let (report, _) = example_report();
    let markdown = render::markdown::render(&report);
    for category in [
        "Query Efficiency",
        "Transaction Correctness",
        "Runtime Performance",
        "Resource Lifecycle",
    ] {
        let section = markdown.split(&format!("### {category}")).nth(1).unwrap();
        let table = section.split("###").next().unwrap();
        assert!(
            table.contains("| HIGH |") || table.contains("| MEDIUM |") || table.contains("| LOW |"),
            "no finding in {category}"
        );
    }
    insta::assert_snapshot!(markdown);
}

#[test]
fn json_report() {
    let (report, _) = example_report();
    insta::assert_snapshot!(render::json::render(&report).unwrap());
}

#[test]
fn text_report() {
    let (report, path) = example_report();
    insta::assert_snapshot!(render::text::render(&report, &path));
}
