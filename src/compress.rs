//! A body kept compressed: brotli and gzip of the same bytes, made once
//! (when a page is stored, when an asset is first served), so that answering
//! costs no compression work. Identity is derived from the gzip copy for the
//! rare client that accepts neither.

use crate::encoding::Encoding;
use bytes::Bytes;
use std::io::{self, Read, Write};

/// Brotli quality of pages, compressed on the render's path (a visitor's
/// miss, a re-warm): for folio's pages quality 5 is within a point of 9
/// (which costs 20× the time) and a few of 11 (100×).
pub const BR_PAGES: u32 = 5;
/// Brotli quality of what is compressed once per process (static assets).
pub const BR_BEST: u32 = 11;
const GZIP_LEVEL: u32 = 9;
/// The largest brotli window (4 MiB).
const BR_MAX_WINDOW: i32 = 22;

/// Both compressed forms of one body.
#[derive(Debug, Clone)]
pub struct Compressed {
    /// The length of the plain body (the `Content-Length` of identity).
    pub plain_len: usize,
    pub br: Bytes,
    pub gzip: Bytes,
}

impl Compressed {
    /// Compresses `plain` with brotli at `br_quality` and gzip at level 9.
    pub fn new(plain: &[u8], br_quality: u32) -> Self {
        Compressed {
            plain_len: plain.len(),
            br: Bytes::from(brotli(plain, br_quality)),
            gzip: Bytes::from(gzip(plain)),
        }
    }

    /// The bytes to send for `encoding`; identity is inflated from gzip.
    pub fn body(&self, encoding: Encoding) -> io::Result<Bytes> {
        match encoding {
            Encoding::Br => Ok(self.br.clone()),
            Encoding::Gzip => Ok(self.gzip.clone()),
            Encoding::Identity => self.plain().map(Bytes::from),
        }
    }

    /// The plain body, read no further than its recorded length (stored bytes
    /// that claim more are refused rather than inflated without bound).
    pub fn plain(&self) -> io::Result<Vec<u8>> {
        let mut plain = Vec::with_capacity(self.plain_len);
        flate2::read::GzDecoder::new(&self.gzip[..])
            .take(self.plain_len as u64 + 1)
            .read_to_end(&mut plain)?;
        if plain.len() != self.plain_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the gzip body does not match its recorded length",
            ));
        }
        Ok(plain)
    }

    /// Bytes kept: both compressed forms.
    pub fn stored_len(&self) -> usize {
        self.br.len() + self.gzip.len()
    }
}

fn brotli(plain: &[u8], quality: u32) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: quality as i32,
        lgwin: window(plain.len()),
        size_hint: plain.len(),
        mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(plain.len() / 4 + 64);
    let mut input = plain;
    // Writing into a Vec from a slice cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

/// The smallest window that holds the whole body (from 1 KiB to 4 MiB):
/// a larger one compresses no better, and the encoder allocates and clears
/// tables for it on every call.
fn window(len: usize) -> i32 {
    let bits = usize::BITS - len.max(1).leading_zeros();
    (bits as i32 + 1).clamp(10, BR_MAX_WINDOW)
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let out = Vec::with_capacity(plain.len() / 3 + 64);
    let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(plain);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbrotli(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::Decompressor::new(bytes, 4096)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn every_form_gives_back_the_plain_body() {
        let plain = "<p>Hello, compressed world</p>\n".repeat(200);
        for quality in [BR_PAGES, BR_BEST] {
            let c = Compressed::new(plain.as_bytes(), quality);
            assert_eq!(c.plain_len, plain.len());
            assert_eq!(unbrotli(&c.br), plain.as_bytes());
            assert_eq!(&c.body(Encoding::Identity).unwrap()[..], plain.as_bytes());
            assert!(c.stored_len() < plain.len() / 10);
        }
        let empty = Compressed::new(b"", BR_PAGES);
        assert_eq!(&empty.body(Encoding::Identity).unwrap()[..], b"");
        assert_eq!(unbrotli(&empty.br), b"");
    }

    #[test]
    fn a_body_that_lies_about_its_length_is_refused() {
        let mut c = Compressed::new(&[b'a'; 10_000], BR_PAGES);
        c.plain_len = 100;
        assert!(c.plain().is_err());
        c.plain_len = 20_000;
        assert!(c.plain().is_err());
        c.gzip = Bytes::from_static(b"not gzip");
        assert!(c.plain().is_err());
    }
}
