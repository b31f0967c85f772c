//! The hash maps and sets of the analysis. Keys are names and spans from
//! the project's own code, not input an attacker chooses to collide, so
//! the fast Fx hash replaces SipHash: hashing showed in profiles (names
//! are looked up for every call of every function).

pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
pub type HashSet<T> = std::collections::HashSet<T, rustc_hash::FxBuildHasher>;
