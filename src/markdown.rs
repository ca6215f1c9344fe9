//! Markdown to sanitized HTML, done once when a post is saved. Fenced code
//! blocks in a known language are highlighted here too, as class-based spans
//! (`hl-…`) styled by `static/css/highlight.css`, so a page view costs nothing.

use crate::media::ShownMap;
use crate::media::markup;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, html};
use std::collections::HashSet;
use std::sync::LazyLock;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Highlighting classes are `hl-` plus each atom of the scope name.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// The stylesheet for the `hl-` classes, generated from two syntect themes
/// (see the test `highlight_stylesheet_is_generated_from_the_themes`).
const HIGHLIGHT_CSS: &str = include_str!("../static/css/highlight.css");

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// `language-…` for every token `find_syntax_by_token` knows.
static LANGUAGE_CLASSES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut classes: Vec<String> = SYNTAXES
        .syntaxes()
        .iter()
        .flat_map(|s| s.file_extensions.iter().cloned().chain([s.name.clone()]))
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
        .map(|t| format!("language-{}", t.to_ascii_lowercase()))
        .collect();
    classes.sort();
    classes.dedup();
    classes
});

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Only classes something styles survive: the highlighting classes the
    // stylesheet names, and the language of a code block.
    b.add_allowed_classes("span", stylesheet_classes(HIGHLIGHT_CSS));
    b.add_allowed_classes("code", LANGUAGE_CLASSES.iter().map(String::as_str));
    // Uploads are shown with their size, files and loading hints; the
    // filter keeps those attributes to what an upload's `<img>` needs.
    b.add_tag_attributes("img", markup::IMG_ATTRIBUTES);
    b.attribute_filter(markup::filter_attribute);
    b
});

/// Every `.hl-…` class a stylesheet names; spans keep only these.
fn stylesheet_classes(css: &'static str) -> HashSet<&'static str> {
    css.match_indices(".hl-")
        .map(|(i, _)| {
            let name = &css[i + 1..];
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(name.len());
            &name[..end]
        })
        .collect()
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
}

/// Renders Markdown and removes anything that could run in a reader's browser
/// (scripts, event handlers, `javascript:` links), whatever the author typed.
pub fn to_safe_html(markdown: &str) -> String {
    to_safe_html_with(markdown, &ShownMap::new())
}

/// `to_safe_html`, with the uploads the text points at shown with their
/// size, files and alt text (see `media::markup`).
pub fn to_safe_html_with(markdown: &str, uploads: &ShownMap) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    let events = highlight_code_blocks(Parser::new_ext(markdown, options()));
    let events = markup::rewrite_images(events, uploads);
    html::push_html(&mut raw, events.into_iter());
    // A character reference such as `&#8;` decodes to a character XML
    // forbids; the HTML goes into feeds, so it is dropped here too.
    crate::xml_text::strip_owned(SANITIZER.clean(&raw).to_string())
}

/// Replaces each fenced block in a known language by its highlighted HTML;
/// any other block passes through and pulldown-cmark escapes it as usual.
fn highlight_code_blocks<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    let mut block: Option<(CowStr<'a>, &SyntaxReference, String)> = None;
    for event in events {
        match (block.as_mut(), event) {
            (None, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))) => {
                match syntax_for(&info) {
                    Some(syntax) => block = Some((info, syntax, String::new())),
                    // Unknown: a plain block, without a class the sanitizer
                    // would strip to `class=""`.
                    None => out.push(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented))),
                }
            }
            (Some((_, _, code)), Event::Text(text)) => code.push_str(&text),
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                let (info, syntax, code) = block.take().expect("inside a block");
                // Lowercase, as the sanitizer's list of language classes is.
                let language = language_token(&info).to_ascii_lowercase();
                match highlight(syntax, &code) {
                    Some(spans) => out.push(Event::Html(
                        format!("<pre><code class=\"language-{language}\">{spans}</code></pre>\n")
                            .into(),
                    )),
                    None => out.extend([
                        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(language.into()))),
                        Event::Text(code.into()),
                        Event::End(TagEnd::CodeBlock),
                    ]),
                }
            }
            (_, event) => out.push(event),
        }
    }
    out
}

/// `rust` of an info string like `rust,ignore` or `rust title="x"`.
fn language_token(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("")
}

fn syntax_for(info: &str) -> Option<&'static SyntaxReference> {
    let token = language_token(info);
    // Only tokens whose class the sanitizer keeps: plain words, no markup.
    if token.is_empty()
        || !token
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>\"'&".contains(c))
    {
        return None;
    }
    SYNTAXES.find_syntax_by_token(token)
}

