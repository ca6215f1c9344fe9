//! How a post shows an upload: `<img>` with its size (no layout shift), a
//! `srcset` of its files, `sizes` for the post column, `loading="lazy"`
//! after the post's first image, `decoding="async"` and its alt text. Pure:
//! a rewrite of the Markdown events before they become HTML, and the rules
//! the sanitizer applies to those attributes.

use super::{Shown, ShownMap, is_file_name};
use pulldown_cmark::{Event, Tag, TagEnd};
use std::borrow::Cow;

/// The post column: the full width of a narrow screen less its gutters,
/// else 40rem (see `--measure` in site.css).
pub const SIZES: &str = "(max-width: 42.5rem) calc(100vw - 2.5rem), 40rem";

/// Replaces every Markdown image whose URL is an upload by its `<img>`;
/// other images pass through as they were.
pub fn rewrite_images<'a>(
    events: impl IntoIterator<Item = Event<'a>>,
    shown: &ShownMap,
) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    // The image being read: its start, what its alt is made of, and how
    // many images are open inside it (Markdown allows one in an alt).
    let mut image: Option<(Event<'a>, Vec<Event<'a>>, usize)> = None;
    let mut images_seen = 0;
    for event in events {
        match (image.as_mut(), event) {
            (None, start @ Event::Start(Tag::Image { .. })) => image = Some((start, Vec::new(), 0)),
            (Some((_, inner, depth)), event @ Event::Start(Tag::Image { .. })) => {
                *depth += 1;
                inner.push(event);
            }
            (Some((_, inner, depth)), event @ Event::End(TagEnd::Image)) if *depth > 0 => {
                *depth -= 1;
                inner.push(event);
            }
            (Some(_), end @ Event::End(TagEnd::Image)) => {
                let Some((start, inner, _)) = image.take() else {
                    continue;
                };
                let first = images_seen == 0;
                images_seen += 1;
                let upload = match &start {
                    Event::Start(Tag::Image {
                        dest_url, title, ..
                    }) => upload_of(dest_url, shown).map(|s| (s, dest_url.clone(), title.clone())),
                    _ => None,
                };
                match upload {
                    Some((s, src, title)) => {
                        let tag = img_tag(s, &src, &alt_text(&inner), &title, first);
                        out.push(Event::InlineHtml(tag.into()));
                    }
                    None => {
                        out.push(start);
                        out.extend(inner);
                        out.push(end);
                    }
                }
            }
            (Some((_, inner, _)), event) => inner.push(event),
            (None, event) => out.push(event),
        }
    }
    out
}

fn upload_of<'m>(src: &str, shown: &'m ShownMap) -> Option<&'m Shown> {
    shown.get(src.strip_prefix("/media/")?)
}

/// The alt text written in the Markdown, as plain text.
fn alt_text(events: &[Event<'_>]) -> String {
    let mut alt = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => alt.push_str(t),
            Event::SoftBreak | Event::HardBreak => alt.push(' '),
            _ => {}
        }
    }
    alt.trim().to_string()
}

/// The `<img>` of an upload. A non-empty alt written in the Markdown wins;
/// an empty one takes the upload's.
pub fn img_tag(s: &Shown, src: &str, written_alt: &str, title: &str, first: bool) -> String {
    let alt = if written_alt.is_empty() {
        &s.alt
    } else {
        written_alt
    };
    let mut tag = format!(
        "<img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\" srcset=\"{}\" sizes=\"{SIZES}\"",
        escape(src),
        escape(alt),
        s.width,
        s.height,
        escape(&s.srcset()),
    );
    if !title.is_empty() {
        tag.push_str(&format!(" title=\"{}\"", escape(title)));
    }
    if !first {
        tag.push_str(" loading=\"lazy\"");
    }
    tag.push_str(" decoding=\"async\">");
    tag
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `<img>` attributes the sanitizer lets through beyond its defaults.
pub const IMG_ATTRIBUTES: [&str; 5] = ["srcset", "sizes", "loading", "decoding", "title"];

/// The sanitizer's rule for those attributes, whoever wrote them: `srcset`
/// may only name uploads, `sizes` only lengths, `loading` and `decoding`
/// only their keywords. Everything else is left to the sanitizer's defaults.
pub fn filter_attribute<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
) -> Option<Cow<'u, str>> {
    if element != "img" {
        return Some(value.into());
    }
    let ok = match attribute {
        "srcset" => value.split(',').all(|candidate| {
            let mut parts = candidate.split_whitespace();
            let url_ok = parts
                .next()
                .and_then(|u| u.strip_prefix("/media/"))
                .is_some_and(is_file_name);
            let descriptor_ok = parts.all(|d| {
                d.len() > 1
                    && (d.ends_with('w') || d.ends_with('x'))
                    && d[..d.len() - 1]
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.')
            });
            url_ok && descriptor_ok
        }),
        "sizes" => value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ().,:-+".contains(&b)),
        "loading" => matches!(value, "lazy" | "eager"),
        "decoding" => matches!(value, "async" | "sync" | "auto"),
        _ => true,
    };
    ok.then(|| value.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Variant;

    fn shown() -> Shown {
        Shown {
            id: 1,
            width: 1200,
            height: 800,
            alt: "A red kite".into(),
            variants: vec![
                Variant {
                    name: "0123456789abcdef-480.jpg".into(),
                    width: 480,
                },
                Variant {
                    name: "0123456789abcdef.jpg".into(),
                    width: 1200,
                },
            ],
        }
    }

    #[test]
    fn the_written_alt_wins_and_an_empty_one_takes_the_uploads() {
        let s = shown();
        let own = img_tag(
            &s,
            "/media/0123456789abcdef.jpg",
            "Mine \"quoted\"",
            "",
            true,
        );
        assert!(own.contains("alt=\"Mine &quot;quoted&quot;\""), "{own}");
        let theirs = img_tag(&s, "/media/0123456789abcdef.jpg", "", "", false);
        assert!(theirs.contains("alt=\"A red kite\""), "{theirs}");
        assert!(theirs.contains("loading=\"lazy\""));
        assert!(!own.contains("loading="));
        assert!(theirs.contains(
            "srcset=\"/media/0123456789abcdef-480.jpg 480w, /media/0123456789abcdef.jpg 1200w\""
        ));
    }

    #[test]
    fn srcset_may_name_only_uploads() {
        assert!(
            filter_attribute("img", "srcset", "/media/ab-480.jpg 480w, /media/ab.jpg 2x").is_some()
        );
        assert!(filter_attribute("img", "srcset", "javascript:alert(1) 1x").is_none());
        assert!(filter_attribute("img", "srcset", "https://evil.example/a.png 1x").is_none());
        assert!(filter_attribute("img", "loading", "lazy").is_some());
        assert!(filter_attribute("img", "loading", "x").is_none());
        assert!(filter_attribute("img", "sizes", "url(x)\"").is_none());
    }
}
