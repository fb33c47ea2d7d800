//! `cargo xtask check-imports CRATE…`: fails when the files of a crate import each other in a
//! cycle, and names the files of each cycle with one import per edge.
//!
//! What counts as an edge from file A to file B: a path written in A (in a `use` item or in
//! code) that names an item defined in B, or B's module itself. Re-exports are followed to the
//! file that defines the item, so `crate::Engine` is an edge to `engine/mod.rs`, not to the
//! `lib.rs` that re-exports it. A child using what its parent defines (`super::Item`) is an
//! edge child → parent; a parent declaring `mod child` is not an edge, but a parent using the
//! child's items is: both together are a cycle. Test code (`#[cfg(test)]` modules) is left
//! out: it sits beside the code it tests, not under it.

mod graph;
mod lexer;
mod parse;
mod tree;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;

use graph::Graph;
use tree::{Source, Tree};

/// The crates checked when none is named.
const DEFAULT_CRATES: [&str; 4] = ["core", "simulator", "dashboard", "server"];

#[derive(Args)]
pub(crate) struct CheckImportsArgs {
    /// Crate directories, relative to the workspace root (default: core, simulator, dashboard, server).
    crates: Vec<PathBuf>,
}

/// Checks each crate, prints every cycle and fails when there is one.
pub(crate) fn run(args: &CheckImportsArgs) -> anyhow::Result<()> {
    let root = crate::dist::workspace_root();
    let crates: Vec<PathBuf> = if args.crates.is_empty() {
        DEFAULT_CRATES.iter().map(PathBuf::from).collect()
    } else {
        args.crates.clone()
    };
    let mut failed = 0;
    for krate in &crates {
        let cycles = check_crate(&Disk(root.join(krate)))?;
        if cycles.is_empty() {
            println!("{}: no import cycle", krate.display());
        }
        for cycle in &cycles {
            println!("{}: {cycle}", krate.display());
        }
        failed += cycles.len();
    }
    if failed > 0 {
        // A plain message, not an error with a backtrace: the cycles above are the report.
        eprintln!("{failed} import cycle(s)");
        std::process::exit(1);
    }
    Ok(())
}

/// Reads files under a crate directory.
struct Disk(PathBuf);

impl Source for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.0.join(dir)) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| dir.join(e.file_name())).collect();
        names.sort();
        names
    }
}

/// The crate roots: `src/lib.rs`, `src/main.rs`, `src/bin/NAME.rs`, `src/bin/NAME/main.rs`.
fn roots(source: &dyn Source) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| source.read(p).is_some())
        .collect();
    for entry in source.list(Path::new("src/bin")) {
        if entry.extension().is_some_and(|e| e == "rs") {
            roots.push(entry);
        } else if source.read(&entry.join("main.rs")).is_some() {
            roots.push(entry.join("main.rs"));
        }
    }
    roots
}

/// The cycles of one crate, each as a heading and the list of its edges (`from -> to  (path)`),
/// one a line.
fn check_crate(source: &dyn Source) -> anyhow::Result<Vec<String>> {
    let mut reports = Vec::new();
    for root in roots(source) {
        let tree = Tree::load(source, &root)?;
        let mut graph = Graph::default();
        for (id, module) in tree.modules.iter().enumerate() {
            if module.test {
                continue;
            }
            for path in &module.paths {
                if let Some(target) = tree.resolve(id, path)
                    && !tree.modules[target].test
                {
                    graph.add(module.file, tree.modules[target].file, path.join("::"));
                }
            }
        }
        for cycle in graph.cycles() {
            reports.push(describe(&tree, &graph, &cycle));
        }
    }
    Ok(reports)
}

