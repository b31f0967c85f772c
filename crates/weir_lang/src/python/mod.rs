//! Python frontend on ruff's parser.

mod lower;
mod names;

pub use lower::{MAX_DEPTH, lower, lower_named};
pub use names::{absolute_import_roots, import_names, module_name};
