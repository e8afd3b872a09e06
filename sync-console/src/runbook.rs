//! The runbook: the operations guide (`docs/operations.md`, built into the binary) rendered one
//! section at a time, so an exception's runbook link opens its entry as a page.
//!
//! Raw HTML in the guide is shown as text, never passed through; links to other sections of
//! the guide point at their console pages.
//!
//! ```
//! let html = sync_console::runbook::section("unknown-sku").unwrap();
//! assert!(html.title.contains("Unknown SKU"));
//! assert!(html.body.contains("<p>"));
//! assert!(sync_console::runbook::section("no-such-entry").is_none());
//! ```

use pulldown_cmark::{CowStr, Event, HeadingLevel, Parser, Tag, TagEnd};

/// The operations guide as the binary was built with it.
pub const GUIDE: &str = include_str!("../../docs/operations.md");

/// One section of the guide, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookSection {
    /// The section's heading, as text.
    pub title: String,
    /// The section's HTML (its heading left out), safe to embed.
    pub body: String,
}

/// The anchor of a heading as GitHub makes it: lower case, spaces as `-`, punctuation dropped.
///
/// ```
/// assert_eq!(sync_console::runbook::slug("Missing lot or serial"), "missing-lot-or-serial");
/// assert_eq!(sync_console::runbook::slug("Reading `sync drift`"), "reading-sync-drift");
/// ```
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchor of a runbook reference such as `operations.md#unknown-sku`.
pub fn anchor_of(runbook: &str) -> &str {
    runbook.rsplit_once('#').map_or(runbook, |(_, a)| a)
}

fn level_number(level: HeadingLevel) -> u8 {
    level as u8
}

/// The guide's section whose heading has anchor `anchor`, down to the next heading of the same
/// or a higher level.
pub fn section(anchor: &str) -> Option<RunbookSection> {
    let mut events = Parser::new(GUIDE).into_offset_iter().peekable();
    // Find the heading.
    let mut found: Option<(u8, String, usize)> = None;
    while let Some((event, range)) = events.next() {
        if let Event::Start(Tag::Heading { level, .. }) = event {
            let mut text = String::new();
            let mut end = range.end;
            for (inner, r) in events.by_ref() {
                match inner {
                    Event::Text(t) | Event::Code(t) => text.push_str(&t),
                    Event::End(TagEnd::Heading(_)) => {
                        end = r.end;
                        break;
                    }
                    _ => {}
                }
            }
            if slug(&text) == anchor {
                found = Some((level_number(level), text, end));
                break;
            }
        }
    }
    let (level, title, start) = found?;
    let mut end = GUIDE.len();
    for (event, range) in events {
        if let Event::Start(Tag::Heading { level: l, .. }) = event
            && level_number(l) <= level
        {
            end = range.start;
            break;
        }
    }
    Some(RunbookSection {
        title,
        body: render(&GUIDE[start..end]),
    })
}

/// Markdown as HTML, raw HTML shown as text and links to guide sections made console links.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new(markdown).map(|event| match event {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: local_link(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    body
}

/// Links within the guide open the console's runbook pages.
fn local_link(dest: CowStr<'_>) -> CowStr<'_> {
    let anchor = dest
        .strip_prefix('#')
        .or_else(|| dest.strip_prefix("operations.md#"));
    match anchor {
        Some(a) => CowStr::from(format!("/runbook/{a}")),
        None => dest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_stops_at_the_next_heading_of_its_level() {
        let s = section("unknown-sku").unwrap();
        assert!(!s.body.contains("SKU mismatch</h3>"));
        let chapter = section("exceptions-one-by-one").unwrap();
        assert!(chapter.body.contains("Unknown SKU"));
    }

    #[test]
    fn raw_html_is_text() {
        let out = render("a <script>x</script> [b](#job-failing)\n\n<div onclick=\"y\">b</div>\n");
        assert!(!out.contains("<script>"));
        assert!(!out.contains("<div"));
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("href=\"/runbook/job-failing\""));
    }
}
