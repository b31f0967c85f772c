//! The incremental cache (`weir audit --cache`): every file's lowered IR,
//! stored under a hash of its path, import name and content, so the next
//! run parses and lowers only the files that changed.
//!
//! Only lowering is cached. Everything after it is cross-file (the project
//! index, the summaries' fixed point, the rules), so a change in one file
//! can change findings in any other; it is recomputed on every run, and a
//! run with the cache reports exactly what a run without it reports.
//!
//! The cache is one pack file, rewritten (to a temporary file, then
//! renamed) by every run that lowered something new: it holds the entries
//! of the files of the last run, so it never grows past one project's IR.
//! The pack names the weir binary that wrote it (its version, size and
//! modification time): another build or version of weir ignores it and
//! writes its own.
//! Configuration is not part of the key because lowering never reads it;
//! rule selection, thresholds and ignores apply after the cache.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use weir_ir::Module;
use weir_ir::codec::{decode_module, encode_module};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// The directory `--cache` uses unless `--cache-dir` names another.
pub const DEFAULT_DIR: &str = ".weir_cache";
const PACK_FILE: &str = "ir.pack";
/// The pack's first bytes: what it is and its layout version.
const MAGIC: &[u8; 8] = b"WEIR-IR\x01";
const HEADER_LEN: usize = MAGIC.len() + 16 + 8;
/// Key, checksum of the bytes, length.
const ENTRY_HEAD_LEN: usize = 16 + 8 + 8;

/// What identifies one file's IR: its path, import name and content.
pub type Key = u128;

/// The entries of the last run's pack, by key.
pub struct IrCache {
    dir: PathBuf,
    tool: u128,
    pack: Vec<u8>,
    index: FxHashMap<Key, (usize, usize)>,
}

/// A module's encoded IR for the next pack: still in the old pack (a
/// hit), or just encoded (a miss).
pub enum Entry {
    Kept(Key, (usize, usize)),
    New(Key, Vec<u8>),
}

/// What one run did with the cache, for `--timings` and the notes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Files whose IR came from the cache.
    pub hits: usize,
    /// Files lowered from source (new, changed, or their entry unreadable).
    pub misses: usize,
}

impl Stats {
    /// Counted from the next pack's entries: one per file loaded.
    pub fn of(entries: &[Entry]) -> Stats {
        let hits = entries
            .iter()
            .filter(|e| matches!(e, Entry::Kept(..)))
            .count();
        Stats {
            hits,
            misses: entries.len() - hits,
        }
    }
}

impl IrCache {
    /// Opens the cache in `dir`. A missing pack, one written by another
    /// build of weir, or a damaged one is an empty cache; the error is for
    /// the one case where no cache can work: weir cannot read itself.
    pub fn open(dir: &Path) -> Result<IrCache, String> {
        let tool = tool_identity()?;
        let pack = std::fs::read(dir.join(PACK_FILE)).unwrap_or_default();
        let index = read_index(&pack, tool).unwrap_or_default();
        Ok(IrCache {
            dir: dir.to_path_buf(),
            tool,
            pack,
            index,
        })
    }

    /// The key of one file.
    pub fn key(rel: &str, name: &str, source: &str) -> Key {
        // NUL cannot occur in a path or an import name, so the fields
        // cannot run into each other.
        let mut hasher = Xxh3::new();
        hasher.update(rel.as_bytes());
        hasher.update(&[0]);
        hasher.update(name.as_bytes());
        hasher.update(&[0]);
        hasher.update(source.as_bytes());
        hasher.digest128()
    }

    /// The cached IR for `key`, when there is one, its bytes are the ones
    /// written (a damaged entry could still decode, into other code), and it
    /// decodes.
    pub fn get(&self, key: Key) -> Option<(Module, Entry)> {
        let &(start, end) = self.index.get(&key)?;
        let bytes = &self.pack[start..end];
        let written = u64::from_le_bytes(self.pack[start - 16..start - 8].try_into().ok()?);
        if xxh3_64(bytes) != written {
            return None;
        }
        let module = decode_module(bytes).ok()?;
        Some((module, Entry::Kept(key, (start, end))))
    }

