//! The numbers behind the checks that weigh sizes, in one place so a team
//! can tune them (`[tool.weir.thresholds]`) and every rule reads the same
//! values through `ProjectFacts::thresholds`.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// TX-05: a transaction whose body is longer than this many lines is
    /// held too long (SPEC §2: 50).
    pub transaction_lines: u32,
    /// RL-01: a request-scoped session used over less than this share of
    /// the handler body, first to last use, is held too long (SPEC §2: 20 %).
    pub session_usage_ratio: f64,
    /// RL-01: this many lines of non-database work after the last session
    /// use make the scope mismatch worth reporting (SPEC §2: 50).
    pub non_db_lines: u32,
    /// QE-04: a model with more columns than this is wide (SPEC §2: 15).
    pub wide_model_columns: u32,
    /// TX-06: channel names at most this edit distance apart are a near miss
    /// (SPEC §2: 2).
    pub channel_edit_distance: u32,
    /// SPEC §3: a literal collection, `range(n)` or `LIMIT n` no larger than
    /// this is provably small data, a mitigating fact.
    pub small_collection: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            transaction_lines: 50,
            session_usage_ratio: 0.2,
            non_db_lines: 50,
            wide_model_columns: 15,
            channel_edit_distance: 2,
            small_collection: 100,
        }
    }
}
