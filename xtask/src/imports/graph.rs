//! The import graph between files and its cycles: the strongly connected components of more
//! than one file (Tarjan's algorithm).

use std::collections::{BTreeMap, BTreeSet};

/// Directed edges between files (by index), each with one path that makes it, for the report.
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub(super) edges: BTreeMap<usize, BTreeMap<usize, String>>,
}

impl Graph {
    /// Adds the edge `from → to` (a file never imports itself).
    pub(super) fn add(&mut self, from: usize, to: usize, because: String) {
        if from != to {
            self.edges
                .entry(from)
                .or_default()
                .entry(to)
                .or_insert(because);
        }
    }

    /// The cycles: every set of files each reachable from every other, sorted.
    pub(super) fn cycles(&self) -> Vec<BTreeSet<usize>> {
        let nodes: BTreeSet<usize> = self
            .edges
            .iter()
            .flat_map(|(from, tos)| std::iter::once(*from).chain(tos.keys().copied()))
            .collect();
        let mut tarjan = Tarjan {
            graph: self,
            index: 0,
            state: BTreeMap::new(),
            stack: Vec::new(),
            found: Vec::new(),
        };
        for node in nodes {
            if !tarjan.state.contains_key(&node) {
                tarjan.visit(node);
            }
        }
        let mut found = tarjan.found;
        found.sort();
        found
    }
}

struct Tarjan<'g> {
    graph: &'g Graph,
    index: usize,
    /// Per visited node: its index, lowest reachable index, and whether it is on the stack.
    state: BTreeMap<usize, (usize, usize, bool)>,
    stack: Vec<usize>,
    found: Vec<BTreeSet<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, node: usize) {
        let index = self.index;
        self.index += 1;
        self.state.insert(node, (index, index, true));
        self.stack.push(node);
        let nexts: Vec<usize> = self
            .graph
            .edges
            .get(&node)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for next in nexts {
            let low = match self.state.get(&next) {
                None => {
                    self.visit(next);
                    self.state[&next].1
                }
                Some(&(next_index, _, true)) => next_index,
                Some(_) => continue,
            };
            let entry = self.state.get_mut(&node).expect("visited");
            entry.1 = entry.1.min(low);
        }
        let (index, low, _) = self.state[&node];
        if index == low {
            let mut component = BTreeSet::new();
            while let Some(top) = self.stack.pop() {
                self.state.get_mut(&top).expect("visited").2 = false;
                component.insert(top);
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                self.found.push(component);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_cycle_and_passes_a_dag() {
        let mut g = Graph::default();
        for (a, b) in [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3), (5, 0)] {
            g.add(a, b, String::new());
        }
        let cycles: Vec<Vec<usize>> = g
            .cycles()
            .into_iter()
            .map(|c| c.into_iter().collect())
            .collect();
        assert_eq!(cycles, [vec![0, 1, 2], vec![3, 4]]);

        let mut dag = Graph::default();
        for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 3)] {
            dag.add(a, b, String::new());
        }
        assert!(dag.cycles().is_empty());
    }
}
