//! A hash for maps keyed by ids the peer picks (the ports it opens, its calls, main's requests
//! as a renderer sees them). A peer that knew how a map hashes could pick ids that all land in
//! one bucket and make every lookup walk them; SipHash (std's default) stops that but costs
//! about a hundred instructions per lookup, twice per message through a port. Here an id is
//! mixed with two keys drawn at random for each map by a folded multiplication, and folded once
//! more (as the `foldhash` crate mixes): which ids collide depends on keys the peer never sees.
//! (One fold alone left some keys that put 1,024 ids of one pattern in 40 buckets; with the
//! second, every pattern tried fills buckets as random ids do.)

use std::hash::{BuildHasher, Hasher, RandomState};

use super::own_ids::{SPREAD, folded_by};

/// The `BuildHasher` of maps keyed by the peer's ids: keys of its own, drawn when the map is
/// made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerIds {
    mix: u64,
    /// Odd: a multiplication by it loses no bit of the id.
    by: u64,
}

impl Default for PeerIds {
    fn default() -> Self {
        // std's `RandomState` is seeded from the operating system once per thread and stepped
        // for each one made: two hashes of it are two fresh random words, without a crate.
        let random = RandomState::new();
        PeerIds {
            mix: random.hash_one(0u8),
            by: random.hash_one(1u8) | 1,
        }
    }
}

impl BuildHasher for PeerIds {
    type Hasher = PeerIdHasher;

    fn build_hasher(&self) -> PeerIdHasher {
        PeerIdHasher {
            state: self.mix,
            by: self.by,
        }
    }
}

/// Hashes a `u64` (or any input, a word at a time) with its map's keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerIdHasher {
    state: u64,
    by: u64,
}

impl Hasher for PeerIdHasher {
    fn finish(&self) -> u64 {
        folded_by(self.state, SPREAD)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut whole = [0u8; 8];
            whole.copy_from_slice(word);
            self.write_u64(u64::from_le_bytes(whole));
        }
        let rest = words.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
    }

    fn write_u64(&mut self, n: u64) {
        self.state = folded_by(self.state ^ n, self.by);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn ids_a_peer_could_pick_to_collide_spread_over_buckets() {
        let build = PeerIds::default();
        // Ids that share their low bits, or their high bits, or step by a power of two: each
        // set of 1,024 reaches as many of 1,024 buckets as random ids would (about 647).
        let sets: [Vec<u64>; 4] = [
            (0..1024u64).collect(),
            (0..1024u64).map(|n| n << 32).collect(),
            (0..1024u64).map(|n| n << 54).collect(),
            (0..1024u64).map(|n| n * 1024 + 7).collect(),
        ];
        for ids in sets {
            let buckets: HashSet<u64> = ids.iter().map(|&id| build.hash_one(id) & 1023).collect();
            assert!(buckets.len() > 550, "{} buckets", buckets.len());
            let tags: HashSet<u64> = ids.iter().map(|&id| build.hash_one(id) >> 57).collect();
            assert!(tags.len() > 100, "{} tags", tags.len());
        }
        let mut map: HashMap<u64, u64, PeerIds> = HashMap::default();
        for id in (0..10_000u64).map(|n| n << 40) {
            map.insert(id, id / 2);
        }
        assert!((0..10_000u64).all(|n| map.get(&(n << 40)) == Some(&((n << 40) / 2))));
    }

    #[test]
    fn each_map_draws_its_own_keys() {
        let (a, b) = (PeerIds::default(), PeerIds::default());
        assert_ne!(a.hash_one(1u64), b.hash_one(1u64));
        assert_eq!(a.hash_one(1u64), a.hash_one(1u64));
    }
}