    /// Encodes a freshly lowered module for the next pack.
    pub fn entry(key: Key, module: &Module) -> Entry {
        let mut bytes = Vec::new();
        encode_module(module, &mut bytes);
        Entry::New(key, bytes)
    }

    /// Writes the pack for this run's files, in their order, unless it
    /// would be the pack already there.
    pub fn save(self, entries: &[Entry]) -> Result<(), String> {
        let unchanged = entries.len() == self.index.len()
            && entries.iter().all(|e| matches!(e, Entry::Kept(..)));
        if unchanged {
            return Ok(());
        }
        let parts: Vec<(Key, Cow<'_, [u8]>)> = entries
            .iter()
            .map(|entry| match entry {
                Entry::Kept(key, (start, end)) => (*key, Cow::Borrowed(&self.pack[*start..*end])),
                Entry::New(key, bytes) => (*key, Cow::Borrowed(bytes.as_slice())),
            })
            .collect();
        let pack = write_pack(self.tool, &parts);
        write_atomically(&self.dir, &pack)
            .map_err(|e| format!("cannot write the cache in `{}`: {e}", self.dir.display()))
    }
}

/// The running executable's identity: its version, size and modification
/// time. Every build writes a new binary (a new time), so a cache is never
/// read by a weir that lowers differently from the one that wrote it.
/// Hashing the binary's bytes would say the same thing, but reading tens of
/// megabytes cost more than the cache saves on a small project.
fn tool_identity() -> Result<u128, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cache off: cannot find the weir executable ({e})"))?;
    let meta = std::fs::metadata(&exe)
        .map_err(|e| format!("cache off: cannot read `{}` ({e})", exe.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .ok_or_else(|| format!("cache off: `{}` has no modification time", exe.display()))?;
    let mut hasher = Xxh3::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(&meta.len().to_le_bytes());
    hasher.update(&modified.as_nanos().to_le_bytes());
    Ok(hasher.digest128())
}

fn write_pack(tool: u128, parts: &[(Key, Cow<'_, [u8]>)]) -> Vec<u8> {
    let size = HEADER_LEN
        + parts
            .iter()
            .map(|(_, bytes)| ENTRY_HEAD_LEN + bytes.len())
            .sum::<usize>();
    let mut pack = Vec::with_capacity(size);
    pack.extend_from_slice(MAGIC);
    pack.extend_from_slice(&tool.to_le_bytes());
    pack.extend_from_slice(&(parts.len() as u64).to_le_bytes());
    for (key, bytes) in parts {
        pack.extend_from_slice(&key.to_le_bytes());
        pack.extend_from_slice(&xxh3_64(bytes).to_le_bytes());
        pack.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        pack.extend_from_slice(bytes);
    }
    pack
}

/// Where each entry's bytes are in `pack`; `None` when the pack is not
/// this build's or is damaged (then nothing in it is trusted).
fn read_index(pack: &[u8], tool: u128) -> Option<FxHashMap<Key, (usize, usize)>> {
    let rest = pack.strip_prefix(MAGIC)?;
    let (written_by, rest) = rest.split_first_chunk::<16>()?;
    if u128::from_le_bytes(*written_by) != tool {
        return None;
    }
    let (count, _) = rest.split_first_chunk::<8>()?;
    let count = usize::try_from(u64::from_le_bytes(*count)).ok()?;
    let mut index = FxHashMap::default();
    let mut at = HEADER_LEN;
    for _ in 0..count {
        let head = pack.get(at..at.checked_add(ENTRY_HEAD_LEN)?)?;
        let (key, rest) = head.split_at(16);
        let len = &rest[8..];
        let key = u128::from_le_bytes(key.try_into().ok()?);
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let start = at + ENTRY_HEAD_LEN;
        let end = start.checked_add(len).filter(|&end| end <= pack.len())?;
        index.insert(key, (start, end));
        at = end;
    }
    (at == pack.len()).then_some(index)
}

/// For the fuzz tests: the pack with every entry's bytes passed through
/// `change` (entry index, bytes) and its checksum and length written anew,
/// so that damaged IR reaches the decoder and, when it still decodes, the
/// audit. `None` when `pack` is not a pack.
#[doc(hidden)]
pub fn rewrite_entries(
    pack: &[u8],
    mut change: impl FnMut(usize, &mut Vec<u8>),
) -> Option<Vec<u8>> {
    let tool = u128::from_le_bytes(pack.get(MAGIC.len()..MAGIC.len() + 16)?.try_into().ok()?);
    let index = read_index(pack, tool)?;
    let mut ranges: Vec<(Key, (usize, usize))> = index.into_iter().collect();
    ranges.sort_by_key(|(_, range)| range.0);
    let parts: Vec<(Key, Cow<'_, [u8]>)> = ranges
        .into_iter()
        .enumerate()
        .map(|(i, (key, (start, end)))| {
            let mut bytes = pack[start..end].to_vec();
            change(i, &mut bytes);
            (key, Cow::Owned(bytes))
        })
        .collect();
    Some(write_pack(tool, &parts))
}

/// Replaces the pack in one step, so a reader (or a run that is killed)
/// sees the old pack or the new one, never half of one. The directory is
/// marked as a cache for git and for backup tools.
fn write_atomically(dir: &Path, pack: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, "# Created by weir automatically.\n*\n")?;
        std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by weir.\n",
        )?;
    }
    let temporary = dir.join(format!("{PACK_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, pack)?;
    std::fs::rename(&temporary, dir.join(PACK_FILE)).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(entries: &[(Key, &[u8])]) -> Vec<(Key, Cow<'static, [u8]>)> {
        entries
            .iter()
            .map(|(k, b)| (*k, Cow::Owned(b.to_vec())))
            .collect()
    }

    #[test]
    fn a_pack_reads_back_its_entries() {
        let pack = write_pack(7, &parts(&[(1, b"abc"), (2, b""), (3, b"xyz!")]));
        let index = read_index(&pack, 7).unwrap();
        assert_eq!(index.len(), 3);
        let (start, end) = index[&3];
        assert_eq!(&pack[start..end], b"xyz!");
        assert_eq!(index[&2].0, index[&2].1);
    }

    #[test]
    fn another_build_or_a_damaged_pack_is_an_empty_cache() {
        let pack = write_pack(7, &parts(&[(1, b"abc"), (2, b"defg")]));
        assert!(read_index(&pack, 8).is_none(), "written by another build");
        for cut in 0..pack.len() {
            assert!(read_index(&pack[..cut], 7).is_none(), "cut at {cut}");
        }
        let mut longer = pack.clone();
        longer.push(0);
        assert!(read_index(&longer, 7).is_none(), "trailing bytes");
        let mut huge = pack.clone();
        huge[HEADER_LEN + 24..HEADER_LEN + 32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            read_index(&huge, 7).is_none(),
            "an entry longer than the pack"
        );
        assert!(read_index(b"", 7).is_none());
    }

    #[test]
    fn keys_separate_path_name_and_content() {
        let base = IrCache::key("app/db.py", "app.db", "x = 1\n");
        assert_ne!(base, IrCache::key("app/db2.py", "app.db", "x = 1\n"));
        assert_ne!(base, IrCache::key("app/db.py", "db", "x = 1\n"));
        assert_ne!(base, IrCache::key("app/db.py", "app.db", "x = 2\n"));
        assert_ne!(
            IrCache::key("a", "bc", ""),
            IrCache::key("ab", "c", ""),
            "fields do not run into each other"
        );
        assert_eq!(base, IrCache::key("app/db.py", "app.db", "x = 1\n"));
    }
}
