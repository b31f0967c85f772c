//! Fuzz targets that run in `cargo test` for a bounded time (a few seconds
//! each). See `harness.rs` for the knobs that run them longer and replay a
//! failure.
//!
//! One module per input format, each a set of `#[test]` functions calling
//! `harness::fuzz(name, cases, generate, check)`:
//! - `python.rs`: the Python frontend, lowering and the audit behind it.
//!
//! New parsers get their own module here: manifests (`pyproject.toml`,
//! `requirements*.txt`, `docker-compose.yml`) as `manifests.rs`, SQL
//! trigger extraction from migrations as `sql.rs`, new language frontends
//! as `typescript.rs`/`go.rs`. Seed them with the real files of their
//! fixtures and reuse `harness::mutate`.

mod harness;
mod python;
