//! The books the frames fill: the latest figures by scope and window, and the per-minute
//! history for the sparklines.

use std::collections::BTreeMap;

use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::wire::{HISTORY_MINUTES, MinutePoint, ScopeHistory};
use floorwatch_core::{Figures, Scope, Window};

/// The figures the client holds, by (scope, window).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FigureBook {
    figures: BTreeMap<(Scope, Window), Figures>,
}

impl FigureBook {
    /// A snapshot replaces everything.
    pub fn replace(&mut self, figures: Vec<Figures>) {
        self.figures.clear();
        self.update(figures);
    }

    /// A delta replaces the (scope, window) pairs it carries.
    pub fn update(&mut self, figures: Vec<Figures>) {
        for f in figures {
            self.figures.insert((f.scope.clone(), f.window), f);
        }
    }

    /// The figures of `scope` over `window`, when the server sent them.
    pub fn get(&self, scope: &Scope, window: Window) -> Option<&Figures> {
        // BTreeMap lookups need the owned key shape; scopes are short.
        self.figures.get(&(scope.clone(), window))
    }

    /// How many (scope, window) figures the book holds.
    pub fn len(&self) -> usize {
        self.figures.len()
    }

    /// Whether the book holds none.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }
}

/// Per-minute points by scope, for the sparklines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryBook {
    points: BTreeMap<Scope, Vec<MinutePoint>>,
}

impl HistoryBook {
    /// Replaces every scope's points with a snapshot's.
    pub fn replace(&mut self, history: Vec<ScopeHistory>) {
        self.points.clear();
        self.append(history);
    }

    /// Appends new points; a point for a minute already held replaces it (the server may
    /// resend the current minute). Keeps the last [`HISTORY_MINUTES`] minutes.
    pub fn append(&mut self, history: Vec<ScopeHistory>) {
        for h in history {
            let points = self.points.entry(h.scope).or_default();
            for p in h.points {
                match points.binary_search_by_key(&p.minute, |q| q.minute) {
                    Ok(i) => points[i] = p,
                    Err(i) => points.insert(i, p),
                }
            }
            if let Some(last) = points.last().map(|p| p.minute) {
                let oldest = last - (HISTORY_MINUTES as i64 - 1) * MINUTE_MS;
                points.retain(|p| p.minute >= oldest);
            }
        }
    }

    /// The points of `scope`, oldest first (empty when none).
    pub fn get(&self, scope: &Scope) -> &[MinutePoint] {
        self.points.get(scope).map_or(&[], Vec::as_slice)
    }
}
