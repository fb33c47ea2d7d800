//! The order rows go to the upserts in (BENCHMARKS.md, "Tenth pass: history"): the tables'
//! key order, scope name then start, and the scope names that order is by.

use floorwatch_core::{Millis, Scope};

/// `scope`'s name in the store (its `Display`, `kind:id`), made with one allocation of the
/// right size rather than through the formatting machinery: once for every row of every close
/// (BENCHMARKS.md, "Tenth pass: history").
pub(super) fn scope_name(scope: &Scope) -> String {
    let kind = scope.kind();
    match scope.id() {
        None => kind.to_string(),
        Some(id) => {
            let mut name = String::with_capacity(kind.len() + 1 + id.len());
            name.push_str(kind);
            name.push(':');
            name.push_str(id);
            name
        }
    }
}

/// Rows to upsert, put in the order of the tables' key (scope name, then start) before they go
/// to an [`Adder`]: a batch of closes names each scope's row of every quarter-hour it closed,
/// and the closes come quarter-hour by quarter-hour, in the floor's tree order (not its names');
/// in key order a scope's rows follow one another into the one leaf page that holds them, so
/// a 32-row upsert touches a few leaf pages instead of one a row: fewer B-tree descents through
/// pages not in the CPU's cache, and fewer page copies into the statement journal that SQLite
/// keeps for each many-row statement (BENCHMARKS.md, "Tenth pass: history"). What is stored is
/// the same in any order: each row is named once a batch ([`combined`]), and the rows of a
/// lone close named twice keep their order (the sort is stable).
#[derive(Default)]
pub(super) struct KeyOrder {
    /// (scope name, start, the row's index in the caller's list).
    keys: Vec<(String, Millis, usize)>,
}

impl KeyOrder {
    pub(super) fn push(&mut self, name: String, start: Millis, at: usize) {
        self.keys.push((name, start, at));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The rows by scope name (bytes, as SQLite's `BINARY` collation compares them), then
    /// start; rows with the same key in the order pushed.
    pub(super) fn sorted(mut self) -> impl Iterator<Item = (String, Millis, usize)> {
        // Stable, and quick on what the closes give: runs already in order.
        self.keys
            .sort_by(|a, b| (a.0.as_bytes(), a.1).cmp(&(b.0.as_bytes(), b.1)));
        self.keys.into_iter()
    }
}
