//! The hash maps and sets of the analysis. Keys are names and spans from
//! the project's own code, not input an attacker chooses to collide, so
//! the fast Fx hash replaces SipHash: hashing showed in profiles (names
//! are looked up for every call of every function).

pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
pub type HashSet<T> = std::collections::HashSet<T, rustc_hash::FxBuildHasher>;

/// `map[a.b.c]` for the dotted name of `parts`, joined in a reused buffer:
/// these lookups run for every call the walker resolves, and a `format!`
/// key for each was an allocation per lookup.
pub fn get_dotted<'m, V, S: std::hash::BuildHasher>(
    map: &'m std::collections::HashMap<String, V, S>,
    parts: &[&str],
) -> Option<&'m V> {
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    KEY.with_borrow_mut(|key| {
        key.clear();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                key.push('.');
            }
            key.push_str(part);
        }
        map.get(key.as_str())
    })
}
