//! The debug panel's chart: hits and misses per minute as inline SVG.

use crate::cache::stats::MinutePoint;
use std::fmt::Write;

/// Hits and misses per minute over the last hour as an inline SVG: stacked
/// bars, hits at the bottom. Drawn on the server, so the panel needs no script.
pub fn hit_chart(points: &[MinutePoint]) -> String {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let max = points
        .iter()
        .map(|p| p.hits + p.misses)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = W / points.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="Hits and misses per minute, last hour" xmlns="http://www.w3.org/2000/svg">"#,
        h = H + 18.0
    );
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{H}" x2="{W}" y2="{H}" class="chart__axis"/>"#
    );
    for (i, p) in points.iter().enumerate() {
        let x = i as f64 * bar + 1.0;
        let hit_h = p.hits as f64 / max * H;
        let miss_h = p.misses as f64 / max * H;
        let w = (bar - 2.0).max(1.0);
        let _ = write!(
            svg,
            r#"<g><title>{} hits, {} misses</title><rect class="chart__hits" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{hit_h:.1}"/><rect class="chart__misses" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{miss_h:.1}"/></g>"#,
            p.hits,
            p.misses,
            H - hit_h,
            H - hit_h - miss_h
        );
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{y}" class="chart__label">60 min ago</text><text x="{W}" y="{y}" text-anchor="end" class="chart__label">now · peak {max} req/min</text></svg>"#,
        y = H + 14.0,
        max = max as u64
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_pair_per_minute_scaled_to_the_peak() {
        let points: Vec<MinutePoint> = (0..3)
            .map(|i| MinutePoint {
                minute: i * 60,
                hits: i as u64 * 10,
                misses: 5,
            })
            .collect();
        let svg = hit_chart(&points);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"chart__hits\"").count(), 3);
        assert!(svg.contains("peak 25 req/min"));
    }
}
