//! Every runbook link the integration hands out must open a section of the operations guide.
//!
//! Exceptions carry a runbook anchor (`operations.md#unknown-sku`). The anchors come from
//! `sync_core::ExceptionKind::runbook()` for every kind, the engine's included, and from the
//! string literals that still name one in the sources. This test gathers both, computes
//! the anchors GitHub gives the headings of `docs/operations.md`, and fails listing every anchor
//! that opens nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use sync_core::ExceptionKind;

const GUIDE: &str = "docs/operations.md";
const LINK: &str = "operations.md#";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sync-engine sits in the workspace")
        .to_path_buf()
}

/// Every exception kind, the engine's included, each `MissingMapping` table, failed action type
/// and stuck stage included.
fn core_kinds() -> Vec<ExceptionKind> {
    ExceptionKind::every()
}

/// Files under `dir` (recursively) whose name ends in `extension`, sorted.
fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// The anchors of every `operations.md#<anchor>` in `text`. An anchor is the run of letters,
/// digits, `-` and `_` after the `#`; a `#` followed by anything else (a `format!` placeholder,
/// a `<code>` in prose) is not a link and is skipped.
fn anchors_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices(LINK) {
        let rest = &text[start + LINK.len()..];
        let anchor: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if !anchor.is_empty() {
            found.push(anchor);
        }
    }
    found
}

/// Used anchors, each with where it is used.
fn used_anchors() -> BTreeMap<String, BTreeSet<String>> {
    let root = workspace();
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();

    for kind in core_kinds() {
        let runbook = kind.runbook();
        let anchors = anchors_in(&runbook);
        assert_eq!(
            anchors.len(),
            1,
            "{kind:?}.runbook() = {runbook:?} is not an operations.md anchor"
        );
        used.entry(anchors[0].clone())
            .or_default()
            .insert(format!("sync_core::ExceptionKind::{kind:?}"));
    }

    let mut sources = Vec::new();
    for dir in ["sync-core/src", "sync-engine/src", "examples"] {
        files(&root.join(dir), "rs", &mut sources);
    }
    assert!(
        sources.len() > 10,
        "found only {} Rust sources under {}: is the workspace layout as expected?",
        sources.len(),
        root.display()
    );
    let mut from_engine = 0;
    for path in &sources {
        let text = fs::read_to_string(path).expect("readable source");
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        for anchor in anchors_in(&text) {
            if shown.starts_with("sync-engine") {
                from_engine += 1;
            }
            used.entry(anchor).or_default().insert(shown.clone());
        }
    }
    assert!(
        from_engine > 0,
        "no `operations.md#` anchor found in sync-engine/src; the scan is not reading the sources"
    );
    used
}

/// The anchors of the links from a Markdown document to its own sections: `[text](#anchor)`.
fn internal_links(markdown: &str) -> Vec<String> {
    markdown
        .match_indices("](#")
        .map(|(start, _)| {
            markdown[start + 3..]
                .chars()
                .take_while(|c| *c != ')')
                .collect::<String>()
        })
        .collect()
}

/// Removes the inline markup GitHub drops from a heading's text: links and images keep their
/// text, HTML tags go.
fn heading_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `[text](target)` and `![alt](target)`: keep the text, drop the target.
            ']' if chars.peek() == Some(&'(') => {
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            '<' => {
                for c in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// GitHub's anchor for a heading text (github-slugger): lower case, every character that is not
/// a letter, digit, space, `-` or `_` removed, spaces turned into `-`.
fn slug(text: &str) -> String {
    heading_text(text)
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The ATX headings (`#` to `######`) of a Markdown document outside fenced code blocks.
fn headings(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        // A fence is three or more of the same character, '`' or '~'.
        let marker: String = match trimmed.chars().next() {
            Some(fence_char @ ('`' | '~')) => {
                trimmed.chars().take_while(|c| *c == fence_char).collect()
            }
            _ => String::new(),
        };
        if indent < 4 && marker.len() >= 3 {
            match &fence {
                None => fence = Some(marker),
                Some(open) if marker.starts_with(open.as_str()) && trimmed.trim() == marker => {
                    fence = None
                }
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() || indent >= 4 {
            continue;
        }
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) {
            continue;
        }
        let rest = &trimmed[level..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        // An optional closing sequence of `#` preceded by a space is not part of the text.
        let mut text = rest.trim();
        let without_closing = text.trim_end_matches('#');
        if without_closing.is_empty() || without_closing.ends_with(' ') {
            text = without_closing.trim_end();
        }
        found.push(text.to_owned());
    }
    found
}

/// The anchors GitHub gives the headings of `markdown`; a repeated slug gets `-1`, `-2`, ...
fn guide_anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = BTreeSet::new();
    for heading in headings(markdown) {
        let base = slug(&heading);
        let mut anchor = base.clone();
        while anchors.contains(&anchor) {
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            anchor = format!("{base}-{n}");
        }
        anchors.insert(anchor);
    }
    anchors
}

#[test]
fn every_runbook_anchor_opens_a_section_of_the_operations_guide() {
    let path = workspace().join(GUIDE);
    let guide =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let available = guide_anchors(&guide);
    let mut used = used_anchors();
    // The guide's links to its own sections must open too.
    for anchor in internal_links(&guide) {
        used.entry(anchor).or_default().insert(GUIDE.to_owned());
    }

    let missing: Vec<String> = used
        .iter()
        .filter(|(anchor, _)| !available.contains(*anchor))
        .map(|(anchor, places)| {
            let places: Vec<&str> = places.iter().map(String::as_str).collect();
            format!("  #{anchor}  (used by {})", places.join(", "))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} runbook anchor(s) open no heading of {GUIDE}:\n{}\n\nheadings' anchors:\n  {}",
        missing.len(),
        missing.join("\n"),
        available.iter().cloned().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn anchors_follow_github() {
    assert_eq!(slug("Unknown SKU"), "unknown-sku");
    assert_eq!(
        slug("Missing ship method mapping"),
        "missing-ship-method-mapping"
    );
    assert_eq!(slug("`action-failed`"), "action-failed");
    assert_eq!(
        slug("Order to cash: sales order → fulfilment"),
        "order-to-cash-sales-order--fulfilment"
    );
    assert_eq!(slug("Who owns what?"), "who-owns-what");
    assert_eq!(slug("[Stock drift](#x)"), "stock-drift");
    assert_eq!(slug("snake_case stays"), "snake_case-stays");

    let doc = "# Guide\n\n## Same\n\n```sh\n# not a heading\n```\n\n## Same ##\n\n    # indented code\n#no-space\n";
    assert_eq!(headings(doc), ["Guide", "Same", "Same"]);
    let anchors = guide_anchors(doc);
    assert_eq!(
        anchors.into_iter().collect::<Vec<_>>(),
        ["guide", "same", "same-1"]
    );
}

#[test]
fn links_are_found_in_code_and_prose_but_placeholders_are_not() {
    let text = r#"runbook: "operations.md#action-failed".into(), format!("operations.md#{}", c),
        see [x](operations.md#stock-drift) and operations.md#<code>"#;
    assert_eq!(anchors_in(text), ["action-failed", "stock-drift"]);
    assert_eq!(
        internal_links("see [drift](#stock-drift) and [out](https://x.test/#y)"),
        ["stock-drift"]
    );
}
