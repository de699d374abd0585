//! A hash for maps keyed by what this side chose itself: ids it numbers (its calls, counted up
//! from a start of its choosing) and names it registered (main's channels). No peer picks those
//! keys, so SipHash's defence against chosen keys buys nothing there, and it cost a twentieth of
//! a call through a handle in one process; one multiplication spreads consecutive ids over the
//! table. A peer's ids and names are only looked up in such a map, never inserted.

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes one `u64` by a multiplication (Fibonacci hashing); other input (a name) a word at a
/// time, each multiplied and its product's halves folded together.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OwnIdHasher(u64);

/// 2^64 divided by the golden ratio, odd: multiplying by it is a bijection that moves every
/// input bit into the high bits the table's control bytes are taken from.
pub(crate) const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for OwnIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A name is folded in a word at a time. A plain multiplication leaves the low bits
        // (where the table finds a key's bucket) depending only on the low bytes of each word,
        // which names of one namespace share: the high half of the full product is folded
        // back in.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut whole = [0u8; 8];
            whole.copy_from_slice(word);
            self.0 = folded(self.0 ^ u64::from_le_bytes(whole));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.0 = folded(self.0 ^ u64::from_le_bytes(last).rotate_left(8) ^ rest.len() as u64);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(SPREAD);
    }
}

/// `n` times [`SPREAD`], the 128-bit product's halves folded together.
fn folded(n: u64) -> u64 {
    folded_by(n, SPREAD)
}

/// `n` times `by`, the 128-bit product's halves folded together: every bit of either factor
/// reaches the low bits a table finds a key's bucket by.
pub(crate) fn folded_by(n: u64, by: u64) -> u64 {
    let product = u128::from(n) * u128::from(by);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The `BuildHasher` of maps keyed by this side's own ids.
pub(crate) type OwnIds = BuildHasherDefault<OwnIdHasher>;

/// The `BuildHasher` of maps keyed by names this side registered itself.
pub(crate) type OwnNames = BuildHasherDefault<OwnIdHasher>;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn consecutive_ids_spread_over_buckets_and_high_bits() {
        let build = OwnIds::default();
        let low: std::collections::HashSet<u64> =
            (1000..1064u64).map(|id| build.hash_one(id) & 63).collect();
        assert_eq!(
            low.len(),
            64,
            "64 consecutive ids take 64 distinct low-bit buckets"
        );
        let high: std::collections::HashSet<u64> =
            (1000..1064u64).map(|id| build.hash_one(id) >> 57).collect();
        assert!(high.len() > 32, "the top 7 bits vary: {}", high.len());
        let mut map: HashMap<u64, u64, OwnIds> = HashMap::default();
        for id in 0..10_000 {
            map.insert(id, id * 2);
        }
        assert!((0..10_000).all(|id| map.get(&id) == Some(&(id * 2))));
    }

    #[test]
    fn names_hash_whole_and_apart() {
        let names: Vec<String> = (0..2000).map(|n| format!("namespace:method{n}")).collect();
        let mut map: HashMap<&str, usize, OwnNames> = HashMap::default();
        for (n, name) in names.iter().enumerate() {
            map.insert(name, n);
        }
        assert!(
            names
                .iter()
                .enumerate()
                .all(|(n, name)| map.get(name.as_str()) == Some(&n))
        );
        assert_eq!(map.get("namespace:method"), None);
        assert_eq!(map.get("namespace:method20000"), None);
        let build = OwnNames::default();
        let hashes: std::collections::HashSet<u64> =
            names.iter().map(|name| build.hash_one(name)).collect();
        assert_eq!(hashes.len(), names.len(), "no two names hash alike");
        assert_ne!(build.hash_one("ab"), build.hash_one("ab\0"));
        // Names of one namespace spread over a table's buckets (its low bits).
        for (count, buckets) in [(100, 128u64), (2000, 4096)] {
            let spread: std::collections::HashSet<u64> = (0..count)
                .map(|n| build.hash_one(format!("app:m{n}")) % buckets)
                .collect();
            assert!(
                spread.len() * 2 > count,
                "{count} names in {} of {buckets} buckets",
                spread.len()
            );
        }
    }
}
