//! Content negotiation on `Accept-Encoding` (RFC 9110, 12.5.3): which of the
//! encodings folio keeps a page in the client gets. Pure, and run on every
//! hit, so it parses the header in place without allocating.

/// An encoding folio can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
    Identity,
}

impl Encoding {
    /// The `Content-Encoding` value; `None` for identity, which sends none.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Br => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    /// What the `ETag` of this encoding appends to the page's hash, so that
    /// each encoding of one page has its own validator.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Br => "-br",
            Encoding::Gzip => "-gz",
            Encoding::Identity => "",
        }
    }
}

/// q-values in thousandths: `q=0.5` is 500.
type Q = u16;

/// The encoding to send for this `Accept-Encoding` value (`None`: no header).
///
/// The acceptable encoding with the highest q-value wins; on a tie `br`
/// comes before `gzip`, and both before identity. `q=0` refuses; `*` stands
/// for every coding the header does not name. A missing header asks for
/// identity. Identity is acceptable unless refused (`identity;q=0`, or
/// `*;q=0` without `identity` listed); when it is not listed it only wins if
/// no compressed encoding is acceptable. `None` when the header refuses
/// everything folio has (the caller decides what to send then).
pub fn negotiate(accept_encoding: Option<&[u8]>) -> Option<Encoding> {
    let Some(header) = accept_encoding else {
        return Some(Encoding::Identity);
    };
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for item in header.split(|&b| b == b',') {
        let mut parts = item.split(|&b| b == b';');
        let coding = trim(parts.next().unwrap_or_default());
        if coding.is_empty() {
            continue;
        }
        let mut q = Some(1000);
        for param in parts {
            let param = trim(param);
            if let Some(value) = param
                .strip_prefix(b"q=")
                .or_else(|| param.strip_prefix(b"Q="))
            {
                q = parse_q(trim(value));
            }
        }
        // A malformed q-value makes the item count as not sent.
        let Some(q) = q else { continue };
        let slot = if coding.eq_ignore_ascii_case(b"br") {
            &mut br
        } else if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case(b"identity") {
            &mut identity
        } else if coding == b"*" {
            &mut star
        } else {
            continue;
        };
        // Listed twice: the higher value counts.
        *slot = Some(slot.map_or(q, |old: Q| old.max(q)));
    }
    let br = br.or(star).unwrap_or(0);
    let gzip = gzip.or(star).unwrap_or(0);
    let best = if gzip > br { gzip } else { br };
    if best > 0 && identity.or(star).is_none_or(|id| best >= id) {
        return Some(if br >= gzip {
            Encoding::Br
        } else {
            Encoding::Gzip
        });
    }
    match identity.or(star) {
        Some(0) => None,
        _ => Some(Encoding::Identity),
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn parse_q(value: &[u8]) -> Option<Q> {
    let (whole, fraction) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Q = 0;
    for i in 0..3 {
        thousandths = thousandths * 10 + fraction.get(i).map_or(0, |d| Q::from(d - b'0'));
    }
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Encoding::{Br, Gzip, Identity};
    use super::*;

    fn pick(header: &str) -> Option<Encoding> {
        negotiate(Some(header.as_bytes()))
    }

    #[test]
    fn no_header_means_identity() {
        assert_eq!(negotiate(None), Some(Identity));
        assert_eq!(pick(""), Some(Identity));
    }

    #[test]
    fn browsers_get_brotli() {
        assert_eq!(pick("gzip, deflate, br, zstd"), Some(Br));
        assert_eq!(pick("br, gzip"), Some(Br));
        assert_eq!(pick("gzip, br"), Some(Br));
        assert_eq!(pick("BR"), Some(Br));
        assert_eq!(pick("gzip"), Some(Gzip));
        assert_eq!(pick("x-gzip"), Some(Gzip));
        assert_eq!(pick("deflate, zstd"), Some(Identity));
    }

    #[test]
    fn the_highest_q_value_wins() {
        assert_eq!(pick("br;q=0.5, gzip"), Some(Gzip));
        assert_eq!(pick("br;q=0.9, gzip;q=0.8"), Some(Br));
        assert_eq!(pick("br ; q=0.2 , gzip ; q=0.3"), Some(Gzip));
        assert_eq!(pick("br;q=1.0, gzip;q=1"), Some(Br));
        assert_eq!(pick("identity, gzip;q=0.5"), Some(Identity));
        assert_eq!(pick("identity;q=0.5, gzip;q=0.5"), Some(Gzip));
        // Unlisted identity does not outrank a coding the client asked for.
        assert_eq!(pick("gzip;q=0.1"), Some(Gzip));
    }

    #[test]
    fn q_zero_refuses() {
        assert_eq!(pick("br;q=0, gzip"), Some(Gzip));
        assert_eq!(pick("br;q=0, gzip;q=0"), Some(Identity));
        assert_eq!(pick("br;q=0.000"), Some(Identity));
        assert_eq!(pick("identity;q=0"), None);
        assert_eq!(pick("identity;q=0, gzip"), Some(Gzip));
    }

    #[test]
    fn the_star_covers_what_is_not_listed() {
        assert_eq!(pick("*"), Some(Br));
        assert_eq!(pick("*;q=0.5, gzip"), Some(Gzip));
        assert_eq!(pick("br;q=0, *"), Some(Gzip));
        assert_eq!(pick("*;q=0"), None);
        assert_eq!(pick("*;q=0, identity"), Some(Identity));
        assert_eq!(pick("*;q=0, gzip;q=0.2"), Some(Gzip));
    }

    #[test]
    fn malformed_values_never_fail() {
        assert_eq!(pick("br;q=2, gzip"), Some(Gzip));
        assert_eq!(pick("br;q=abc"), Some(Identity));
        assert_eq!(pick("br;q=0.0001, gzip"), Some(Gzip));
        assert_eq!(pick(",,;;, ;q=1"), Some(Identity));
        assert_eq!(pick("gzip;level=9"), Some(Gzip));
        assert_eq!(negotiate(Some(&[0xff, b',', b'b', b'r'])), Some(Br));
    }

    #[test]
    fn q_values_parse_to_thousandths() {
        assert_eq!(parse_q(b"0"), Some(0));
        assert_eq!(parse_q(b"0.5"), Some(500));
        assert_eq!(parse_q(b"0.125"), Some(125));
        assert_eq!(parse_q(b"1.000"), Some(1000));
        assert_eq!(parse_q(b"1.5"), None);
        assert_eq!(parse_q(b""), None);
        assert_eq!(parse_q(b"0."), Some(0));
    }
}
