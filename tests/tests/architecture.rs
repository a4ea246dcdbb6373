//! Keeps `ARCHITECTURE.md` true: reads the sources and manifests of the
//! repository and fails on
//!
//! 1. an import cycle between the modules of `egd-core`, `egd-tasks`,
//!    `egd-bench` or `egd-ffi` (a module is one `.rs` file; see [`graph`]
//!    for what counts as an import);
//! 2. a crate that depends on a crate of its own or a higher layer
//!    (`egd-core` → `egd-tasks` → the rest; [`LAYERS`]);
//! 3. a source file without an opening `//!` comment, or one that
//!    `ARCHITECTURE.md`'s module map does not name, or a `.rs` file the map
//!    names that does not exist (a stale entry).
//!
//! `cargo test -p egd-tests --test architecture -- --nocapture` prints each
//! crate's module graph. No dependencies: a small lexer drops comments,
//! string and char literals and `#[cfg(test)]` items, then reads `use`
//! trees and `crate::`/`super::`/`self::` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Crates whose module graph must be acyclic: `(name, source dir)`.
/// `src/bin` holds binary crate roots, not modules of the library.
const LIBRARIES: &[(&str, &str)] = &[
    ("egd-core", "egd-core/src"),
    ("egd-tasks", "egd-tasks/src"),
    ("egd-bench", "egd-bench/src"),
    ("egd-ffi", "egd-ffi/src"),
];

/// Each package's layer and manifest. A package may depend on packages of
/// lower layers only (normal, dev and build dependencies alike).
const LAYERS: &[(&str, u8, &str)] = &[
    ("egd-core", 0, "egd-core/Cargo.toml"),
    ("egd-tasks", 1, "egd-tasks/Cargo.toml"),
    ("egd-bench", 2, "egd-bench/Cargo.toml"),
    ("egd-tests", 2, "tests/Cargo.toml"),
    ("egd-ffi", 2, "egd-ffi/Cargo.toml"),
    ("egd-firmware", 2, "firmware/Cargo.toml"),
    ("egd-firmware-search", 2, "firmware/search/Cargo.toml"),
];

/// `src` with comments removed and the contents of string, byte-string,
/// raw-string and char literals blanked (lifetimes are kept).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if raw_string_at(&c, i) {
            // Raw string: r#…#"…"#…#
            i += usize::from(c[i] == 'b') + 1;
            let mut hashes = 0;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                    i += hashes + 1;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal ('x', '\n', '\u{..}'); otherwise a lifetime.
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Whether a raw (byte) string literal `r"…"`, `r#"…"#`, `br"…"` starts at `i`.
fn raw_string_at(c: &[char], i: usize) -> bool {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let starts = c[i] == 'r' || (c[i] == 'b' && at(i + 1) == 'r');
    if !starts || (i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')) {
        return false;
    }
    let mut k = i + usize::from(c[i] == 'b') + 1;
    while at(k) == '#' {
        k += 1;
    }
    at(k) == '"'
}

