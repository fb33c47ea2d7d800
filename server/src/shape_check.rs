//! The server's shape, checked (issue 14): no import cycle among its top-level modules or among
//! the web edge's modules, no handler importing the router or another handler, and no service
//! importing the edge. The graph is read from the sources: every `crate::a::b` path, and
//! `super::x` inside `http/`, names an edge (test modules left out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The handler modules of `http/`: one feature each, none importing another.
const HANDLERS: [&str; 14] = [
    "alerts",
    "assets",
    "audit",
    "calls",
    "devices",
    "export",
    "import",
    "ingest",
    "live",
    "read",
    "report_files",
    "reports",
    "sign_off",
    "signin",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file is, as `top` or `http::child`; `None` for the crate root and tests.
fn node(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?.with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [] => None,
        [only] if only == "lib" || only == "main" || only == "shape_check" => None,
        _ if parts.iter().any(|p| p == "tests") => None,
        [http, child, ..] if http == "http" => Some(format!("http::{child}")),
        [top, ..] => Some(top.clone()),
    }
}

/// The paths `prefix` is followed by in `code`: `crate::a::b` gives `a::b`.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches(':')
        })
        .collect()
}

/// Every module's imports, at the granularity of [`node`].
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(from) = node(&root, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = text
            .split("#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut targets: Vec<String> = paths_after(&code, "crate::")
            .into_iter()
            .map(|path| {
                let mut parts = path.split("::");
                let top = parts.next().unwrap_or_default();
                match (top, parts.next()) {
                    ("http", Some(child)) => format!("http::{child}"),
                    _ => top.to_string(),
                }
            })
            .collect();
        if from.starts_with("http::") {
            for path in paths_after(&code, "super::") {
                let child = path.split("::").next().unwrap_or_default();
                targets.push(format!("http::{child}"));
            }
        }
        let edges = graph.entry(from.clone()).or_default();
        edges.extend(
            targets
                .into_iter()
                .filter(|t| *t != from && !t.ends_with("::")),
        );
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_cycle_among_the_top_level_modules() {
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph() {
        let from = from.split("::").next().unwrap_or_default().to_string();
        for to in targets {
            let to = to.split("::").next().unwrap_or_default().to_string();
            if to != from {
                top.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    assert_eq!(cycle(&top), None, "{top:#?}");
}

#[test]
fn the_edge_goes_one_way_down() {
    let graph = graph();
    let edge: BTreeMap<String, BTreeSet<String>> = graph
        .iter()
        .filter(|(from, _)| from.starts_with("http::"))
        .map(|(from, to)| {
            let inner = to.iter().filter(|t| t.starts_with("http::")).cloned();
            (from.clone(), inner.collect())
        })
        .collect();
    assert_eq!(cycle(&edge), None, "{edge:#?}");
    for (from, to) in &edge {
        for target in to {
            let name = target.trim_start_matches("http::");
            assert!(
                !HANDLERS.contains(&name) && name != "router",
                "{from} imports {target}: no handler imports the router or another handler"
            );
        }
    }
    for (from, to) in &graph {
        if from.starts_with("http") || from == "app" {
            continue;
        }
        let into_edge: Vec<_> = to.iter().filter(|t| t.starts_with("http")).collect();
        assert!(
            into_edge.is_empty(),
            "{from} imports {into_edge:?}: services never import the edge"
        );
    }
}
