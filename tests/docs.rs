//! The documentation against the tree: every repository path that the README and `docs/` name
//! exists, and every `plateau` command line the README shows parses (its flags and values are
//! accepted: each is run with `--help` appended, which clap answers only after parsing every
//! argument before it, so an unknown flag or a bad value fails while nothing is computed).

use crate::common;

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Top-level folders and files whose paths the docs name; a backticked token under one of them
/// is a path claim.
const TREE: [&str; 13] = [
    "theory/",
    "run/",
    "experiments/",
    "src/",
    "tests/",
    "docs/",
    "scripts/",
    "python/",
    "figures/",
    ".ci/",
    ".cargo/",
    "README.md",
    "Makefile",
];

/// The pages checked: the README and every `docs/*.md`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The repository paths a page names: backticked tokens under [`TREE`] and the targets of
/// relative Markdown links. Patterns (`<tag>`, `*`, `{a,b}`, `...`) and line anchors are not
/// paths; a trailing `:LINE` or `#anchor` is cut off.
fn named_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, piece) in text.split('`').enumerate() {
        if i % 2 == 1 && TREE.iter().any(|t| piece.starts_with(t)) {
            found.push(piece.to_string());
        }
    }
    for link in text.split("](").skip(1) {
        let target = link.split(')').next().unwrap_or("");
        if !target.contains("://") && !target.starts_with('#') {
            found.push(target.to_string());
        }
    }
    found
        .into_iter()
        .map(|p| {
            let p = p.split(['#', ' ']).next().unwrap_or("");
            let p = p.split(':').next().unwrap_or("");
            p.trim_end_matches(['.', ',', ')']).to_string()
        })
        .filter(|p| {
            !p.is_empty()
                && !["<", "*", "{", "...", "$", "NAME", "TAG"]
                    .iter()
                    .any(|c| p.contains(c))
        })
        .collect()
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("the page is readable");
        for p in named_paths(&text) {
            checked += 1;
            if !Path::new(ROOT).join(&p).exists() {
                missing.push(format!(
                    "{}: {p}",
                    page.strip_prefix(ROOT).unwrap().display()
                ));
            }
        }
    }
    // The scan must see the paths the README certainly names (a broken scanner finds none).
    assert!(
        checked > 50,
        "only {checked} paths found: the scanner is broken"
    );
    assert!(
        missing.is_empty(),
        "paths named but missing:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scanner_finds_paths_and_skips_patterns() {
    let text = "see `docs/fits.md`, `src/fit/` and [the law](docs/capacity.md#data); \
                `figures/scaling_<tag>.png`, `theory/*.md`, `cargo test`, `src/fit/lm.rs:42`";
    assert_eq!(
        named_paths(text),
        vec![
            "docs/fits.md",
            "src/fit/",
            "src/fit/lm.rs",
            "docs/capacity.md"
        ]
    );
}

/// The `plateau` command lines of the README's `sh` and `console` blocks, continuation lines
/// joined, prompts, comments and redirections removed, split into words.
fn readme_commands() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = matches!(line.trim(), "```sh" | "```console");
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.strip_prefix("$ ").unwrap_or(line);
        let line = line.split(" #").next().unwrap_or("");
        if !pending.is_empty() || line.starts_with("plateau ") {
            pending.push_str(line.trim_end_matches('\\'));
            pending.push(' ');
            if !line.ends_with('\\') {
                let cmd = pending.split(['>', '|']).next().unwrap_or("").to_string();
                commands.push(cmd.split_whitespace().map(str::to_string).collect());
                pending.clear();
            }
        }
    }
    commands
}

#[test]
fn every_command_line_in_the_readme_parses() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 8,
        "only {} command lines found",
        commands.len()
    );
    let dir = tempfile::tempdir().unwrap();
    for words in commands {
        let mut cmd = common::command();
        cmd.current_dir(dir.path()).args(&words[1..]).arg("--help");
        let out = cmd.output().expect("plateau runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("Usage"),
            "`{}` does not parse: {}{}",
            words.join(" "),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_misspelt_flag_fails_the_dry_run() {
    // The check above must be able to fail: `--help` after an unknown flag is an error.
    let out = common::plateau(&["theory", "--d", "10", "--nn", "100", "--help"]);
    assert_eq!(out.status.code(), Some(2));
    let out = common::plateau(&["theory", "--d", "ten", "--help"]);
    assert_eq!(out.status.code(), Some(2));
}
