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
    fn resolves_relative_bases() {
        assert_eq!(relative_base("app.api.routes", false, 1), "app.api");
        assert_eq!(relative_base("app.api.routes", false, 2), "app");
        assert_eq!(relative_base("app.api", true, 1), "app.api");
    }
}
