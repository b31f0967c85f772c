#![allow(dead_code)] // each test binary uses a different part of this module
//! Shared by the fixture harness and the corpus test: the line markers
//! and auditing a folder as one project.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use weir_audit::audit::{AuditOutput, Selection, audit_with_context};

/// Rule id → lines, for one marker keyword (`expect` or `ok`).
pub fn markers(source: &str, keyword: &str) -> BTreeMap<String, BTreeSet<u32>> {
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

/// Every file under `dir` (relative path, absolute path), sorted.
fn all_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            all_files(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}

/// The context store as `weir` builds it for the folder: manifests,
/// migrations (triggers), subscribers, session settings.
pub fn context_of(root: &Path, modules: &[weir_ir::Module]) -> weir_audit::context::ProjectContext {
    let mut files = Vec::new();
    all_files(root, root, &mut files);
    files.retain(|(rel, _)| weir_cli::discovery::stack_file_kind(rel).is_some());
    weir_cli::discovery::discover_context("", root, &files, modules).0
}

pub fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// A folder audited as one project: (relative path, source) per file, and the output.
pub struct Project {
    pub files: Vec<(String, String)>,
    pub output: AuditOutput,
}

impl Project {
    /// The finding of `rule` in `function`; panics naming both when there is none.
    #[allow(dead_code)] // not every test binary that shares this module uses it
    pub fn finding_in(&self, rule: &str, function: &str) -> &weir_audit::report::Finding {
        self.output
            .findings
            .iter()
            .find(|f| f.rule == rule && f.function == function)
            .unwrap_or_else(|| panic!("{rule} in {function}"))
    }
}

pub fn audit_folder(root: &Path) -> Project {
    let mut paths = Vec::new();
    python_files(root, &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|file| {
            let rel = file
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(file).unwrap())
        })
        .collect();
    let modules = lower_project(&files);
    let output = audit_with_context(&modules, context_of(root, &modules), &Selection::default());
    Project { files, output }
}

/// One rule in one file: (file, rule, expected lines, reported lines, ok lines).
pub type Comparison = (String, String, BTreeSet<u32>, BTreeSet<u32>, BTreeSet<u32>);

/// For each rule a file mentions, what was expected and what was reported.
pub fn compare(project: &Project) -> Vec<Comparison> {
    let mut rows = Vec::new();
    for (rel, source) in &project.files {
        let expected = markers(source, "expect");
        let ok = markers(source, "ok");
        let mentioned: BTreeSet<&String> = expected.keys().chain(ok.keys()).collect();
        for id in mentioned {
            let got: BTreeSet<u32> = project
                .output
                .findings
                .iter()
                .filter(|f| f.rule == id && &f.path == rel)
                .map(|f| f.line)
                .collect();
            rows.push((
                rel.clone(),
                id.clone(),
                expected.get(id).cloned().unwrap_or_default(),
                got,
                ok.get(id).cloned().unwrap_or_default(),
            ));
        }
    }
    rows
}

/// Lowers a project's files the way `weir audit` does: each under the name
/// the project's absolute imports give it.
pub fn lower_project(files: &[(String, String)]) -> Vec<weir_ir::Module> {
    let roots: std::collections::HashSet<&str> = files
        .iter()
        .flat_map(|(_, src)| weir_lang::python::absolute_import_roots(src))
        .collect();
    let paths: Vec<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    let names = weir_lang::python::import_names(&paths, &roots, None);
    files
        .iter()
        .zip(names)
        .map(|((rel, src), name)| weir_lang::lower_as(rel, name, src).unwrap())
        .collect()
}
