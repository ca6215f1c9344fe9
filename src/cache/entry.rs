//! The stored form of a page: a fixed-size header, then the body.
//!
//! `F3 <16 hex: hash of the plain page> <kind> <16 hex: epoch>\n`, then the
//! page compressed twice (brotli, gzip; see `encode`). The hash is the ETag
//! (with a suffix per encoding) and lets a lookup compare a copy in process
//! by its header alone: two entries with one header hold the same page,
//! whatever quality compressed them. The epoch is the site version the page
//! was rendered under (see `keys::epoch`). The plain page is not stored: it
//! is inflated from gzip for the rare client that accepts neither.

use crate::compress::{self, Compressed};
use crate::encoding::Encoding;
use actix_web::http::header::HeaderValue;
use bytes::Bytes;
use std::sync::OnceLock;

pub const HEADER_LEN: usize = 39;
/// The format's version: `F2` entries held the plain page and are misses now.
const VERSION: &[u8] = b"F3 ";
/// The plain and brotli lengths after the header.
const LENGTHS: usize = 8;
/// Where the epoch sits in the header (0-based, 16 bytes).
pub const EPOCH_AT: usize = 22;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Html,
    Atom,
    Xml,
}

impl ContentKind {
    fn code(self) -> char {
        match self {
            ContentKind::Html => 'h',
            ContentKind::Atom => 'a',
            ContentKind::Xml => 'x',
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        match c {
            b'h' => Some(ContentKind::Html),
            b'a' => Some(ContentKind::Atom),
            b'x' => Some(ContentKind::Xml),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ContentKind::Html => "text/html; charset=utf-8",
            ContentKind::Atom => "application/atom+xml; charset=utf-8",
            ContentKind::Xml => "application/xml; charset=utf-8",
        }
    }
}

/// A freshly rendered page.
pub struct Rendered {
    pub kind: ContentKind,
    pub body: String,
}

/// What an entry keeps of its page.
#[derive(Debug)]
enum Body {
    /// Brotli and gzip: what Redis and the copies in process hold, and the
    /// plain page once a client asked for identity (inflated once, kept in
    /// process only, so identity hits on a copy cost no inflating either).
    Compressed(Compressed, OnceLock<Bytes>),
    /// An admin's render, never stored: sent as it is (see `Entry::plain`).
    Plain(Bytes),
}

/// A page as stored and served.
#[derive(Debug)]
pub struct Entry {
    pub(super) header: String,
    pub kind: ContentKind,
    body: Body,
    /// The `ETag` of each encoding (br, gzip, identity), made once: every
    /// hit sends one.
    etag_values: [HeaderValue; 3],
}

impl Entry {
    /// A page to store: compressed now, on the render's path, so that no
    /// hit ever compresses.
    pub fn new(rendered: Rendered, epoch: u64) -> Self {
        let compressed = Compressed::new(rendered.body.as_bytes(), compress::BR_PAGES);
        Entry::with_header(
            header(&rendered, epoch),
            rendered.kind,
            Body::Compressed(compressed, OnceLock::new()),
        )
    }

    /// A render for one admin, never stored: sent plain, because it holds a
    /// CSRF token and compressing a secret beside what a request reflects
    /// would leak it through the size (BREACH).
    pub fn plain(rendered: Rendered) -> Self {
        let header = header(&rendered, 0);
        Entry::with_header(
            header,
            rendered.kind,
            Body::Plain(Bytes::from(rendered.body)),
        )
    }

    fn with_header(header: String, kind: ContentKind, body: Body) -> Self {
        let etag = |encoding: Encoding| {
            HeaderValue::from_str(&format!("\"{}{}\"", &header[3..19], encoding.etag_suffix()))
                .expect("a header holds hex digits only")
        };
        Entry {
            etag_values: [
                etag(Encoding::Br),
                etag(Encoding::Gzip),
                etag(Encoding::Identity),
            ],
            header,
            kind,
            body,
        }
    }

    /// `None` for anything folio did not write in this format (an older
    /// format included: it is a miss, and the render replaces it).
    pub fn parse(value: Vec<u8>) -> Option<Self> {
        if value.len() < HEADER_LEN + LENGTHS
            || !value.starts_with(VERSION)
            || value[HEADER_LEN - 1] != b'\n'
        {
            return None;
        }
        let kind = ContentKind::from_code(value[20])?;
        let header = std::str::from_utf8(&value[..HEADER_LEN]).ok()?;
        if !header[3..19].bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let header = header.to_string();
        let length = |at: usize| -> Option<usize> {
            let bytes: [u8; 4] = value.get(at..at + 4)?.try_into().ok()?;
            usize::try_from(u32::from_le_bytes(bytes)).ok()
        };
        let plain_len = length(HEADER_LEN)?;
        let br_len = length(HEADER_LEN + 4)?;
        let br_at = HEADER_LEN + LENGTHS;
        if value.len() - br_at < br_len {
            return None;
        }
        let value = Bytes::from(value);
        let compressed = Compressed {
            plain_len,
            br: value.slice(br_at..br_at + br_len),
            gzip: value.slice(br_at + br_len..),
        };
        Some(Entry::with_header(
            header,
            kind,
            Body::Compressed(compressed, OnceLock::new()),
        ))
    }

