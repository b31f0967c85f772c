/// Dotted module name of a path relative to the project root:
/// `app/api/routes.py` → `app.api.routes`, `app/__init__.py` → `app`.
/// A leading `src/` is dropped, as in the common src layout.
pub fn module_name(rel_path: &str) -> String {
    let path = rel_path.strip_prefix("src/").unwrap_or(rel_path);
    let path = path
        .strip_suffix(".pyi")
        .or_else(|| path.strip_suffix(".py"))
        .unwrap_or(path);
    let path = path.strip_suffix("/__init__").unwrap_or(path);
    path.replace('/', ".")
}

/// The import name of every Python file of a project, as its own imports
/// spell it. A path names a module relative to the directory Python imports
/// it from, which is often not the audited root (`server/polar/x.py` is
/// `polar.x` when the project writes `from polar.x import …`). For each
/// file, the highest directory on its path whose name the project imports
/// as a top-level package (`absolute_roots`: the first segments of its
/// absolute imports) marks the import root; a root directory that is itself
/// a package (`root_package`: its name, when `__init__.py` is at the top and
/// the project imports that name) prefixes every module. Otherwise the name
/// comes from the path as `module_name` gives it.
pub fn import_names<S: std::hash::BuildHasher>(
    rel_paths: &[&str],
    absolute_roots: &std::collections::HashSet<&str, S>,
    root_package: Option<&str>,
) -> Vec<String> {
    rel_paths
        .iter()
        .map(|rel| {
            let dirs: Vec<&str> = rel.split('/').collect();
            let dirs = &dirs[..dirs.len().saturating_sub(1)];
            if let Some(top) = dirs.iter().position(|d| absolute_roots.contains(d)) {
                if top > 0 {
                    let skip: usize = dirs[..top].iter().map(|d| d.len() + 1).sum();
                    return module_name(&rel[skip..]);
                }
                return module_name(rel);
            }
            match root_package {
                Some(package) if absolute_roots.contains(package) => match *rel {
                    "__init__.py" => package.to_string(),
                    _ => format!("{package}.{}", module_name(rel)),
                },
                _ => module_name(rel),
            }
        })
        .collect()
}

/// The top-level names a file's absolute imports start with (`from
/// polar.models import X`, `import polar.kit.db as db` → `polar`), read
/// from the text before lowering: module names depend on the imports of the
/// whole project, and lowering needs the name. A line counts when it reads
/// as an import statement (`from <dotted> import …` or `import <dotted>`);
/// relative imports are skipped.
pub fn absolute_import_roots(source: &str) -> impl Iterator<Item = &str> {
    // Only a line holding `import` can be an import statement: find those
    // (memchr's substring search) instead of reading every line. Lines are
    // those of `str::lines`.
    let bytes = source.as_bytes();
    let mut hits = memchr::memmem::find_iter(bytes, b"import");
    let mut next_line = 0;
    std::iter::from_fn(move || {
        loop {
            let hit = hits.next()?;
            if hit < next_line {
                continue;
            }
            let start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |i| i + 1);
            let line = if let Some(i) = memchr::memchr(b'\n', &bytes[hit..]) {
                next_line = hit + i + 1;
                let line = &source[start..hit + i];
                line.strip_suffix('\r').unwrap_or(line)
            } else {
                next_line = bytes.len();
                &source[start..]
            };
            if let Some(root) = import_root(line) {
                return Some(root);
            }
        }
    })
}

/// The root an import statement on `line` starts from, if it is one.
fn import_root(line: &str) -> Option<&str> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("from ") {
        let rest = rest.trim_start();
        let dotted_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let (dotted, tail) = rest.split_at(dotted_len);
        if !tail.trim_start().starts_with("import") {
            return None;
        }
        identifier(dotted)
    } else {
        identifier(line.strip_prefix("import ")?.trim_start())
    }
}

/// The leading identifier of `text` (`polar.models` → `polar`); `None` for
/// a relative path or anything that is not a name.
fn identifier(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..end];
    let first = name.chars().next()?;
    (first.is_alphabetic() || first == '_').then_some(name)
}

