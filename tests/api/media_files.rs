//! Pictures made in the tests with real encoders, metadata spliced in by
//! hand (EXIF with GPS and an orientation, XMP, a JPEG comment, PNG text
//! chunks), and the multipart uploads that send them.

use crate::helpers::Admin;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::Response;
use std::io::Cursor;

/// Strings planted in metadata; none may appear in any served byte.
pub const SECRETS: [&str; 6] = [
    "SECRETCAM",
    "GPSSECRET",
    "COMMENTSECRET",
    "PNGSECRET",
    "PNGXMPSECRET",
    "Exif",
];

/// A picture whose pixels depend on `seed`, so two seeds are two files.
pub fn picture(width: u32, height: u32, seed: u8) -> DynamicImage {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x % 251) as u8 ^ seed,
            (y % 241) as u8,
            ((x + y) % 239) as u8,
        ])
    });
    DynamicImage::ImageRgb8(img)
}

pub fn encode(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    encode(&picture(width, height, seed), ImageFormat::Jpeg)
}

pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    encode(&picture(width, height, seed), ImageFormat::Png)
}

/// A JPEG with an EXIF block (camera make, `orientation`, GPS position),
/// an XMP block and a comment, right after its start marker.
pub fn jpeg_with_metadata(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = jpeg(width, height, 7);
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    // IFD0: Make, Orientation, the GPS IFD's offset.
    tiff.extend(3u16.to_le_bytes());
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend(value);
    };
    entry(&mut tiff, 0x010F, 2, 10, 50u32.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut tiff, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut tiff, 0x8825, 4, 1, 60u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    assert_eq!(tiff.len(), 50);
    tiff.extend(b"SECRETCAM\0");
    // GPS IFD: latitude N 48° 51' 29.26".
    tiff.extend(2u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, 5, 3, 90u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    assert_eq!(tiff.len(), 90);
    for (n, d) in [(48u32, 1u32), (51, 1), (2926, 100)] {
        tiff.extend(n.to_le_bytes());
        tiff.extend(d.to_le_bytes());
    }
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff);
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>GPSSECRET</exif:GPSLatitude></x:xmpmeta>".to_vec();
    let mut out = plain[..2].to_vec();
    for (marker, payload) in [
        (0xE1u8, exif),
        (0xE1, xmp),
        (0xFE, b"COMMENTSECRET".to_vec()),
    ] {
        out.extend([0xFF, marker]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
    }
    out.extend(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend(data);
    chunk.extend(&body);
    chunk.extend(crc32(&body).to_be_bytes());
    chunk
}

/// A PNG with a tEXt and an iTXt (XMP) chunk after its header.
pub fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    let plain = png(width, height, 3);
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = plain[..ihdr_end].to_vec();
    out.extend(png_chunk(b"tEXt", b"Comment\0PNGSECRET"));
    out.extend(png_chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>PNGXMPSECRET</x:xmpmeta>",
    ));
    out.extend(&plain[ihdr_end..]);
    out
}

/// A valid tiny PNG whose header claims `width` × `height` pixels.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01"));
    out.extend(png_chunk(b"IEND", b""));
    out
}

/// A multipart body: (field name, file name, bytes) each.
pub fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----folio-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file_name, bytes) in fields {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a file as the editor's script does (`Accept: application/json`).
pub async fn upload(admin: &Admin, file_name: &str, bytes: &[u8], alt: &str) -> Response {
    let (content_type, body) = multipart(&[
        ("csrf_token", None, admin.csrf.as_bytes()),
        ("alt", None, alt.as_bytes()),
        ("file", Some(file_name), bytes),
    ]);
    admin
        .client
        .post(admin.url("/admin/media"))
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads and returns the stored picture's URL (`/media/…`).
pub async fn uploaded(admin: &Admin, file_name: &str, bytes: &[u8], alt: &str) -> String {
    let r = upload(admin, file_name, bytes, alt).await;
    assert_eq!(r.status().as_u16(), 201, "upload answers 201");
    let json: serde_json::Value = r.json().await.unwrap();
    let url = json["url"].as_str().unwrap().to_string();
    assert_eq!(json["markdown"], format!("![]({url})"));
    url
}

/// Every `/media/…` file the library lists for the upload at `url`.
pub async fn files_of(admin: &Admin, url: &str) -> Vec<String> {
    let stem = url
        .trim_start_matches("/media/")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let page = admin.get("/admin/media").await.text().await.unwrap();
    let mut files: Vec<String> = page
        .match_indices("href=\"/media/")
        .map(|(i, _)| {
            let rest = &page[i + "href=\"".len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .filter(|f| f.contains(&stem))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// How many uploads the database holds.
pub async fn upload_count(db: &folio::db::Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM media")
        .fetch_one(db)
        .await
        .unwrap()
}