fn describe(tree: &Tree, graph: &Graph, cycle: &BTreeSet<usize>) -> String {
    let mut lines = vec![format!("import cycle of {} files:", cycle.len())];
    for from in cycle {
        for (to, because) in &graph.edges[from] {
            if cycle.contains(to) {
                lines.push(format!(
                    "  {} -> {}  ({because})",
                    tree.files[*from].display(),
                    tree.files[*to].display()
                ));
            }
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    struct Files(BTreeMap<PathBuf, String>);

    impl Source for Files {
        fn read(&self, path: &Path) -> Option<String> {
            self.0.get(path).cloned()
        }

        fn list(&self, dir: &Path) -> Vec<PathBuf> {
            let mut names: BTreeSet<PathBuf> = BTreeSet::new();
            for path in self.0.keys() {
                if let Some(first) = path.strip_prefix(dir).ok().and_then(|r| r.iter().next()) {
                    names.insert(dir.join(first));
                }
            }
            names.into_iter().collect()
        }
    }

    fn check(files: &[(&str, &str)]) -> Vec<String> {
        let files = Files(
            files
                .iter()
                .map(|(p, s)| (PathBuf::from(p), s.to_string()))
                .collect(),
        );
        check_crate(&files).unwrap()
    }

    #[test]
    fn two_files_importing_each_other_are_a_cycle() {
        let cycles = check(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            ("src/a.rs", "use crate::b::B;\npub struct A;\n"),
            (
                "src/b.rs",
                "pub struct B;\nfn f() -> crate::a::A { todo!() }\n",
            ),
        ]);
        assert_eq!(cycles.len(), 1);
        assert!(
            cycles[0].contains("src/a.rs -> src/b.rs  (crate::b::B)"),
            "{}",
            cycles[0]
        );
        assert!(
            cycles[0].contains("src/b.rs -> src/a.rs  (crate::a::A)"),
            "{}",
            cycles[0]
        );
    }

    #[test]
    fn a_dag_passes_and_re_exports_lead_to_the_defining_file() {
        let cycles = check(&[
            (
                "src/lib.rs",
                "pub mod engine;\nmod time;\nmod serde_str;\nmod scope;\npub use engine::Engine;\npub use scope::Scope;\npub use time::MINUTE;\n",
            ),
            (
                "src/engine/mod.rs",
                "mod clock;\npub use clock::Clock;\npub struct Engine(Clock);\n",
            ),
            // Names through the root's re-export: an edge to time.rs, not to lib.rs.
            (
                "src/engine/clock.rs",
                "use crate::MINUTE;\npub struct Clock;\n",
            ),
            ("src/time.rs", "pub const MINUTE: i64 = 60_000;\n"),
            // A `#[macro_export]` macro is named at the root but defined in its own file.
            (
                "src/serde_str.rs",
                "#[macro_export]\nmacro_rules! via_str { () => {} }\n",
            ),
            ("src/scope.rs", "pub struct Scope;\ncrate::via_str!();\n"),
            // A second crate root in the same package: its own tree.
            (
                "src/bin/tool/main.rs",
                "mod args;\nfn main() { args::parse(); }\n",
            ),
            ("src/bin/tool/args.rs", "pub fn parse() {}\n"),
        ]);
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn a_parent_and_a_child_using_each_other_are_a_cycle() {
        let files = [
            ("src/lib.rs", "mod alerts;\n"),
            (
                "src/alerts/mod.rs",
                "mod rules;\npub(crate) const PERIOD: i64 = 10;\nfn f() { rules::compile(); }\n",
            ),
            (
                "src/alerts/rules.rs",
                "use super::PERIOD;\npub(crate) fn compile() {}\n",
            ),
        ];
        let cycles = check(&files);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(cycles[0].contains("src/alerts/mod.rs -> src/alerts/rules.rs  (rules::compile)"));
        assert!(cycles[0].contains("src/alerts/rules.rs -> src/alerts/mod.rs  (super::PERIOD)"));

        // A child using its parent's items, the parent only declaring it: no cycle.
        let one_way = check(&[
            files[0],
            (
                "src/alerts/mod.rs",
                "mod rules;\npub(crate) const PERIOD: i64 = 10;\n",
            ),
            files[2],
        ]);
        assert!(one_way.is_empty(), "{one_way:?}");
    }

    #[test]
    fn test_modules_are_left_out() {
        let cycles = check(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            (
                "src/a.rs",
                "pub struct A;\n#[cfg(test)]\nmod tests {\n    use crate::b::helper;\n}\n",
            ),
            (
                "src/b.rs",
                "use crate::a::A;\n#[cfg(test)]\npub fn helper() {}\n",
            ),
        ]);
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn inline_modules_resolve_super_from_where_they_sit() {
        let cycles = check(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            (
                "src/a.rs",
                "pub struct A;\nmod inner {\n    use super::super::b::B;\n}\n",
            ),
            ("src/b.rs", "pub struct B;\nuse crate::a::A;\n"),
        ]);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
    }
}
