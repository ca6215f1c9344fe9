//! Markdown to sanitized HTML, done once when a post is saved.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // `language-rust` classes on code blocks are harmless and useful for styling.
    b.add_tag_attributes("code", &["class"]);
    b
});

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
}

/// Renders Markdown and removes anything that could run in a reader's browser
/// (scripts, event handlers, `javascript:` links), whatever the author typed.
pub fn to_safe_html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    SANITIZER.clean(&raw).to_string()
}

/// Plain text of the first paragraph, cut at a word boundary near `max` chars.
pub fn summary(markdown: &str, max: usize) -> String {
    let mut text = String::new();
    let mut in_paragraph = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Paragraph) => in_paragraph = true,
            Event::End(TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(TagEnd::Paragraph) => in_paragraph = false,
            Event::Text(t) | Event::Code(t) if in_paragraph => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if in_paragraph => text.push(' '),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches(|c: char| !c.is_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_headings_lists_and_code() {
        let html = to_safe_html("# Title\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<code class=\"language-rust\">fn main() {}"));
    }

    #[test]
    fn script_tags_are_removed() {
        let html = to_safe_html("hello <script>alert(1)</script> world");
        assert!(!html.contains("<script"));
        assert!(html.contains("hello"));
    }

    #[test]
    fn event_handlers_are_removed() {
        let html = to_safe_html("<img src=\"x.png\" onerror=\"alert(1)\">");
        assert!(!html.contains("onerror"));
        assert!(html.contains("<img src=\"x.png\""));
    }

    #[test]
    fn javascript_links_lose_their_href() {
        let html =
            to_safe_html("[click](javascript:alert(1)) <a href=\"javascript:alert(2)\">x</a>");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn summary_takes_the_first_paragraph_as_text() {
        let s = summary(
            "# Heading\n\nFirst *para*graph with `code`.\n\nSecond.",
            200,
        );
        assert_eq!(s, "First paragraph with code.");
    }

    #[test]
    fn summary_is_cut_at_a_word() {
        let s = summary("alpha beta gamma delta epsilon", 14);
        assert_eq!(s, "alpha beta…");
    }
}
