//! Every rule, one line each.

use crate::rule::Rule;
use crate::rules;

pub static RULES: &[&dyn Rule] = &[
    &rules::redundant_fetch::RedundantFetch,
    &rules::query_in_loop::QueryInLoop,
    &rules::unnecessary_resolve::UnnecessaryResolve,
    &rules::n_update_loop::NUpdateLoop,
    &rules::missing_bulk_operation::MissingBulkOperation,
    &rules::over_fetching::OverFetching,
    &rules::wrong_caching_scope::WrongCachingScope,
    &rules::count_exists_misuse::CountExistsMisuse,
    &rules::unbounded_fetch::UnboundedFetch,
    &rules::missing_intermediate_commits::MissingIntermediateCommits,
    &rules::transaction_scope_too_wide::TransactionScopeTooWide,
    &rules::transaction_scope_too_narrow::TransactionScopeTooNarrow,
    &rules::missing_rollback::MissingRollback,
    &rules::long_held_transaction::LongHeldTransaction,
    &rules::event_channel_mismatch::EventChannelMismatch,
    &rules::commit_in_loop::CommitInLoop,
    &rules::async_session_hazards::AsyncSessionHazards,
    &rules::blocking_io_in_async::BlockingIoInAsync,
    &rules::unnecessary_list_allocation::UnnecessaryListAllocation,
    &rules::sync_sleep_in_async::SyncSleepInAsync,
    &rules::string_concat_in_loop::StringConcatInLoop,
    &rules::cpu_bound_in_async::CpuBoundInAsync,
    &rules::redundant_copy::RedundantCopy,
    &rules::sequential_awaits_in_loop::SequentialAwaitsInLoop,
    &rules::missing_cleanup::MissingCleanup,
    &rules::pool_config_gaps::PoolConfigGaps,
    &rules::session_scope_mismatch::SessionScopeMismatch,
    &rules::leak_on_error_path::LeakOnErrorPath,
    &rules::session_held_while_streaming::SessionHeldWhileStreaming,
    &rules::injected_session_in_long_lived_work::InjectedSessionInLongLivedWork,
];

/// Looks a rule up by id (`QE-07`, case-insensitive) or name (`query-in-loop`).
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(key) || r.meta().name.eq_ignore_ascii_case(key))
}
