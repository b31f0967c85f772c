//! Language frontends: the only crate that depends on parsers. Each
//! frontend turns source text into a [`weir_ir::Module`] (or, for SQL, a
//! [`weir_ir::sql::SqlScript`]); nothing past this crate ever sees a syntax
//! tree.

mod line_index;
pub mod python;
pub mod sql;

pub use line_index::{LineIndex, source_lines};
use weir_ir::{Language, Module};

#[derive(Debug, thiserror::Error)]
pub enum LangError {
    #[error("unsupported language for {0}")]
    Unsupported(String),
    #[error("file is larger than 4 GiB and cannot be indexed")]
    TooLarge,
}

/// The language a path is written in, from its extension.
pub fn language_of(path: &str) -> Option<Language> {
    let ext = path.rsplit_once('.')?.1;
    match ext {
        "py" | "pyi" => Some(Language::Python),
        _ => None,
    }
}

/// Parses and lowers one Python file under its import name (from
/// [`python::import_names`]); `rel_path` stays the path findings show.
pub fn lower_as(rel_path: &str, module_name: String, source: &str) -> Result<Module, LangError> {
    if u32::try_from(source.len()).is_err() {
        return Err(LangError::TooLarge);
    }
    match language_of(rel_path) {
        Some(Language::Python) => Ok(python::lower_named(rel_path, module_name, source)),
        _ => Err(LangError::Unsupported(rel_path.to_string())),
    }
}

/// Parses and lowers one file. `rel_path` is the path relative to the
/// audited root (it names the module).
pub fn lower(rel_path: &str, source: &str) -> Result<Module, LangError> {
    if u32::try_from(source.len()).is_err() {
        return Err(LangError::TooLarge);
    }
    match language_of(rel_path) {
        Some(Language::Python) => Ok(python::lower(rel_path, source)),
        _ => Err(LangError::Unsupported(rel_path.to_string())),
    }
}
