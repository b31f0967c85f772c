//! Fuzz targets that run in `cargo test` for a bounded time (a few seconds
//! each). See `harness.rs` for the knobs that run them longer and replay a
//! failure; a case that panics, takes longer than the per-case limit or
//! hangs fails the test.
//!
//! One module per input format, each a set of `#[test]` functions calling
//! `harness::fuzz(name, cases, generate, check)`:
//! - `python.rs`: the Python frontend, lowering and the audit behind it;
//! - `manifests.rs`: the manifests and configuration files stack discovery
//!   reads (`pyproject.toml`, `Pipfile`, `setup.cfg`, `requirements*.txt`
//!   with their includes, compose files, `package.json`, `go.mod`,
//!   `tech_stack.md`, engine and Django settings in Python);
//! - `cache.rs`: the incremental cache's pack, damaged on disk;
//! - `sql.rs`: SQL trigger extraction, the SQL frontend alone and through
//!   the migrations it reads (`.sql` files, Alembic and Django migrations).
//!
//! `project.rs` is not a target: it runs `weir context` on a generated
//! project for the targets whose cases are several files.
//!
//! New parsers get their own module here (new language frontends as
//! `typescript.rs`/`go.rs`). Seed them with the real files of their
//! fixtures and reuse `harness::mutate`.

mod cache;
mod harness;
mod manifests;
mod project;
mod python;
mod sql;
