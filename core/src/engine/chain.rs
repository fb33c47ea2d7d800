//! Chains of scopes: a scope and its ancestors, the set of tallies one contribution goes to.
//! Apart from the floor that builds them so that what only carries them (the interval ledger)
//! needs nothing of the floor.

/// A scope's position in the floor's dense index.
pub(super) type ScopeIdx = usize;

/// A scope and its ancestors, nearest first (at most: agent, team, group, site, centre, or a
/// queue, its owner's ancestors and the centre; a handled call's union of both). Copied, never
/// allocated: it is built on every call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Chain {
    len: u8,
    idx: [u32; 12],
}

impl Chain {
    pub(super) fn push(&mut self, idx: ScopeIdx) {
        if !self.contains(idx) && usize::from(self.len) < self.idx.len() {
            self.idx[usize::from(self.len)] = idx as u32;
            self.len += 1;
        }
    }

    pub(super) fn contains(&self, idx: ScopeIdx) -> bool {
        self.iter().any(|i| i == idx)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = ScopeIdx> + '_ {
        self.idx[..usize::from(self.len)]
            .iter()
            .map(|&i| i as usize)
    }

    /// The scope at `pos` (0 is the scope itself).
    pub(super) fn get(&self, pos: usize) -> Option<ScopeIdx> {
        (pos < usize::from(self.len)).then(|| self.idx[pos] as usize)
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Adds every scope of `other` not yet in this chain.
    pub(super) fn union(mut self, other: &Chain) -> Chain {
        for idx in other.iter() {
            self.push(idx);
        }
        self
    }
}