/// The package a relative import of `level` dots starts from.
pub fn relative_base(module: &str, is_package: bool, level: u32) -> String {
    let mut parts: Vec<&str> = module.split('.').collect();
    let drop = if is_package { level - 1 } else { level } as usize;
    parts.truncate(parts.len().saturating_sub(drop));
    parts.join(".")
}

/// Python builtins that the knowledge packs name as `builtins.X`.
pub const BUILTINS: &[&str] = &[
    "open",
    "input",
    "print",
    "len",
    "list",
    "dict",
    "set",
    "tuple",
    "frozenset",
    "sorted",
    "sum",
    "any",
    "all",
    "str",
    "int",
    "float",
    "bytes",
    "iter",
    "next",
    "range",
    "enumerate",
    "zip",
    "map",
    "filter",
    "isinstance",
    "getattr",
    "hasattr",
    "setattr",
    "type",
    "min",
    "max",
    "reversed",
    "bool",
    "repr",
    "hash",
    "id",
    "vars",
    "exec",
    "eval",
    "compile",
    "__import__",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_modules_from_paths() {
        assert_eq!(module_name("app/api/routes.py"), "app.api.routes");
        assert_eq!(module_name("app/__init__.py"), "app");
        assert_eq!(module_name("src/pkg/mod.py"), "pkg.mod");
    }

    #[test]
    fn names_modules_as_the_project_imports_them() {
        let roots: std::collections::HashSet<&str> = ["polar", "app", "myapp"].into();
        let names = import_names(
            &[
                "server/polar/feedback/service.py",
                "server/polar/__init__.py",
                "server/scripts/db.py",
                "app/models/user.py",
                "src/pkg/mod.py",
                "backend/app/api/routes.py",
            ],
            &roots,
            None,
        );
        assert_eq!(
            names,
            [
                "polar.feedback.service",
                "polar",
                "server.scripts.db",
                "app.models.user",
                "pkg.mod",
                "app.api.routes",
            ]
        );
        // Auditing a package directory itself: `myapp/` holds `__init__.py`.
        let names = import_names(&["__init__.py", "api/views.py"], &roots, Some("myapp"));
        assert_eq!(names, ["myapp", "myapp.api.views"]);
        let names = import_names(&["api/views.py"], &roots, Some("other"));
        assert_eq!(names, ["api.views"]);
    }

    #[test]
    fn reads_absolute_import_roots_from_the_text() {
        let source = "from polar.models import Order\nimport polar.kit.db as db, os\n    from .service import x\nfrom . import y\n\"\"\"Loaded from the database.\"\"\"\nfrom  app.core import (\n    a,\n)\nimportlib = 1\n";
        let roots: Vec<&str> = absolute_import_roots(source).collect();
        assert_eq!(roots, ["polar", "polar", "app"]);
    }

    #[test]
    fn finds_the_import_lines_that_reading_every_line_finds() {
        fn every_line(source: &str) -> Vec<&str> {
            source.lines().filter_map(import_root).collect()
        }
        for source in [
            "",
            "import",
            "import os",
            "import os\r\nfrom app.x import y\r\n",
            "x = 1 # import os\nimport  json, re\n\timport\tio\n",
            "from a.b import (c,\n    d)\nfrom a import importlib\nimport importlib\n",
            "s = 'import x'\nfrom\u{a0}x import y\n\u{2003}import z\rimport w\n",
            "from x import y; import z\nfrom .rel import q\nfrom x importy\n",
            "import a\nimport b\nimport c",
        ] {
            let scanned: Vec<&str> = absolute_import_roots(source).collect();
            assert_eq!(scanned, every_line(source), "{source:?}");
        }
    }

    #[test]
    fn resolves_relative_bases() {
        assert_eq!(relative_base("app.api.routes", false, 1), "app.api");
        assert_eq!(relative_base("app.api.routes", false, 2), "app");
        assert_eq!(relative_base("app.api", true, 1), "app.api");
    }
}