/// Index just past the item that starts at or after `from`: up to its `;`
/// or its matching `}`, whichever closes it.
fn item_end(s: &[u8], from: usize) -> usize {
    let mut i = from;
    let mut depth = 0usize;
    // Skip further attributes on the same item.
    while i < s.len() {
        match s[i] {
            b'[' | b'(' => depth += 1,
            b']' | b')' => depth = depth.saturating_sub(1),
            b';' if depth == 0 => return i + 1,
            b'{' if depth == 0 => {
                let mut braces = 0usize;
                while i < s.len() {
                    match s[i] {
                        b'{' => braces += 1,
                        b'}' => {
                            braces -= 1;
                            if braces == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// `s` without the items marked `#[cfg(test)]` (test code may reach
/// anywhere: a unit test of the record format may run a training).
fn without_test_items(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(k) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..k]);
        let after = k + "#[cfg(test)]".len();
        let end = item_end(rest.as_bytes(), after);
        rest = &rest[end.min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Expands a `use` tree (`a::{b, c::{d as e, self}, f::*}`) into paths.
fn expand_use(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    // Split at the first top-level `{`.
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use(&inner[start..k], &base, out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand_use(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        let leaf = tree.split(" as ").next().unwrap_or(tree).trim();
        if leaf == "self" {
            out.push(prefix.to_string());
        } else {
            out.push(join(prefix, leaf));
        }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}::{b}"),
    }
}

/// One source file: its module path (`""` for the crate root, `nn::mlp`),
/// the paths it names in `use` items (`pub use` ones kept apart: a re-export
/// is not a dependency of the re-exporting module) and inline.
#[derive(Debug, Default)]
struct Module {
    uses: Vec<String>,
    reexports: Vec<String>,
    inline: Vec<String>,
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Reads the `use` items and `crate::`/`super::`/`self::` paths of a file.
fn scan(code: &str) -> Module {
    let mut m = Module::default();
    let mut rest = code.to_string();
    // `use` items (with any visibility), removed from the text afterwards.
    while let Some(k) = find_keyword(&rest, "use") {
        let end = rest[k..].find(';').map_or(rest.len(), |e| k + e);
        let tree: String = rest[k + 3..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let before = rest[..k].trim_end();
        // `pub use`, `pub(crate) use`, …: the last word before `use`.
        let public = before
            .rsplit(|ch: char| ch.is_whitespace() || matches!(ch, ';' | '{' | '}' | ']'))
            .next()
            .is_some_and(|w| w.starts_with("pub"));
        let mut paths = Vec::new();
        expand_use(
            &tree.replace(" ::", "::").replace(":: ", "::"),
            "",
            &mut paths,
        );
        if public {
            m.reexports.extend(paths);
        } else {
            m.uses.extend(paths);
        }
        rest.replace_range(k..end.min(rest.len()), "");
    }
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(k) = rest[from..].find(start) {
            let k = from + k;
            from = k + start.len();
            let prev = rest[..k].chars().next_back().unwrap_or(' ');
            if is_ident(prev) || prev == '$' || prev == ':' {
                continue;
            }
            let path: String = rest[k..]
                .chars()
                .take_while(|&ch| is_ident(ch) || ch == ':')
                .collect();
            // `crate::some_macro!`: an exported macro lives at the crate
            // root whatever module defines it; not a module dependency.
            if rest[k + path.len()..].starts_with('!') {
                continue;
            }
            m.inline.push(path.trim_end_matches(':').to_string());
        }
    }
    m
}

/// Byte index of the keyword `kw` as a whole word, if any.
fn find_keyword(s: &str, kw: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = s[from..].find(kw) {
        let k = from + k;
        let before = s[..k].chars().next_back().unwrap_or(' ');
        let after = s[k + kw.len()..].chars().next().unwrap_or(' ');
        if !is_ident(before) && after.is_whitespace() {
            return Some(k);
        }
        from = k + kw.len();
    }
    None
}

/// The module path of a file under `src` (`lib.rs` → `""`, `a/mod.rs` →
/// `a`, `a/b.rs` → `a::b`).
fn module_path(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// Every `.rs` file under `dir`, `bin/` excluded, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "bin") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The module graph of the library crate in `src`: an edge `a → b` when
/// module `a`'s non-test code names an item of module `b` (`b` ≠ `a` and
/// `b` not a descendant of `a` that `a` merely re-exports). A path is
/// resolved to the longest module prefix it names, and through `pub use`
/// re-exports to the module that defines the item (`crate::nn::Mlp2` →
/// `nn::mlp` when `nn` re-exports it from there).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    let mut modules = BTreeMap::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        modules.insert(
            module_path(src, f),
            scan(&without_test_items(&strip(&text))),
        );
    }
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    // Absolute form of a path written in module `here`, or None for an
    // external crate (std, core, libm, …).
    let absolute = |here: &str, path: &str| -> Option<String> {
        let mut segs: Vec<&str> = if here.is_empty() {
            vec![]
        } else {
            here.split("::").collect()
        };
        let mut parts = path.split("::").peekable();
        match parts.peek().copied() {
            Some("crate") => {
                segs.clear();
                parts.next();
            }
            Some("self") => {
                parts.next();
            }
            Some("super") => {
                while parts.peek() == Some(&"super") {
                    segs.pop();
                    parts.next();
                }
            }
            Some(first) => {
                // Edition-2018 relative path: a child module of `here`.
                if !known.contains(&join(here, first)) {
                    return None;
                }
            }
            None => return None,
        }
        let tail: Vec<&str> = parts.collect();
        Some(join(&segs.join("::"), &tail.join("::")))
    };
    // name → defining path, per module, from its `pub use`s.
    let mut reexports: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (here, m) in &modules {
        for p in &m.reexports {
            if let Some(abs) = absolute(here, p) {
                let name = abs.rsplit("::").next().unwrap_or("").to_string();
                reexports.entry(here.clone()).or_default().insert(name, abs);
            }
        }
    }
    // The module that defines what `abs` names.
    let resolve = |abs: &str| -> String {
        let mut path = abs.to_string();
        for _ in 0..8 {
            let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut k = segs.len();
            while k > 0 && !known.contains(&segs[..k].join("::")) {
                k -= 1;
            }
            let module = segs[..k].join("::");
            let Some(item) = segs.get(k) else {
                return module;
            };
            match reexports.get(&module).and_then(|r| r.get(*item)) {
                Some(target) if *target != path => {
                    let mut next = target.clone();
                    for s in &segs[k + 1..] {
                        next.push_str("::");
                        next.push_str(s);
                    }
                    path = next;
                }
                _ => return module,
            }
        }
        path
    };
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (here, m) in &modules {
        let edges = g.entry(here.clone()).or_default();
        for p in m.uses.iter().chain(&m.inline) {
            let Some(abs) = absolute(here, p) else {
                continue;
            };
            let to = resolve(&abs);
            if to != *here {
                edges.insert(to);
            }
        }
    }
    g
}

/// The strongly connected sets of more than one module (Tarjan), i.e. the
/// import cycles.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        let g: &'a BTreeMap<String, BTreeSet<String>> = t.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut set = Vec::new();
            while let Some(w) = t.stack.pop() {
                set.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if set.len() > 1 {
                set.sort();
                t.out.push(set);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn show(g: &BTreeMap<String, BTreeSet<String>>) -> String {
    g.iter()
        .map(|(m, to)| {
            let m = if m.is_empty() { "(crate root)" } else { m };
            let to: Vec<&str> = to
                .iter()
                .map(|s| if s.is_empty() { "(crate root)" } else { s })
                .collect();
            format!("{m} -> {}\n", to.join(", "))
        })
        .collect()
}

#[test]
fn module_graphs_have_no_cycles() {
    let mut failures = Vec::new();
    for (name, dir) in LIBRARIES {
        let g = graph(&root().join(dir));
        println!("== {name}\n{}", show(&g));
        for c in cycles(&g) {
            failures.push(format!("{name}: import cycle among {}", c.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Names of the packages a manifest depends on (any dependency table).
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            let table = line.trim_matches(|c| c == '[' || c == ']');
            in_deps = table.ends_with("dependencies");
            // `[dependencies.egd-core]`
            if let Some((_, n)) = table.split_once("dependencies.") {
                out.insert(n.trim_matches('"').to_string());
            }
            continue;
        }
        if in_deps && let Some((key, _)) = line.split_once('=') {
            // `egd-core = …` or `egd-core.workspace = true`
            let key = key.trim().trim_matches('"');
            out.insert(key.split('.').next().unwrap_or(key).to_string());
        }
    }
    out
}

#[test]
fn crates_depend_on_lower_layers_only() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().map(|(n, l, _)| (*n, *l)).collect();
    let mut failures = Vec::new();
    for (name, own, manifest) in LAYERS {
        let text = fs::read_to_string(root().join(manifest)).expect("manifest");
        for dep in dependencies(&text) {
            if let Some(&theirs) = layer.get(dep.as_str())
                && theirs >= *own
            {
                failures.push(format!(
                    "{name} (layer {own}) depends on {dep} (layer {theirs}): a crate may depend on lower layers only"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_source_file_has_an_opening_comment_and_a_place_in_the_map() {
    let map = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut failures = Vec::new();
    for (name, dir) in LIBRARIES {
        let src = root().join(dir);
        for f in rust_files(&src) {
            let text = fs::read_to_string(&f).expect("source");
            let first = text.lines().next().unwrap_or("");
            let rel = f
                .strip_prefix(root())
                .expect("under root")
                .display()
                .to_string();
            if !(first.starts_with("//!") || first.starts_with("#![doc = include_str!")) {
                failures.push(format!("{rel}: no opening //! comment"));
            }
            let short = f
                .strip_prefix(&src)
                .expect("under src")
                .display()
                .to_string();
            if !map.contains(&format!("`{rel}`")) && !map.contains(&format!("`{short}`")) {
                failures.push(format!(
                    "{rel}: not in ARCHITECTURE.md's module map of {name} (write `{short}` there)"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where a `.rs` path named in `ARCHITECTURE.md` may live: relative to the
/// root or to one of these directories.
const MAP_BASES: &[&str] = &[
    "",
    "egd-core/src",
    "egd-tasks/src",
    "egd-bench",
    "egd-bench/src",
    "egd-bench/benches",
    "egd-ffi/src",
    "firmware",
    "firmware/src",
    "tests",
];

#[test]
fn every_file_the_map_names_exists() {
    let map = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut stale = Vec::new();
    for (k, quoted) in map.split('`').enumerate() {
        // Odd pieces are inside backticks.
        if k % 2 == 1
            && quoted.ends_with(".rs")
            && !quoted.starts_with('.')
            && !quoted.contains(['*', ' '])
            && !MAP_BASES
                .iter()
                .any(|base| root().join(base).join(quoted).is_file())
        {
            stale.push(format!(
                "ARCHITECTURE.md names `{quoted}`, which does not exist"
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn the_checker_sees_cycles_and_re_exports() {
    let dir = std::env::temp_dir().join(format!("egd-arch-{}", std::process::id()));
    let write = |p: &str, s: &str| {
        let p = dir.join(p);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, s).expect("write");
    };
    write(
        "lib.rs",
        "//! r\npub mod a;\npub mod b;\npub mod c;\npub mod n;\n",
    );
    // a → b through a grouped use; b → a through an inline path; a string
    // and a comment that mention crate::n do not count, nor do a test and a
    // macro call.
    write(
        "a.rs",
        "//! a\nuse crate::{b::{self, X}};\nconst S: &str = \"crate::n\"; // crate::n\n",
    );
    write(
        "b.rs",
        "//! b\nfn f() { crate::a::g(); crate::m!(); }\n#[cfg(test)]\nmod tests { use crate::n::Y; }\n",
    );
    // n re-exports m's item; m uses a; a path through the facade resolves to m.
    write("n/mod.rs", "//! n\nmod m;\npub use m::Y;\n");
    write("n/m.rs", "//! m\nuse super::super::a::Z;\npub struct Y;\n");
    write("c.rs", "//! c\nuse crate::n::Y;\n");
    let g = graph(&dir);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(g["a"], BTreeSet::from(["b".to_string()]), "{}", show(&g));
    assert_eq!(g["b"], BTreeSet::from(["a".to_string()]), "{}", show(&g));
    assert!(
        g["n"].is_empty(),
        "a re-export is not a dependency: {}",
        show(&g)
    );
    assert_eq!(g["n::m"], BTreeSet::from(["a".to_string()]));
    assert_eq!(g["c"], BTreeSet::from(["n::m".to_string()]), "{}", show(&g));
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    assert_eq!(
        dependencies(
            "[dependencies]\negd-core.workspace = true\n[dev-dependencies.egd-bench]\npath = \"x\"\n"
        ),
        BTreeSet::from(["egd-core".to_string(), "egd-bench".to_string()])
    );
}
