//! Judging and preparing an upload, off the async workers.
//!
//! The bytes are judged by decoding, never by a name or a declared type:
//! the format is guessed from the first bytes, the header's size is checked
//! against `MAX_PIXELS` before a pixel is decoded (so a small file claiming
//! a huge picture costs nothing), `image::Limits` bound the decoder a second
//! time, and only a picture that decodes completely is kept. It is turned
//! upright by its EXIF orientation and encoded anew by `image`'s encoders,
//! which write no EXIF, XMP, IPTC, comments or thumbnails: every stored
//! byte is ours, whatever the upload carried.
//!
//! Formats stay as uploaded: JPEG at quality 82, PNG, GIF (its first frame:
//! an animation is kept still), WebP lossless (the only WebP `image` writes).

use super::{Format, MAX_PIXELS, VARIANT_WIDTHS};
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// JPEG quality of every stored JPEG.
const JPEG_QUALITY: u8 = 82;

/// Decodes at once, across all requests: each may hold a few hundred MB.
const CONCURRENT_DECODES: usize = 2;

static DECODES: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(CONCURRENT_DECODES));

/// Why an upload was refused (each a `422` with this message).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error(
        "This file is not a picture folio accepts: only JPEG, PNG, GIF and WebP are (SVG is not, since it can carry scripts)."
    )]
    NotAPicture,
    #[error("This picture is too large: {width} × {height} pixels, more than 50 megapixels.")]
    TooManyPixels { width: u32, height: u32 },
    #[error("This picture claims a size beyond what folio decodes (at most 50 megapixels).")]
    OverLimits,
    #[error("This picture is damaged or incomplete: {0}.")]
    Damaged(String),
    #[error("The upload is empty.")]
    Empty,
}

/// One stored file of an upload.
#[derive(Debug)]
pub struct File {
    /// `None` for the full-size picture, else the resized width.
    pub variant: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// An accepted upload, ready to store.
#[derive(Debug)]
pub struct Processed {
    pub format: Format,
    /// Of the upright picture.
    pub width: u32,
    pub height: u32,
    /// The full-size picture first, then the copies, widest first.
    pub files: Vec<File>,
}

/// `process` on the blocking pool, at most `CONCURRENT_DECODES` at once.
pub async fn process_bounded(bytes: Vec<u8>) -> Result<Processed, Refusal> {
    let _permit = DECODES
        .acquire()
        .await
        .map_err(|_| Refusal::Damaged("the server is shutting down".into()))?;
    tokio::task::spawn_blocking(move || process(&bytes))
        .await
        .unwrap_or_else(|e| Err(Refusal::Damaged(format!("processing failed ({e})"))))
}

/// Judges the bytes and makes every file to store.
pub fn process(bytes: &[u8]) -> Result<Processed, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let format = format_of(bytes)?;
    // The header alone: nothing is decoded yet.
    let (width, height) = reader(bytes, format, Limits::default())
        .into_dimensions()
        .map_err(refusal)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels { width, height });
    }
    if format == Format::Jpeg && !ends_with_eoi(bytes) {
        return Err(Refusal::Damaged("the JPEG data ends early".into()));
    }
    let mut decoder = reader(bytes, format, limits())
        .into_decoder()
        .map_err(refusal)?;
    let orientation = decoder.orientation().map_err(refusal)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    picture.apply_orientation(orientation);
    let (width, height) = (picture.width(), picture.height());

    let mut files = vec![File {
        variant: None,
        width,
        height,
        bytes: encode(&picture, format)?,
    }];
    // Each copy from the one before it: halving is cheaper than starting
    // over from the full size every time.
    let mut source = picture;
    for w in VARIANT_WIDTHS.into_iter().rev().filter(|w| *w < width) {
        let h = ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width))
            .max(1) as u32;
        let copy = source.thumbnail_exact(w, h);
        files.push(File {
            variant: Some(w),
            width: w,
            height: h,
            bytes: encode(&copy, format)?,
        });
        source = copy;
    }
    Ok(Processed {
        format,
        width,
        height,
        files,
    })
}

/// The format, from the first bytes only.
fn format_of(bytes: &[u8]) -> Result<Format, Refusal> {
    let guessed = image::guess_format(bytes).map_err(|_| Refusal::NotAPicture)?;
    match guessed {
        ImageFormat::Jpeg => Ok(Format::Jpeg),
        ImageFormat::Png => Ok(Format::Png),
        ImageFormat::Gif => Ok(Format::Gif),
        ImageFormat::WebP => Ok(Format::Webp),
        _ => Err(Refusal::NotAPicture),
    }
}

fn image_format(format: Format) -> ImageFormat {
    match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::Webp => ImageFormat::WebP,
    }
}

fn reader(bytes: &[u8], format: Format, limits: Limits) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    reader.limits(limits);
    reader
}

/// The decoder's own bound, behind the header check: no side beyond
/// 30,000 pixels, no allocation beyond 512 MiB (50 megapixels of 16-bit RGBA
/// is 400 MB).
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(30_000);
    limits.max_image_height = Some(30_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    limits
}

/// Whether a JPEG's last scan is followed by its end marker (`FF D9`).
/// The decoder fills a picture cut short with grey instead of failing, so a
/// truncated upload is caught here. Entropy-coded data never holds `FF D9`
/// (an `FF` in it is followed by `00` or a restart marker), and a thumbnail
/// inside the EXIF block comes before the main picture's scans.
fn ends_with_eoi(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    last_scan.is_some_and(|at| bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

fn refusal(e: ImageError) -> Refusal {
    match e {
        ImageError::Limits(_) => Refusal::OverLimits,
        ImageError::Unsupported(_) => Refusal::NotAPicture,
        ImageError::Decoding(e) => Refusal::Damaged(e.to_string()),
        ImageError::IoError(e) => Refusal::Damaged(e.to_string()),
        other => Refusal::Damaged(other.to_string()),
    }
}

/// The picture in its format, with nothing but pixels (and what the format
/// needs to show them).
fn encode(picture: &DynamicImage, format: Format) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let written = match format {
        Format::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            match picture {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
                    picture.write_with_encoder(encoder)
                }
                _ => DynamicImage::ImageRgb8(picture.to_rgb8()).write_with_encoder(encoder),
            }
        }
        Format::Png => match picture {
            DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
                DynamicImage::ImageRgba16(picture.to_rgba16())
                    .write_with_encoder(PngEncoder::new(&mut out))
            }
            _ => picture.write_with_encoder(PngEncoder::new(&mut out)),
        },
        Format::Gif => DynamicImage::ImageRgba8(picture.to_rgba8())
            .write_with_encoder(GifEncoder::new(&mut out)),
        Format::Webp => match picture {
            DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_) => {
                picture.write_with_encoder(WebPEncoder::new_lossless(&mut out))
            }
            _ => DynamicImage::ImageRgba8(picture.to_rgba8())
                .write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        },
    };
    written.map_err(|e| Refusal::Damaged(format!("it cannot be encoded again ({e})")))?;
    Ok(out)
}
