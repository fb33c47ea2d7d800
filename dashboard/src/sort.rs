//! Sorting the supervisor's tables by any column, missing figures ("—") always last.

use std::cmp::Ordering;

/// What a table row sorts by in one column.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// Text, compared as written.
    Text(String),
    /// `None` is a missing figure.
    Number(Option<f64>),
}

/// A table's sort: the column index and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SortOrder {
    /// The column sorted by, from 0.
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

impl SortOrder {
    /// Clicking a heading sorts by it; clicking the same heading again reverses the order.
    /// Figures start descending (worst or biggest first), names ascending.
    pub fn clicked(self, column: usize, numeric: bool) -> SortOrder {
        if self.column == column {
            SortOrder {
                column,
                descending: !self.descending,
            }
        } else {
            SortOrder {
                column,
                descending: numeric,
            }
        }
    }
}

/// Orders two keys of the same column; ties and mixed kinds are equal, so a stable sort keeps
/// the rows' natural order among them.
pub fn compare(a: &SortKey, b: &SortKey, descending: bool) -> Ordering {
    let direction = |o: Ordering| if descending { o.reverse() } else { o };
    match (a, b) {
        (SortKey::Text(a), SortKey::Text(b)) => direction(a.cmp(b)),
        (SortKey::Number(a), SortKey::Number(b)) => match (a, b) {
            (Some(a), Some(b)) => direction(a.total_cmp(b)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        _ => Ordering::Equal,
    }
}

/// Sorts `rows` by `key` (stable).
pub fn sort_rows<T>(rows: &mut [T], order: SortOrder, key: impl Fn(&T, usize) -> SortKey) {
    rows.sort_by(|a, b| {
        compare(
            &key(a, order.column),
            &key(b, order.column),
            order.descending,
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_sort_last_in_both_directions() {
        let mut rows = vec![Some(2.0), None, Some(10.0), Some(-1.0)];
        let key = |v: &Option<f64>, _| SortKey::Number(*v);
        sort_rows(
            &mut rows,
            SortOrder {
                column: 0,
                descending: false,
            },
            key,
        );
        assert_eq!(rows, [Some(-1.0), Some(2.0), Some(10.0), None]);
        sort_rows(
            &mut rows,
            SortOrder {
                column: 0,
                descending: true,
            },
            key,
        );
        assert_eq!(rows, [Some(10.0), Some(2.0), Some(-1.0), None]);
    }

    #[test]
    fn text_sorts_and_ties_keep_their_order() {
        let mut rows = vec![("b", 1), ("a", 2), ("b", 0)];
        sort_rows(&mut rows, SortOrder::default(), |r, _| {
            SortKey::Text(r.0.into())
        });
        assert_eq!(rows, [("a", 2), ("b", 1), ("b", 0)]);
    }

    #[test]
    fn clicking_a_heading_twice_reverses() {
        let order = SortOrder::default().clicked(3, true);
        assert_eq!(
            order,
            SortOrder {
                column: 3,
                descending: true
            }
        );
        assert_eq!(
            order.clicked(3, true),
            SortOrder {
                column: 3,
                descending: false
            }
        );
        assert_eq!(
            order.clicked(0, false),
            SortOrder {
                column: 0,
                descending: false
            }
        );
    }
}
