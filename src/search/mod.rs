//! Full-text search over live posts: what a query means (`Query`), the text
//! a post is indexed by (`plain_text`, `words`), the index kept by every
//! post write (`index`), the queries on both databases (`find`) and the
//! per-client limit on searches (`limit`).
//!
//! A query is only ever searched as words: it is cut to its first
//! `QUERY_MAX_CHARS` characters and split into runs of letters and digits,
//! and each word is handed to the database as a quoted string (FTS5) or as
//! plain text (`plainto_tsquery`). Nothing a visitor types can reach either
//! database's query syntax, so no query is an error.

pub mod find;
pub mod index;
pub mod limit;

use pulldown_cmark::{Event, Parser, TagEnd};

/// Characters of the query that are used; the rest is ignored.
pub const QUERY_MAX_CHARS: usize = 200;

/// Marks the start and end of a matched word in snippets from the database:
/// private-use characters, removed from every indexed text, so only the
/// database's marks can become `<mark>` once the snippet is escaped.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';
/// Stands for `<` in the text PostgreSQL makes snippets from: its parser
/// reads `<script>…</script>` as a tag with no words in it, so the words of
/// a code sample about HTML could not be marked. Turned back into `&lt;`.
pub const LESS_THAN: char = '\u{E002}';

/// A normalized query: its distinct words, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    /// The words of the first `QUERY_MAX_CHARS` characters of the trimmed query.
    pub fn parse(raw: &str) -> Query {
        let cut: String = raw.trim().chars().take(QUERY_MAX_CHARS).collect();
        let mut words: Vec<String> = Vec::new();
        for word in words_of(&cut) {
            if !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
        Query { words }
    }

    /// Nothing to search for (empty, or only punctuation and symbols).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// FTS5: every word as a quoted string, AND-ed. Words hold only
    /// letters and digits, so no `"` needs escaping.
    pub fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// PostgreSQL: the words separated by spaces, for `plainto_tsquery`.
    pub fn plain(&self) -> String {
        self.words.join(" ")
    }
}

/// Runs of letters and digits: how folio splits text into words, for
/// queries and for the PostgreSQL index alike (FTS5's `unicode61` splits
/// the same way).
pub fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The words of `text` separated by single spaces.
pub fn joined_words(text: &str) -> String {
    words_of(text).collect::<Vec<_>>().join(" ")
}

/// The text a reader sees in a post's Markdown: text and code, one line per
/// block, without markup, link targets or raw HTML (which the renderer
/// sanitizes away), and without the private-use characters snippets use.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell
                | TagEnd::TableRow,
            ) => text.push('\n'),
            _ => {}
        }
    }
    text.retain(|c| c != MARK_START && c != MARK_END && c != LESS_THAN);
    text
}

/// A snippet from the database as HTML: everything escaped, then the marks
/// turned into `<mark>` elements (an unclosed one is closed).
pub fn snippet_html(snippet: &str) -> String {
    let mut html = String::with_capacity(snippet.len() + 32);
    let mut open = false;
    for c in snippet.chars() {
        match c {
            MARK_START if !open => {
                html.push_str("<mark>");
                open = true;
            }
            MARK_END if open => {
                html.push_str("</mark>");
                open = false;
            }
            MARK_START | MARK_END => {}
            '&' => html.push_str("&amp;"),
            '<' | LESS_THAN => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_only() {
        let q = Query::parse("  \"rust\" -redis* NEAR(a b) title:x OR (y) ");
        assert_eq!(
            q.words(),
            ["rust", "redis", "NEAR", "a", "b", "title", "x", "OR", "y"]
        );
        assert_eq!(
            q.fts5(),
            "\"rust\" AND \"redis\" AND \"NEAR\" AND \"a\" AND \"b\" AND \"title\" AND \"x\" AND \"OR\" AND \"y\""
        );
        assert_eq!(q.plain(), "rust redis NEAR a b title x OR y");
    }

    #[test]
    fn punctuation_and_symbols_alone_are_no_query() {
        for raw in ["", "   ", "\"", "*", "-", ":", "()", "🦀🦀", "\u{E000}"] {
            assert!(Query::parse(raw).is_empty(), "{raw:?}");
        }
    }

    #[test]
    fn other_scripts_are_words() {
        assert_eq!(
            Query::parse("日本語 العربية café").words(),
            ["日本語", "العربية", "café"]
        );
    }

    #[test]
    fn only_the_first_200_characters_count_and_words_are_distinct() {
        let q = Query::parse(&"ab ".repeat(10_000));
        assert_eq!(q.words(), ["ab"]);
        let long = format!("{} tail", "é".repeat(199));
        assert_eq!(Query::parse(&long).words(), ["é".repeat(199)]);
    }

    #[test]
    fn plain_text_drops_markup_and_keeps_code() {
        let text = plain_text(
            "# Title\n\nSome **bold** [link](https://x.example) text.\n\n- one\n- two\n\n```\n<script>alert(1)</script>\n```\n\n<div>raw</div>\n",
        );
        assert!(text.contains("Title\n"));
        assert!(text.contains("Some bold link text."));
        assert!(!text.contains("x.example"));
        assert!(text.contains("<script>alert(1)</script>"));
        assert!(!text.contains("<div>"));
        assert!(!plain_text("a \u{E000}b\u{E001}").contains('\u{E000}'));
    }

    #[test]
    fn snippets_are_escaped_and_only_the_marks_become_html() {
        assert_eq!(
            snippet_html("<b>\u{E000}word\u{E001}</b> & 'x'"),
            "&lt;b&gt;<mark>word</mark>&lt;/b&gt; &amp; &#39;x&#39;"
        );
        assert_eq!(snippet_html("\u{E000}open"), "<mark>open</mark>");
        assert_eq!(snippet_html("\u{E002}script>"), "&lt;script&gt;");
        assert_eq!(
            snippet_html("\u{E001}x\u{E000}\u{E000}y"),
            "x<mark>y</mark>"
        );
    }
}
