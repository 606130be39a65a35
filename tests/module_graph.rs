//! The shape of the code, checked (issue 12): which top-level modules of `src/` may import
//! which. It reads the source, so it fails the moment an import goes the wrong way.
//!
//! - The bottom — `time`, `config`, `domain` (the shared rules), `db` (the connection),
//!   `tokens` (the token rules and use cases, which ask their storage through a trait of their
//!   own) and `store` (the tables, which answer it) — imports nothing above it.
//! - The top — `server` (the composition root), `app`, `pages` and `api` — is imported by
//!   nothing below it, and `server` by nothing at all.
//! - No import cycle joins top-level modules: services take only what they use (the store, the
//!   clock, their own per-process parts), never `web::state::AppState`, which sits above them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Modules and what each may import (a module may always import itself).
const BOTTOM: &[(&str, &[&str])] = &[
    ("time", &[]),
    ("config", &["time"]),
    ("domain", &["config", "time"]),
    ("db", &["config", "domain", "time"]),
    ("tokens", &["config", "db", "domain", "time"]),
    ("store", &["config", "db", "domain", "time", "tokens"]),
];

/// Modules nothing below them may import, with the only modules that may.
const TOP: &[(&str, &[&str])] = &[
    ("server", &[]),
    ("app", &["server"]),
    ("pages", &["app", "server"]),
    ("api", &["server"]),
];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn top_level_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .expect("src/ is readable")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let module = if entry.path().is_dir() {
                name
            } else {
                name.strip_suffix(".rs")?.to_owned()
            };
            (module != "lib" && module != "main").then_some(module)
        })
        .collect()
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder is readable") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The source without comments (a path named in a comment is not an import).
fn without_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a source file names after `crate::`, alone or in a `crate::{…}` group.
fn imported(source: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|item| item.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")]
        };
        found.extend(
            names
                .into_iter()
                .filter(|name| modules.contains(*name))
                .map(str::to_owned),
        );
    }
    found
}

/// Module → imported module → the files that import it.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let first = relative.components().next().expect("a path");
        let first = first.as_os_str().to_string_lossy();
        let module = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
        if !modules.contains(&module) {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        for target in imported(&without_comments(&source), &modules) {
            if target != module {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(target)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    graph
}

/// Tarjan's strongly connected components with more than one module: the import cycles.
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<BTreeSet<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, module: &'g str) {
            let at = self.index.len();
            self.index.insert(module, at);
            self.low.insert(module, at);
            self.stack.push(module);
            for target in self.graph.get(module).into_iter().flat_map(|t| t.keys()) {
                if !self.index.contains_key(target.as_str()) {
                    self.visit(target);
                    let low = self.low[module].min(self.low[target.as_str()]);
                    self.low.insert(module, low);
                } else if self.stack.contains(&target.as_str()) {
                    let low = self.low[module].min(self.index[target.as_str()]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    component.insert(member.to_owned());
                    if member == module {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for module in graph.keys() {
        if !walk.index.contains_key(module.as_str()) {
            walk.visit(module);
        }
    }
    walk.found
}

fn importers<'g>(graph: &'g Graph, target: &str) -> Vec<(&'g str, &'g BTreeSet<String>)> {
    graph
        .iter()
        .filter_map(|(module, targets)| targets.get(target).map(|files| (module.as_str(), files)))
        .collect()
}

#[test]
fn the_bottom_imports_nothing_above_it() {
    let graph = graph();
    for (module, allowed) in BOTTOM {
        for (target, files) in graph.get(*module).into_iter().flatten() {
            assert!(
                allowed.contains(&target.as_str()),
                "`{module}` must not import `{target}` (it does in {files:?})"
            );
        }
    }
}

#[test]
fn nothing_below_imports_the_top() {
    let graph = graph();
    for (module, allowed) in TOP {
        for (importer, files) in importers(&graph, module) {
            assert!(
                allowed.contains(&importer),
                "`{importer}` must not import `{module}` (it does in {files:?})"
            );
        }
    }
}

#[test]
fn no_import_cycle() {
    let graph = graph();
    let cycles = cycles(&graph);
    let named: Vec<String> = cycles
        .iter()
        .map(|cycle| {
            let members: Vec<&str> = cycle.iter().map(String::as_str).collect();
            let edges: Vec<String> = cycle
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|(to, _)| cycle.contains(*to))
                        .map(move |(to, files)| format!("{from} → {to} in {files:?}"))
                })
                .collect();
            format!("{members:?}: {}", edges.join("; "))
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "imports must flow one way; these modules import each other: {named:#?}"
    );
}

#[test]
fn the_check_finds_a_cycle_and_a_group_import() {
    let modules: BTreeSet<String> = ["a", "b", "c"].map(str::to_owned).into();
    let found = imported(
        "use crate::{a::X, b};\nlet y = crate::c::f(); // crate::d",
        &modules,
    );
    assert_eq!(found, modules);
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .insert(to.to_owned(), BTreeSet::new());
    }
    assert_eq!(cycles(&graph), vec![modules]);
}
