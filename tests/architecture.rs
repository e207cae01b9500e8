//! The shape of the code, checked: the top-level modules of `src/` depend on each other
//! one way only (no cycles), `query` knows nothing of HTTP (`api`, `error`), `model` knows
//! nothing of the config, `api` opens no files (it may spool an answer to a temporary one), every file starts with a `//!` doc saying
//! what it owns, and no file grows past 800 lines.
//!
//! Dependencies are read from the code itself: `crate::module` paths and `use crate::{…}`
//! lists, outside comments and outside `#[cfg(test)]` modules and `tests.rs` files (tests
//! may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // The rest of the file is the test module, by this codebase's convention.
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let line = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules a piece of code names through `crate::`.
fn dependencies(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&name) {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

struct Crate {
    files: Vec<(PathBuf, String)>,
    graph: BTreeMap<String, BTreeSet<String>>,
}

fn read_crate() -> Crate {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths.sort();
    let modules: BTreeSet<String> = paths.iter().filter_map(|p| module_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(module) = module_of(&path) {
            let is_tests = path.file_name().is_some_and(|n| n == "tests.rs");
            if !is_tests {
                let mut deps = dependencies(&code(&text), &modules);
                deps.remove(&module);
                graph.entry(module).or_default().extend(deps);
            }
        }
        files.push((path, text));
    }
    Crate { files, graph }
}

fn path_between(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut previous: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_string()]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(&at).into_iter().flatten() {
            if previous.contains_key(next) || next == from {
                continue;
            }
            previous.insert(next.clone(), at.clone());
            if next == to {
                let mut path = vec![to.to_string()];
                while let Some(p) = previous.get(path.last().unwrap()) {
                    path.push(p.clone());
                    if p == from {
                        break;
                    }
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next.clone());
        }
    }
    None
}

#[test]
fn top_level_modules_depend_on_each_other_one_way_only() {
    let graph = read_crate().graph;
    let mut cycles = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            if let Some(back) = path_between(&graph, dep, module) {
                cycles.push(format!("{module} -> {}", back.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "cycles:\n{}", cycles.join("\n"));
}

#[test]
fn query_knows_no_http_and_model_no_config() {
    let graph = read_crate().graph;
    let uses = |module: &str| graph.get(module).cloned().unwrap_or_default();
    for forbidden in ["api", "error", "server"] {
        assert!(!uses("query").contains(forbidden), "query uses {forbidden}");
    }
    assert!(!uses("model").contains("config"), "model uses config");
    assert!(!uses("model").contains("api"), "model uses api");
}

#[test]
fn api_reads_no_files() {
    for (path, text) in read_crate().files {
        if module_of(&path).as_deref() != Some("api") {
            continue;
        }
        let code = code(&text);
        for call in ["fs::read", "File::open", "read_dir", "OpenOptions"] {
            assert!(
                !code.contains(call),
                "{} uses {call}; files are read by data/ (or the publisher)",
                path.display()
            );
        }
    }
}

#[test]
fn every_file_says_what_it_owns_and_stays_short() {
    let mut problems = Vec::new();
    for (path, text) in read_crate().files {
        let name = path.strip_prefix(src()).unwrap().display().to_string();
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{name}: no //! doc at the top"));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{name}: {lines} lines (at most {MAX_LINES})"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_and_ignores_comments_and_tests() {
    let modules: BTreeSet<String> = ["api", "model", "query"].map(String::from).into();
    let text = "//! Uses [`crate::api`] in a comment only.\nuse crate::{model, query::Filter};\nfn f() { crate::query::run(); } // crate::api\n#[cfg(test)]\nmod tests { use crate::api; }\n";
    assert_eq!(
        dependencies(&code(text), &modules),
        ["model", "query"].map(String::from).into()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), ["a".to_string()].into()),
    ]
    .into();
    assert_eq!(
        path_between(&graph, "b", "a"),
        Some(vec!["b".into(), "c".into(), "a".into()])
    );
    assert_eq!(path_between(&graph, "a", "d"), None);
}