    /// The stored form: the header, the plain length and the brotli length
    /// (4 bytes each, little-endian), the brotli body, then the gzip body.
    pub fn encode(&self) -> Vec<u8> {
        let made;
        let compressed = match &self.body {
            Body::Compressed(c, _) => c,
            Body::Plain(plain) => {
                made = Compressed::new(plain, compress::BR_PAGES);
                &made
            }
        };
        let mut value = Vec::with_capacity(HEADER_LEN + LENGTHS + compressed.stored_len());
        value.extend_from_slice(self.header.as_bytes());
        for len in [compressed.plain_len, compressed.br.len()] {
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            value.extend_from_slice(&len.to_le_bytes());
        }
        value.extend_from_slice(&compressed.br);
        value.extend_from_slice(&compressed.gzip);
        value
    }

    pub fn header(&self) -> &str {
        &self.header
    }

    /// The hash of the plain page: with the encoding's suffix, the strong
    /// validator of what is sent.
    pub fn etag(&self) -> &str {
        &self.header[3..19]
    }

    /// The quoted `ETag` header of `encoding` (`"<hash>-br"`, `"<hash>-gz"`,
    /// `"<hash>"`).
    pub fn etag_value(&self, encoding: Encoding) -> &HeaderValue {
        match encoding {
            Encoding::Br => &self.etag_values[0],
            Encoding::Gzip => &self.etag_values[1],
            Encoding::Identity => &self.etag_values[2],
        }
    }

    /// Whether the entry is kept compressed (every page but an admin's).
    pub fn is_compressed(&self) -> bool {
        matches!(self.body, Body::Compressed(..))
    }

    /// The bytes to send for `encoding`; an admin's plain render is sent as
    /// identity whatever is asked.
    pub fn body(&self, encoding: Encoding) -> std::io::Result<Bytes> {
        match &self.body {
            Body::Plain(plain) => Ok(plain.clone()),
            Body::Compressed(c, derived) => match (encoding, derived.get()) {
                (Encoding::Identity, Some(plain)) => Ok(plain.clone()),
                (Encoding::Identity, None) => {
                    let plain = c.body(Encoding::Identity)?;
                    Ok(derived.get_or_init(|| plain).clone())
                }
                _ => c.body(encoding),
            },
        }
    }

    /// The length of the plain page.
    pub fn plain_len(&self) -> usize {
        match &self.body {
            Body::Compressed(c, _) => c.plain_len,
            Body::Plain(plain) => plain.len(),
        }
    }

    /// Bytes the entry holds as stored (brotli and gzip; plain for an
    /// admin's render).
    pub fn stored_len(&self) -> usize {
        match &self.body {
            Body::Compressed(c, _) => c.stored_len(),
            Body::Plain(plain) => plain.len(),
        }
    }
}

/// `F3 <hash of the plain page> <kind> <epoch>\n`.
fn header(rendered: &Rendered, epoch: u64) -> String {
    let hash = xxhash_rust::xxh3::xxh3_64(rendered.body.as_bytes());
    format!("F3 {hash:016x} {} {epoch:016x}\n", rendered.kind.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Rendered {
        Rendered {
            kind: ContentKind::Atom,
            body: "<feed/>".into(),
        }
    }

    #[test]
    fn an_entry_survives_its_encoding() {
        let entry = Entry::new(feed(), 42);
        assert_eq!(entry.header().len(), HEADER_LEN);
        assert_eq!(&entry.header()[EPOCH_AT..EPOCH_AT + 16], "000000000000002a");
        let back = Entry::parse(entry.encode()).unwrap();
        assert_eq!(back.kind, ContentKind::Atom);
        assert_eq!(back.header(), entry.header());
        assert_eq!(&back.body(Encoding::Identity).unwrap()[..], b"<feed/>");
        assert_eq!(
            back.body(Encoding::Br).unwrap(),
            entry.body(Encoding::Br).unwrap()
        );
        assert_eq!(back.plain_len(), 7);
        assert_eq!(back.etag(), entry.etag());
        assert!(Entry::parse(b"F1 0123456789abcdef h\n<old>".to_vec()).is_none());
    }

    #[test]
    fn the_older_plain_format_is_not_read() {
        let hash = xxhash_rust::xxh3::xxh3_64(b"<feed/>");
        let old = format!("F2 {hash:016x} a {:016x}\n<feed/>", 42);
        assert!(Entry::parse(old.into_bytes()).is_none());
    }

    #[test]
    fn a_truncated_entry_is_not_read() {
        let value = Entry::new(feed(), 1).encode();
        assert!(Entry::parse(value[..HEADER_LEN + 6].to_vec()).is_none());
        let mut lying = value.clone();
        lying[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Entry::parse(lying).is_none());
    }

    #[test]
    fn each_encoding_has_its_own_etag() {
        let entry = Entry::new(feed(), 1);
        let tags = [Encoding::Br, Encoding::Gzip, Encoding::Identity]
            .map(|e| entry.etag_value(e).to_str().unwrap().to_string());
        assert_eq!(tags[2], format!("\"{}\"", entry.etag()));
        assert_eq!(tags[0], format!("\"{}-br\"", entry.etag()));
        assert_eq!(tags[1], format!("\"{}-gz\"", entry.etag()));
    }

    #[test]
    fn an_admin_render_stays_plain() {
        let entry = Entry::plain(feed());
        assert!(!entry.is_compressed());
        assert_eq!(&entry.body(Encoding::Br).unwrap()[..], b"<feed/>");
    }
}
