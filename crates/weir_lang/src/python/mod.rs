//! Python frontend on ruff's parser.

mod lower;
mod names;

pub use lower::lower;
pub use names::module_name;
