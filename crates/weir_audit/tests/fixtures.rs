//! The fixture harness: every `.py` file under `tests/fixtures/python/<rule>/`
//! is audited with the other files of its rule folder as one project, with
//! its path relative to that folder (so
//! `tasks/`, `alembic/` and the like classify as they would in a project).
//! `# expect: ID` marks a line that must be reported by ID; `# ok: ID` a
//! line that must not. For every ID a file mentions, its findings must be
//! exactly the `expect` lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use weir_audit::audit::{Selection, audit};

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Rule id → lines, for one marker keyword.
fn markers(source: &str, keyword: &str) -> BTreeMap<String, BTreeSet<u32>> {
    let mut out: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (index, line) in source.lines().enumerate() {
        let Some(comment) = line.find('#').map(|i| &line[i..]) else {
            continue;
        };
        let Some(start) = comment.find(&format!("{keyword}:")) else {
            continue;
        };
        let rest = &comment[start + keyword.len() + 1..];
        for id in rest
            .split([',', ' '])
            .map(str::trim)
            .take_while(|t| !t.ends_with(':'))
        {
            if id.len() == 5 && id.as_bytes()[2] == b'-' {
                out.entry(id.to_string())
                    .or_default()
                    .insert(u32::try_from(index + 1).unwrap());
            }
        }
    }
    out
}

#[test]
fn fixtures_match_their_markers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule_dir in std::fs::read_dir(&root)
        .expect("fixtures/python")
        .map(|e| e.unwrap().path())
    {
        // The rule folder is one project: packs switch on from all its imports.
        let mut files = Vec::new();
        fixture_files(&rule_dir, &mut files);
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|file| {
                let rel = file
                    .strip_prefix(&rule_dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, std::fs::read_to_string(file).unwrap())
            })
            .collect();
        let modules: Vec<_> = sources
            .iter()
            .map(|(rel, src)| weir_lang::lower(rel, src).unwrap())
            .collect();
        let output = audit(&modules, &Selection::default());
        for (rel, source) in &sources {
            let expected = markers(source, "expect");
            let ok = markers(source, "ok");
            let mentioned: BTreeSet<&String> = expected.keys().chain(ok.keys()).collect();
            for id in mentioned {
                let got: BTreeSet<u32> = output
                    .findings
                    .iter()
                    .filter(|f| f.rule == id && &f.path == rel)
                    .map(|f| f.line)
                    .collect();
                let want = expected.get(id).cloned().unwrap_or_default();
                checked += want.len() + ok.get(id).map_or(0, BTreeSet::len);
                let name = format!("{}/{rel}", rule_dir.file_name().unwrap().to_string_lossy());
                for line in want.difference(&got) {
                    failures.push(format!("{name}:{line}: expected {id}, not reported"));
                }
                for line in got.difference(&want) {
                    failures.push(format!("{name}:{line}: {id} reported but not expected"));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "too few markers checked ({checked}): the harness is not reading the fixtures"
    );
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn marker_parser_reads_both_keywords() {
    let src = "x = 1  # expect: QE-07, TX-07 ok: RT-01\ny = 2  # ok: QE-05\n";
    let expect = markers(src, "expect");
    assert_eq!(
        expect.keys().cloned().collect::<Vec<_>>(),
        vec!["QE-07".to_string(), "TX-07".to_string()]
    );
    let ok = markers(src, "ok");
    assert_eq!(ok["RT-01"], BTreeSet::from([1]));
    assert_eq!(ok["QE-05"], BTreeSet::from([2]));
}
