//! Writes photo-like JPEGs for bench/media: `media_fixture <dir> <count>
//! [width height]`, each different (uploads are content-addressed, so a
//! repeat would not be processed again).

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: media_fixture <dir> <count> [width height]");
    let count: u32 = args.next().and_then(|c| c.parse().ok()).unwrap_or(1);
    let width: u32 = args.next().and_then(|w| w.parse().ok()).unwrap_or(4000);
    let height: u32 = args.next().and_then(|h| h.parse().ok()).unwrap_or(3000);
    for n in 0..count {
        // Smooth gradients plus fine noise: compresses like a photo does.
        let img = RgbImage::from_fn(width, height, |x, y| {
            let noise = xxhash_rust::xxh3::xxh3_64(
                &[x.to_le_bytes(), y.to_le_bytes(), n.to_le_bytes()].concat(),
            );
            let grain = (noise & 0x1F) as u32;
            Rgb([
                ((x * 200 / width) + grain) as u8,
                ((y * 200 / height) + grain) as u8,
                (((x + y + n * 97) % 256) / 2 + grain) as u8,
            ])
        });
        let path = format!("{dir}/photo-{n}.jpg");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("writable dir"));
        img.write_with_encoder(JpegEncoder::new_with_quality(&mut file, 90))
            .expect("encodes");
    }
}
