//! Python frontend on ruff's parser.

mod lower;
mod names;

pub use lower::{MAX_DEPTH, lower};
pub use names::module_name;
