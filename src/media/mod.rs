//! Uploaded pictures: what is stored and served, and how posts show them.
//!
//! An upload is judged by decoding it (`process`), stored once per content
//! (`store`) as the picture turned upright and stripped of metadata plus
//! narrower copies, served from `/media/{name}` (`hot` keeps the most read
//! in process), and rendered in posts with its size, `srcset` and alt text
//! (`crate::markdown`, from a `Shown` map built when the post is saved).

pub mod hot;
pub mod markup;
pub mod process;
pub mod store;

use std::collections::HashMap;

/// The widths of the resized copies; none is made at or above the
/// original's own width.
pub const VARIANT_WIDTHS: [u32; 3] = [480, 960, 1920];

/// The largest upload read, in bytes (`413` beyond).
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The most pixels an upload may claim in its header (`422` beyond).
pub const MAX_PIXELS: u64 = 50_000_000;

/// The formats accepted, judged from the decoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Format {
    /// The file name extension of stored files.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
        }
    }

    /// The stored spelling (its extension), back to the format.
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Jpeg, Format::Png, Format::Gif, Format::Webp]
            .into_iter()
            .find(|f| f.ext() == s)
    }
}

/// The name of a stored file: the first 16 hex digits of the upload's
/// hash, then `-{width}` for a resized copy, then the extension.
pub fn file_name(hash: &str, width: Option<u32>, format: Format) -> String {
    let short = hash.get(..16).unwrap_or(hash);
    match width {
        Some(w) => format!("{short}-{w}.{}", format.ext()),
        None => format!("{short}.{}", format.ext()),
    }
}

/// Whether `name` is spelled like a stored file (so anything else is a
/// `404` without a query).
pub fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The names of the stored files a Markdown text points at: every
/// `/media/{name}` in it, in order, without repeats. Read from the raw text,
/// so a link or raw HTML counts too.
pub fn names_in(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, _) in markdown.match_indices("/media/") {
        let rest = &markdown[i + "/media/".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches('.');
        if is_file_name(name) && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// One stored file of an upload, as a page links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub width: u32,
}

/// An upload as a post shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub id: i64,
    /// Of the full-size picture (upright).
    pub width: u32,
    pub height: u32,
    pub alt: String,
    /// Every stored file, narrowest first.
    pub variants: Vec<Variant>,
}

impl Shown {
    /// `srcset` of every stored file.
    pub fn srcset(&self) -> String {
        self.variants
            .iter()
            .map(|v| format!("/media/{} {}w", v.name, v.width))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The uploads a post's Markdown points at, by every file name of each.
pub type ShownMap = HashMap<String, Shown>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_images_links_and_html() {
        let md = "![a](/media/0123456789abcdef.jpg) and [b](/media/0123456789abcdef-480.jpg).\n\
                  <img src=\"/media/fedcba9876543210.png\"> /media/ /media/0123456789abcdef.jpg";
        assert_eq!(
            names_in(md),
            vec![
                "0123456789abcdef.jpg",
                "0123456789abcdef-480.jpg",
                "fedcba9876543210.png"
            ]
        );
    }

    #[test]
    fn file_names_carry_the_short_hash_and_the_width() {
        let hash = "0123456789abcdef0123456789abcdef";
        assert_eq!(file_name(hash, None, Format::Png), "0123456789abcdef.png");
        assert_eq!(
            file_name(hash, Some(480), Format::Jpeg),
            "0123456789abcdef-480.jpg"
        );
        assert!(!is_file_name("../etc/passwd"));
        assert!(is_file_name("0123456789abcdef-480.jpg"));
    }
}