/// The block as `<span class="hl-…">` runs with the text escaped; `None` if
/// the grammar fails on it, so the block is shown plain instead.
fn highlight(syntax: &SyntaxReference, code: &str) -> Option<String> {
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, &SYNTAXES, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
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
            // Character references decode here too (`&#8;`): keep what XML allows.
            Event::Text(t) | Event::Code(t) if in_paragraph => {
                text.push_str(&crate::xml_text::strip(&t))
            }
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
    fn character_references_xml_forbids_are_dropped() {
        let markdown = "a &#8; b &#xFFFF; c &#27;";
        assert_eq!(summary(markdown, 100), "a b c");
        assert_eq!(to_safe_html(markdown), "<p>a  b  c </p>\n");
    }

    #[test]
    fn renders_headings_lists_and_code() {
        let html = to_safe_html("# Title\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<pre><code class=\"language-rust\">"));
        assert!(html.contains(">main</span>"));
    }

    #[test]
    fn a_rust_block_gets_highlighting_classes() {
        let html = to_safe_html("```rust\nfn main() { let x = 1; }\n```\n");
        assert!(
            html.starts_with("<pre><code class=\"language-rust\">"),
            "{html}"
        );
        assert!(html.contains("<span class=\"hl-"), "{html}");
        assert!(html.contains("hl-keyword"), "{html}");
        assert!(html.contains("main"));
    }

    #[test]
    fn the_info_string_may_carry_more_than_the_language() {
        let html = to_safe_html("```Rust,ignore\nfn main() {}\n```\n");
        assert!(
            html.starts_with("<pre><code class=\"language-rust\">"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-storage hl-type hl-function\">fn</span>"),
            "{html}"
        );
    }

    #[test]
    fn markup_inside_a_highlighted_block_stays_text() {
        let html = to_safe_html("```html\n<script>alert(1)</script>\n```\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;"), "{html}");
        assert!(html.contains("hl-"), "{html}");
        let rust =
            to_safe_html("```rust\nlet s = \"</code></pre><script>alert(1)</script>\";\n```\n");
        assert!(!rust.contains("<script"), "{rust}");
        assert_eq!(rust.matches("</pre>").count(), 1, "{rust}");
    }

    #[test]
    fn unknown_or_missing_languages_are_plain_escaped_code() {
        for markdown in [
            "```nosuchlanguage\n<b>x</b> fn main() {}\n```\n",
            "```\n<b>x</b> fn main() {}\n```\n",
            "```\"><script>\n<b>x</b> fn main() {}\n```\n",
        ] {
            let html = to_safe_html(markdown);
            assert_eq!(
                html,
                "<pre><code>&lt;b&gt;x&lt;/b&gt; fn main() {}\n</code></pre>\n"
            );
        }
    }

    #[test]
    fn authors_cannot_smuggle_other_classes() {
        let html =
            to_safe_html("<span class=\"hl-keyword evil\">a</span> <p class=\"hl-keyword\">b</p>");
        assert!(
            html.contains("<span class=\"hl-keyword\">a</span>"),
            "{html}"
        );
        assert!(html.contains("<p>b</p>"), "{html}");
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

    /// The committed stylesheet is what syntect makes of two of its themes:
    /// a light one, and a dark one for readers whose system is dark. Each
    /// sits in its own media query, so neither theme's more specific
    /// selectors win over the other's. The themes' own page colours are
    /// dropped: `pre` keeps the site's.
    /// Regenerate with `FOLIO_WRITE_HIGHLIGHT_CSS=1 cargo test --lib highlight_stylesheet`.
    #[test]
    fn highlight_stylesheet_is_generated_from_the_themes() {
        use syntect::highlighting::ThemeSet;
        use syntect::html::css_for_theme_with_class_style;
        let themes = ThemeSet::load_defaults();
        let indented_css_of = |name: &str| {
            let mut theme = themes.themes[name].clone();
            theme.settings.foreground = None;
            theme.settings.background = None;
            css_for_theme_with_class_style(&theme, CLASS_STYLE)
                .unwrap()
                .replace(".hl-code {\n}\n\n", "")
                .trim_end()
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("  {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let generated = format!(
            "/* Code highlighting: classes written by src/markdown.rs when a post is\n   \
             saved. Generated, do not edit: see the test\n   \
             highlight_stylesheet_is_generated_from_the_themes. */\n\n\
             @media not all and (prefers-color-scheme: dark) {{\n{}\n}}\n\n\
             @media (prefers-color-scheme: dark) {{\n{}\n}}\n",
            indented_css_of("InspiredGitHub"),
            indented_css_of("base16-ocean.dark"),
        );
        if std::env::var_os("FOLIO_WRITE_HIGHLIGHT_CSS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/static/css/highlight.css");
            std::fs::write(path, &generated).unwrap();
            return;
        }
        assert!(
            HIGHLIGHT_CSS == generated,
            "static/css/highlight.css is out of date: FOLIO_WRITE_HIGHLIGHT_CSS=1 cargo test --lib highlight_stylesheet"
        );
    }
}
