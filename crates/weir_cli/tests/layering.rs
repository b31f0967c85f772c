//! The dependency rules of ARCHITECTURE.md, enforced: only `weir_lang`
//! sees parsers of code (Python, SQL); the IR depends on nothing of ours; the analysis never
//! prints.

use std::path::Path;

fn crate_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn only_the_frontend_crate_uses_parsers() {
    for name in ["weir_ir", "weir_audit", "weir_cli"] {
        let manifest = std::fs::read_to_string(crate_dir(name).join("Cargo.toml")).unwrap();
        assert!(
            !manifest.contains("ruff_python")
                && !manifest.contains("tree-sitter")
                && !manifest.contains("sqlparser"),
            "{name} depends on a parser"
        );
        let mut files = Vec::new();
        sources(&crate_dir(name).join("src"), &mut files);
        for (path, text) in files {
            assert!(
                !text.contains("ruff_python")
                    && !text.contains("tree_sitter")
                    && !text.contains("sqlparser"),
                "{path} names a parser"
            );
        }
    }
}

#[test]
fn the_ir_depends_on_no_other_weir_crate() {
    let manifest = std::fs::read_to_string(crate_dir("weir_ir").join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("weir_lang") && !manifest.contains("weir_audit"));
    let audit = std::fs::read_to_string(crate_dir("weir_audit").join("Cargo.toml")).unwrap();
    let deps = audit.split("[dev-dependencies]").next().unwrap();
    assert!(
        !deps.contains("weir_lang"),
        "the analysis must not depend on a frontend"
    );
}

#[test]
fn only_renderers_and_the_entry_point_print() {
    for name in ["weir_ir", "weir_lang", "weir_audit"] {
        let mut files = Vec::new();
        sources(&crate_dir(name).join("src"), &mut files);
        for (path, text) in files {
            assert!(
                !text.contains("println!") && !text.contains("eprintln!"),
                "{path} prints"
            );
        }
    }
}
