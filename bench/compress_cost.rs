//! What compressing costs a miss: folio compresses each page it stores
//! (brotli at the pages' quality, gzip 9) on the render's path, so this is
//! the time a miss adds. Prints "p50 p99" in milliseconds per page file.
//! Usage: compress_cost <page file>...

use folio::compress::{BR_PAGES, Compressed};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    for file in std::env::args().skip(1) {
        let plain = std::fs::read(&file)?;
        let mut times: Vec<f64> = (0..200)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(Compressed::new(&plain, BR_PAGES));
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("{file} {:.3} {:.3}", times[100], times[197]);
    }
    Ok(())
}
