//! A crate's module tree, read from its root file by following `mod` items to files, and the
//! resolution of a path written in one module to the module that defines what it names
//! (following `use` re-exports, so `crate::Engine` names the file where `Engine` is defined,
//! not `lib.rs` that re-exports it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::parse::{Body, parse};

/// How deep a chain of re-exports is followed before giving up (a `use` cycle).
const MAX_HOPS: usize = 32;

/// One module: a file, or an inline `mod` inside one.
#[derive(Debug)]
pub(super) struct Module {
    /// Index into [`Tree::files`].
    pub(super) file: usize,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    bindings: BTreeMap<String, Vec<String>>,
    /// Paths written in this module (not in its children).
    pub(super) paths: Vec<Vec<String>>,
    /// Under `#[cfg(test)]`, itself or an ancestor.
    pub(super) test: bool,
}

/// The modules of one crate (one root file: `lib.rs`, `main.rs` or a `bin/` main).
#[derive(Debug, Default)]
pub(super) struct Tree {
    /// Files, relative to the directory the tree was read from.
    pub(super) files: Vec<PathBuf>,
    pub(super) modules: Vec<Module>,
    /// `#[macro_export]` macros, named at the crate root, and the modules that define them.
    macros: BTreeMap<String, usize>,
}

/// Reads source files by path; the command reads the disk, the tests a map.
pub(super) trait Source {
    /// The text of `path`, or `None` when there is no such file.
    fn read(&self, path: &Path) -> Option<String>;
    /// The entries of directory `dir`, as paths that start with `dir`, sorted.
    fn list(&self, dir: &Path) -> Vec<PathBuf>;
}

impl Tree {
    /// The tree whose root file is `root`.
    pub(super) fn load(source: &dyn Source, root: &Path) -> anyhow::Result<Tree> {
        let mut tree = Tree::default();
        let text = source
            .read(root)
            .with_context(|| format!("reading {}", root.display()))?;
        tree.add_file(source, root.to_path_buf(), text, true, None, false)?;
        Ok(tree)
    }

    fn add_file(
        &mut self,
        source: &dyn Source,
        path: PathBuf,
        text: String,
        owns_dir: bool,
        parent: Option<usize>,
        test: bool,
    ) -> anyhow::Result<usize> {
        // `lib.rs`, `main.rs` and `mod.rs` hold their children beside them; `a.rs` in `a/`.
        let dir = if owns_dir {
            path.parent().unwrap_or(Path::new("")).to_path_buf()
        } else {
            path.with_extension("")
        };
        self.files.push(path);
        let file = self.files.len() - 1;
        self.add_module(source, file, &dir, parse(&text), parent, test)
    }

    fn add_module(
        &mut self,
        source: &dyn Source,
        file: usize,
        dir: &Path,
        body: Body,
        parent: Option<usize>,
        test: bool,
    ) -> anyhow::Result<usize> {
        let id = self.modules.len();
        for name in &body.exported_macros {
            self.macros.insert(name.clone(), id);
        }
        self.modules.push(Module {
            file,
            parent,
            children: BTreeMap::new(),
            bindings: body.bindings.into_iter().collect(),
            paths: body.paths,
            test,
        });
        for child in body.children {
            let test = test || child.test;
            let child_id = match child.inline {
                Some(inline) => {
                    self.add_module(source, file, &dir.join(&child.name), inline, Some(id), test)?
                }
                None => {
                    let flat = dir.join(format!("{}.rs", child.name));
                    let nested = dir.join(&child.name).join("mod.rs");
                    match (source.read(&flat), source.read(&nested)) {
                        (Some(text), _) => {
                            self.add_file(source, flat, text, false, Some(id), test)?
                        }
                        (None, Some(text)) => {
                            self.add_file(source, nested, text, true, Some(id), test)?
                        }
                        (None, None) => bail!(
                            "{}: `mod {}` has no file ({} or {})",
                            self.files[file].display(),
                            child.name,
                            flat.display(),
                            nested.display()
                        ),
                    }
                }
            };
            self.modules[id].children.insert(child.name, child_id);
        }
        Ok(id)
    }

    /// The module that defines what `path`, written in module `at`, names; `None` for another
    /// crate's items (and names this reading cannot place, such as local variables).
    pub(super) fn resolve(&self, at: usize, path: &[String]) -> Option<usize> {
        self.resolve_hops(at, path, 0)
    }

    fn resolve_hops(&self, at: usize, path: &[String], hops: usize) -> Option<usize> {
        if hops > MAX_HOPS {
            return None;
        }
        let (mut module, mut rest) = (at, path);
        match rest.first()?.as_str() {
            "crate" => (module, rest) = (0, &rest[1..]),
            "self" => rest = &rest[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    module = self.modules[module].parent?;
                    rest = &rest[1..];
                }
            }
            first => {
                let m = &self.modules[module];
                if !m.children.contains_key(first) && !m.bindings.contains_key(first) {
                    return None;
                }
            }
        }
        for (k, seg) in rest.iter().enumerate() {
            let m = &self.modules[module];
            if module == 0 && self.macros.contains_key(seg) {
                return self.macros.get(seg).copied();
            } else if let Some(&child) = m.children.get(seg) {
                module = child;
            } else if let Some(target) = m.bindings.get(seg) {
                let mut full = target.clone();
                full.extend_from_slice(&rest[k + 1..]);
                return self.resolve_hops(module, &full, hops + 1);
            } else {
                break;
            }
        }
        Some(module)
    }
}
