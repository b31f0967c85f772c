//! weir's analysis: knowledge packs, facts, rules, the four auditors and
//! scoring. Reads only the IR.

pub mod advisory;
pub mod audit;
pub mod baseline;
pub mod collections;
pub mod context;
pub mod facts;
pub mod knowledge;
pub mod project;
pub mod registry;
pub mod report;
pub mod rule;
pub mod rules;
pub mod score;
pub mod suppress;
pub mod thresholds;
pub mod timings;
