//! The labelled corpus: realistic mini-applications under
//! `tests/corpus/<area>/<app>/` with `# expect:` / `# ok:` markers. Unlike
//! the fixtures (exact match), this measures precision and recall per rule
//! across all apps and fails below the bar each auditor's issue set.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use common::{audit_folder, compare};
use weir_audit::registry::RULES;

/// The areas whose folder must label every registered rule of its family:
/// (corpus folder, rule id prefix).
const COVERED: &[(&str, &str)] = &[("queries", "QE-"), ("transactions", "TX-")];

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// The bar per rule family: Runtime Performance is held to 0.95, the
/// other auditors to 0.9.
fn bar(rule: &str) -> f64 {
    if rule.starts_with("RT") { 0.95 } else { 0.9 }
}

#[test]
fn corpus_precision_and_recall_meet_the_bar() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut apps = 0;
    // (area, rule) → expect markers, to check every covered rule is labelled.
    let mut labelled: BTreeMap<(String, String), usize> = BTreeMap::new();
    for area in std::fs::read_dir(&root)
        .expect("tests/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        for app in std::fs::read_dir(&area)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
        {
            apps += 1;
            let project = audit_folder(&app);
            let name = format!(
                "{}/{}",
                area.file_name().unwrap().to_string_lossy(),
                app.file_name().unwrap().to_string_lossy()
            );
            let area_name = area.file_name().unwrap().to_string_lossy().into_owned();
            for (rel, id, want, got, _ok) in compare(&project) {
                *labelled.entry((area_name.clone(), id.clone())).or_default() += want.len();
                let c = counts.entry(id.clone()).or_default();
                c.tp += want.intersection(&got).count();
                for line in want.difference(&got) {
                    c.fn_ += 1;
                    misses.push(format!("{name}/{rel}:{line}: {id} missed"));
                }
                for line in got.difference(&want) {
                    c.fp += 1;
                    misses.push(format!("{name}/{rel}:{line}: {id} false positive"));
                }
            }
        }
    }
    assert!(
        apps > 0,
        "no corpus applications found under {}",
        root.display()
    );
    let unlabelled: Vec<String> = COVERED
        .iter()
        .flat_map(|(area, prefix)| {
            RULES
                .iter()
                .map(|r| r.meta().id)
                .filter(move |id| id.starts_with(prefix))
                .filter(|id| {
                    labelled
                        .get(&((*area).to_string(), (*id).to_string()))
                        .is_none_or(|n| *n == 0)
                })
                .map(move |id| format!("{id} has no `# expect:` marker under corpus/{area}/"))
        })
        .collect();
    assert!(
        unlabelled.is_empty(),
        "rules the corpus claims to cover without a labelled true positive:\n{}",
        unlabelled.join("\n")
    );
    let mut report = String::new();
    let mut failed = false;
    for (rule, c) in &counts {
        let precision = ratio(c.tp, c.tp + c.fp);
        let recall = ratio(c.tp, c.tp + c.fn_);
        let ok = precision >= bar(rule) && recall >= bar(rule);
        failed |= !ok;
        let _ = writeln!(
            report,
            "{rule}: tp {} fp {} fn {} precision {precision:.2} recall {recall:.2}{}",
            c.tp,
            c.fp,
            c.fn_,
            if ok { "" } else { "  <- below the bar" }
        );
    }
    assert!(
        counts.values().map(|c| c.tp + c.fn_).sum::<usize>() > 0,
        "the corpus has no expect markers"
    );
    assert!(
        !failed,
        "corpus below the bar:\n{report}\n{}",
        misses.join("\n")
    );
    // Visible with `cargo test -- --nocapture`.
    #[allow(clippy::print_stdout)] // the measured numbers are the point of this test
    {
        println!("{report}");
    }
}
