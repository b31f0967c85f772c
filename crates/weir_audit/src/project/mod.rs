//! The whole project: an index of its functions and classes, and the
//! summaries of what each function may do, propagated over the call graph.

mod index;
pub mod models;
pub mod summary;

pub use index::{FnRef, ProjectIndex, annotation_class};
pub use models::{Loading, Model, ModelIndex, Orm};
pub use summary::{Step, Summaries, Summary};
