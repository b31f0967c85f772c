//! Fuzz targets for the incremental cache. The pack is a file on disk that
//! anything may have damaged:
//! - damaged entries whose checksums are written anew, so that the damage
//!   reaches the decoder and, when the bytes still decode (into other
//!   code), the whole audit and every renderer: the run must end with a
//!   report;
//! - a damaged pack as it is, which the checksums catch: the report must be
//!   the one a run without the cache writes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use weir_cli::aggregate::Policy;
use weir_cli::cache::rewrite_entries;
use weir_cli::config::Config;
use weir_cli::render;
use weir_cli::run::{RunOptions, run_with};

use crate::harness::{Rng, fuzz, mutate};

struct Setup {
    /// The cache directories of both targets.
    dir: tempfile::TempDir,
    project: PathBuf,
    /// A pack written by a clean run of the example project.
    pack: Vec<u8>,
    /// The JSON report of a run without the cache.
    plain: String,
}

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/jobs-service")
}

fn options(cache: Option<PathBuf>) -> RunOptions {
    RunOptions {
        threads: Some(2),
        date: "2026-01-01".into(),
        cache,
        ..RunOptions::default()
    }
}

fn audit_json(root: &Path, cache: Option<PathBuf>) -> (weir_audit::report::Report, String) {
    let config = Config::defaults(root);
    let policy = Policy {
        config: &config,
        baseline: None,
    };
    let report = run_with(root, &options(cache), &policy).expect("the audit runs");
    let json = render::json::render(&report).expect("render JSON");
    (report, json)
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let project = project();
        let cache = dir.path().join("seed");
        let (_, plain) = audit_json(&project, Some(cache.clone()));
        let pack = std::fs::read(cache.join("ir.pack")).expect("the first run writes a pack");
        Setup {
            dir,
            project,
            pack,
            plain,
        }
    })
}

/// Writes `pack` as the cache of a fresh directory and audits with it.
fn audit_with_pack(target: &str, pack: &[u8]) -> (weir_audit::report::Report, String) {
    let setup = setup();
    let cache = setup.dir.path().join(target);
    std::fs::create_dir_all(&cache).expect("cache directory");
    std::fs::write(cache.join("ir.pack"), pack).expect("write the pack");
    audit_json(&setup.project, Some(cache))
}

fn damaged_entries(rng: &mut Rng) -> Vec<u8> {
    let setup = setup();
    let other = setup.pack.clone();
    rewrite_entries(&setup.pack, |_, bytes| {
        if !rng.one_in(3) || bytes.is_empty() {
            return;
        }
        if rng.one_in(2) {
            *bytes = mutate(rng, bytes, &other, &["\0", "\u{1}", "\u{ff}", "\u{7f}"]);
        } else {
            // A few changed bytes: damage that most often still decodes
            // (another name, span, id or tag), so it reaches the audit.
            for _ in 0..=rng.below(3) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.byte();
            }
        }
    })
    .expect("the seed pack reads back")
}

#[test]
fn cache_damaged_entries_still_give_a_report() {
    fuzz("cache_damaged_entries", 400, damaged_entries, |pack| {
        let (report, _) = audit_with_pack("entries", pack);
        // IR that decoded into other code goes through every renderer.
        let root = setup().project.clone();
        render::text::render(&report, &root);
        render::markdown::render(&report);
        render::sarif::render(&report).expect("render SARIF");
        render::github::render(&report);
        render::html::render(&report);
    });
}

#[test]
fn cache_damaged_pack_changes_nothing() {
    fuzz(
        "cache_damaged_pack",
        400,
        |rng| {
            let setup = setup();
            let mut pack = setup.pack.clone();
            for _ in 0..=rng.below(4) {
                if pack.is_empty() {
                    break;
                }
                let at = rng.below(pack.len());
                match rng.below(3) {
                    0 => pack[at] ^= 1 << rng.below(8),
                    1 => pack.truncate(at),
                    _ => pack.insert(at, rng.byte()),
                }
            }
            pack
        },
        |pack| {
            let (_, json) = audit_with_pack("pack", pack);
            assert!(json == setup().plain, "a damaged pack changed the report");
        },
    );
}
