//! The stored form of a page: a fixed-size header, then the body.
//!
//! `F2 <16 hex: body hash> <kind> <16 hex: epoch>\n`. The hash is the ETag
//! and lets a lookup compare a copy in process by its header alone; the
//! epoch is the site version the page was rendered under (see `keys::epoch`).

use actix_web::http::header::HeaderValue;
use bytes::Bytes;

pub const HEADER_LEN: usize = 39;
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

/// A page as stored and served.
#[derive(Debug)]
pub struct Entry {
    pub(super) header: String,
    pub kind: ContentKind,
    pub body: Bytes,
    /// The `ETag` header, made once: every hit sends it.
    etag_value: HeaderValue,
}

impl Entry {
    pub fn new(rendered: Rendered, epoch: u64) -> Self {
        let hash = xxhash_rust::xxh3::xxh3_64(rendered.body.as_bytes());
        Entry::with_header(
            format!("F2 {hash:016x} {} {epoch:016x}\n", rendered.kind.code()),
            rendered.kind,
            Bytes::from(rendered.body),
        )
    }

    fn with_header(header: String, kind: ContentKind, body: Bytes) -> Self {
        let etag_value = HeaderValue::from_str(&format!("\"{}\"", &header[3..19]))
            .expect("a header holds hex digits only");
        Entry {
            header,
            kind,
            body,
            etag_value,
        }
    }

    /// `None` for anything folio did not write in this format.
    pub fn parse(value: Vec<u8>) -> Option<Self> {
        if value.len() < HEADER_LEN || !value.starts_with(b"F2 ") || value[HEADER_LEN - 1] != b'\n'
        {
            return None;
        }
        let kind = ContentKind::from_code(value[20])?;
        let header = std::str::from_utf8(&value[..HEADER_LEN]).ok()?;
        if !header[3..19].bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let header = header.to_string();
        Some(Entry::with_header(
            header,
            kind,
            Bytes::from(value).slice(HEADER_LEN..),
        ))
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut value = Vec::with_capacity(HEADER_LEN + self.body.len());
        value.extend_from_slice(self.header.as_bytes());
        value.extend_from_slice(&self.body);
        value
    }

    pub fn header(&self) -> &str {
        &self.header
    }

    /// A strong validator: the hash of the exact bytes served.
    pub fn etag(&self) -> &str {
        &self.header[3..19]
    }

    /// `etag` quoted, as the `ETag` header carries it.
    pub fn etag_value(&self) -> &HeaderValue {
        &self.etag_value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_its_encoding() {
        let entry = Entry::new(
            Rendered {
                kind: ContentKind::Atom,
                body: "<feed/>".into(),
            },
            42,
        );
        assert_eq!(entry.header().len(), HEADER_LEN);
        assert_eq!(&entry.header()[EPOCH_AT..EPOCH_AT + 16], "000000000000002a");
        let back = Entry::parse(entry.encode()).unwrap();
        assert_eq!(back.kind, ContentKind::Atom);
        assert_eq!(&back.body[..], b"<feed/>");
        assert_eq!(back.etag(), entry.etag());
        assert!(Entry::parse(b"F1 0123456789abcdef h\n<old>".to_vec()).is_none());
    }
}
