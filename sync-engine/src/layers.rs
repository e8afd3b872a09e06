//! The layering rule of `lib.rs`, checked against the sources of this crate, and the rule that
//! no crate of the workspace has modules using each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules of the same crate it uses (`crate::x` paths in code,
/// comments and `#[cfg(test)]` parts left out).
fn uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" || module == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let used = graph.entry(module.clone()).or_default();
        for target in crate_paths(&text) {
            if target != module {
                used.insert(target);
            }
        }
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The first segments of the `crate::` paths of the code in `text`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut code = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = line.split("//").next().unwrap_or_default();
        code.push_str(line);
        code.push('\n');
    }
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not `crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = part.trim().split("::").next().unwrap_or_default();
                if !name.is_empty() {
                    found.insert(ident(name));
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|n| !n.is_empty() && n != "self");
    found
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The modules of `graph` that take part in a circle of uses (Tarjan's strongly connected
/// components larger than one module), each circle sorted.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].iter().filter(|w| self.graph.contains_key(*w)) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
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
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

/// The layers listed in `lib.rs`'s documentation: module → layer number.
fn documented_layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    let mut current = None;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if let Some((number, _)) = doc.split_once(". ")
            && let Ok(n) = number.parse::<usize>()
        {
            current = Some(n);
        } else if doc.is_empty() || doc.starts_with('#') {
            current = None;
        }
        if let Some(n) = current {
            for (i, part) in doc.split('`').enumerate() {
                if i % 2 == 1 {
                    layers.insert(part.to_owned(), n);
                }
            }
        }
    }
    layers
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_module_uses_only_its_own_layer_and_the_ones_before() {
    let lib = std::fs::read_to_string(manifest().join("src/lib.rs")).expect("lib.rs");
    let layers = documented_layers(&lib);
    let mut graph = uses(&manifest().join("src"));
    graph.remove("layers"); // this test
    let unlisted: Vec<&String> = graph.keys().filter(|m| !layers.contains_key(*m)).collect();
    assert!(
        unlisted.is_empty(),
        "modules missing from lib.rs's layers: {unlisted:?}"
    );
    let mut upward = Vec::new();
    for (module, used) in &graph {
        for target in used.iter().filter(|t| graph.contains_key(*t)) {
            if layers[target] > layers[module] {
                upward.push(format!(
                    "{module} (layer {}) uses {target} (layer {})",
                    layers[module], layers[target]
                ));
            }
        }
    }
    assert!(upward.is_empty(), "uses against the layers: {upward:#?}");
}

#[test]
fn no_crate_of_the_workspace_has_modules_using_each_other_in_a_circle() {
    let workspace = manifest().join("..");
    let mut found = Vec::new();
    for krate in [
        "sync-engine",
        "sync-core",
        "netsuite-client",
        "clarus-client",
        "sim",
        "sync-console",
    ] {
        let src = workspace.join(krate).join("src");
        let graph = uses(&src);
        assert!(graph.len() > 3, "{krate}: no modules read from {src:?}");
        for circle in circles(&graph) {
            found.push(format!("{krate}: {}", circle.join(" ⇄ ")));
        }
    }
    assert!(
        found.is_empty(),
        "modules using each other in a circle: {found:#?}"
    );
}

#[test]
fn the_checks_see_a_circle_and_an_upward_use() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, u)| (m.to_owned(), u.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        crate_paths("use crate::{x::Y, z};\nlet q = crate::w::f(); // crate::comment\nmy_crate::v"),
        ["w", "x", "z"].map(str::to_owned).into_iter().collect()
    );
    let layers =
        documented_layers("//! 1. base: `a`, `b`,\n//!    `c`\n//! 2. top: `d`\n//!\n//! `e`");
    assert_eq!(layers.get("c"), Some(&1));
    assert_eq!(layers.get("d"), Some(&2));
    assert_eq!(layers.get("e"), None);
}
