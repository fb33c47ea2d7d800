//! Ids as hash-map keys, with the bytes of a short id inside the table itself.
//!
//! Every agent and queue event looks its id up. With `String` keys each lookup compares the
//! event's id with a key's heap copy, a cache miss of its own on a busy floor; ids of up to 23
//! bytes (agent and queue ids in practice) are compared where the table's entry already is.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

const INLINE: usize = 23;

/// A stable 64-bit hash of an id (FxHash is seedless, so the same everywhere): how the engine
/// remembers event and call ids without keeping the strings.
pub(super) fn id_hash(id: &str) -> u64 {
    let mut h = FxHasher::default();
    id.hash(&mut h);
    h.finish()
}

/// An id, inline when short.
#[derive(Debug, Clone)]
enum IdKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl IdKey {
    fn new(id: &str) -> IdKey {
        let raw = id.as_bytes();
        if raw.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..raw.len()].copy_from_slice(raw);
            IdKey::Inline {
                len: raw.len() as u8,
                bytes,
            }
        } else {
            IdKey::Heap(raw.into())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            IdKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            IdKey::Heap(bytes) => bytes,
        }
    }
}

// Hashing and equality are those of the bytes, so a lookup by `&[u8]` finds the key.
impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for IdKey {}

impl Borrow<[u8]> for IdKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// A map from ids to `V`.
#[derive(Debug, Clone)]
pub(super) struct IdMap<V>(FxHashMap<IdKey, V>);

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap(FxHashMap::default())
    }
}

// A checkpoint (docs/ARCHITECTURE.md, "Checkpoints") writes the map as its ids and values;
// reading it back inserts them again, so the inline layout never reaches the disk.
impl<V: serde::Serialize> serde::Serialize for IdMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .map(|(k, v)| (String::from_utf8_lossy(k.as_bytes()), v)),
        )
    }
}

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for IdMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(String, V)>::deserialize(d)?;
        let mut map = IdMap(FxHashMap::default());
        map.0.reserve(pairs.len());
        for (id, value) in pairs {
            map.insert(&id, value);
        }
        Ok(map)
    }
}

impl<V> IdMap<V> {
    pub(super) fn get(&self, id: &str) -> Option<&V> {
        self.0.get(id.as_bytes())
    }

    pub(super) fn insert(&mut self, id: &str, value: V) {
        self.0.insert(IdKey::new(id), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_ids_are_found_and_told_apart() {
        let long = "PJSIP/agent-with-a-very-long-extension-1001";
        let mut map = IdMap::default();
        map.insert("a1", 1);
        map.insert("a10", 2);
        map.insert(long, 3);
        map.insert("", 4);
        assert_eq!(map.get("a1"), Some(&1));
        assert_eq!(map.get("a10"), Some(&2));
        assert_eq!(map.get(long), Some(&3));
        assert_eq!(map.get(""), Some(&4));
        assert_eq!(map.get("a100"), None);
        assert_eq!(map.get(&long[..long.len() - 1]), None);
    }
}
