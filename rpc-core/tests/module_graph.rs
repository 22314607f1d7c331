//! The module map in `docs/ARCHITECTURE.md` is the code's: each table there lists, per
//! module, the modules its non-test code names (`crate::x`, `super::x`, or a name the crate
//! or `cluster` re-exports from `x`), and this test derives the same tables from the sources
//! and compares them. A new dependency — a back-edge, a cycle — fails here until the map
//! shows it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Identifiers and the punctuation between them, with comments and test modules left out.
fn tokens(source: &str) -> Vec<String> {
    let code: String = source
        .split("#[cfg(test)]\nmod ")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut ident = c.to_string();
            while let Some(&next) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                ident.push(next);
                chars.next();
            }
            tokens.push(ident);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".into());
        } else if "{},;".contains(c) {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// The first identifier of every path that starts with `root::` (in `root::x` and in each
/// item of `root::{x, y::z}`).
fn paths_after(tokens: &[String], root: &str) -> Vec<String> {
    let mut found = Vec::new();
    for i in 0..tokens.len().saturating_sub(2) {
        if tokens[i] != root || tokens[i + 1] != "::" {
            continue;
        }
        if tokens[i + 2] != "{" {
            found.push(tokens[i + 2].clone());
            continue;
        }
        let (mut depth, mut item_start) = (0, true);
        for token in &tokens[i + 2..] {
            match token.as_str() {
                "{" => {
                    depth += 1;
                    item_start = depth == 1;
                    continue;
                }
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                "," if depth == 1 => item_start = true,
                _ if item_start && depth == 1 => {
                    found.push(token.clone());
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    found
}

/// Names a module file re-exports (`pub use x::…{A, B}`), each mapped to its module `x`.
fn reexports(file: &Path, modules: &BTreeSet<String>) -> HashMap<String, String> {
    let tokens = tokens(&fs::read_to_string(file).expect("read a module file"));
    let mut names = HashMap::new();
    for i in 0..tokens.len().saturating_sub(2) {
        if tokens[i] != "pub" || tokens[i + 1] != "use" || !modules.contains(&tokens[i + 2]) {
            continue;
        }
        let module = &tokens[i + 2];
        for token in tokens[i + 3..].iter().take_while(|t| *t != ";") {
            if token.chars().all(|c| c.is_alphanumeric() || c == '_') && token != "self" {
                names.insert(token.clone(), module.clone());
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The modules directly under `dir` (files and folders), without `mod.rs`/`lib.rs`.
fn child_modules(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read a source directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().expect("a file name").to_string_lossy().into_owned())
        .filter(|name| name != "mod" && name != "lib")
        .collect()
}

/// The graph of the modules directly under `dir`. Each file belongs to the child module its
/// path starts with; `crate_paths` says how that file's paths name siblings: `crate::x` at the
/// crate's root, `crate::cluster::x` or a sibling's `super::x` inside `cluster`.
fn graph(dir: &Path, root_file: &Path, prefix: &[&str]) -> Graph {
    let modules = child_modules(dir);
    let names = reexports(root_file, &modules);
    let mut graph = Graph::new();
    for file in rust_files(dir) {
        let relative = file.strip_prefix(dir).expect("under dir");
        let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let owner = parts[0].trim_end_matches(".rs").to_string();
        if !modules.contains(&owner) {
            continue;
        }
        let tokens = tokens(&fs::read_to_string(&file).expect("read a source file"));
        let mut named = Vec::new();
        // `crate::a::b::x` with `prefix` = [a, b]: `x` is a sibling.
        let mut after_crate = paths_after(&tokens, "crate");
        for step in prefix {
            let next = after_crate.iter().any(|first| first == step);
            after_crate = if next { paths_after(&tokens, step) } else { Vec::new() };
        }
        named.extend(after_crate);
        // A file directly in the folder (or a child's `mod.rs`) names siblings as `super::x`.
        let direct = parts.len() == 1 || (parts.len() == 2 && parts[1] == "mod.rs");
        if direct && !prefix.is_empty() {
            named.extend(paths_after(&tokens, "super"));
        }
        let edges = graph.entry(owner.clone()).or_default();
        for name in named {
            let target = if modules.contains(&name) { Some(name) } else { names.get(&name).cloned() };
            if let Some(target) = target.filter(|t| *t != owner) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// The table between `<!-- module map: {name} -->` and `<!-- end of module map -->`: rows
/// of `` | `module` | `a`, `b` | ``.
fn documented(doc: &str, name: &str) -> Graph {
    let start = format!("<!-- module map: {name} -->");
    let table = doc.split(&start).nth(1).unwrap_or_else(|| panic!("ARCHITECTURE.md has no {start}"));
    let table = table.split("<!-- end of module map -->").next().unwrap_or_default();
    let mut graph = Graph::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let module = cells[1].trim_matches('`').to_string();
        let uses = cells[2].split(',').map(|u| u.trim().trim_matches('`').to_string()).filter(|u| !u.is_empty());
        graph.entry(module).or_default().extend(uses);
    }
    graph
}

fn as_table(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(module, uses)| {
            let uses: Vec<String> = uses.iter().map(|u| format!("`{u}`")).collect();
            format!("| `{module}` | {} |", uses.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(name: &str, dir: &str, root: &str, prefix: &[&str]) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(manifest.join("../docs/ARCHITECTURE.md")).expect("read docs/ARCHITECTURE.md");
    let code = graph(&manifest.join(dir), &manifest.join(root), prefix);
    assert_eq!(
        documented(&doc, name),
        code,
        "the {name} map in docs/ARCHITECTURE.md should read:\n{}",
        as_table(&code)
    );
}

#[test]
fn the_documented_map_of_rpc_core_is_the_code() {
    check("rpc-core", "src", "src/lib.rs", &[]);
}

#[test]
fn the_documented_map_of_the_cluster_is_the_code() {
    check("cluster", "src/cluster", "src/cluster/mod.rs", &["cluster"]);
}

#[test]
fn rpc_cores_top_level_modules_form_no_cycle() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = graph(&manifest.join("src"), &manifest.join("src/lib.rs"), &[]);
    // Repeatedly remove modules that use nothing left; what remains is on a cycle.
    let mut left = graph.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, uses)| uses.iter().all(|u| !left.contains_key(u)))
            .map(|(m, _)| m.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            left.remove(&leaf);
        }
    }
    assert!(left.is_empty(), "modules on a cycle: {:?}", left.keys().collect::<Vec<_>>());
}
