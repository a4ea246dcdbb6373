//! Hand-written SVG line plots of accuracy against optimizer steps (log-scale
//! x axis). No plotting dependency: a few hundred bytes of markup per series,
//! with each series thinned to at most a few points per pixel column so that
//! a 20 000-epoch curve stays small.

use crate::config::OptKind;
use crate::formatting::{describe_optimizer, num};
use crate::run_result::{GROK_THRESHOLD, RunResult};
use std::fmt::Write as _;

const W: f64 = 960.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = W - 270.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = H - 56.0;

/// One polyline.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// CSS colour.
    pub color: &'static str,
    /// Dashed (train accuracy) or solid (test accuracy).
    pub dashed: bool,
    /// `(step, accuracy)` points, steps > 0 and increasing.
    pub points: Vec<(f64, f64)>,
}

/// A vertical marker line.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Step.
    pub x: f64,
    /// Text next to the line.
    pub label: String,
    /// CSS colour.
    pub color: &'static str,
}

/// A plot: title lines, series and markers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plot {
    /// Title.
    pub title: String,
    /// Second line under the title.
    pub subtitle: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Vertical markers.
    pub markers: Vec<Marker>,
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The colour of an optimizer in overlay plots.
#[must_use]
pub const fn color_of(o: OptKind) -> &'static str {
    match o {
        OptKind::Sgd => "#555555",
        OptKind::AdamW => "#9467bd",
        OptKind::Grokfast => "#2ca02c",
        OptKind::Egd => "#d62728",
        OptKind::EgdNs => "#ff7f0e",
        OptKind::EgdRsvd => "#e377c2",
        OptKind::ColNorm => "#1f77b4",
    }
}

/// Keeps, per half-pixel column, the first, lowest, highest and last point.
fn thin(points: &[(f64, f64)], px: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len().min(4096));
    let mut i = 0;
    while i < points.len() {
        let col = (px(points[i].0) * 2.0).floor();
        let mut j = i;
        while j + 1 < points.len() && (px(points[j + 1].0) * 2.0).floor() == col {
            j += 1;
        }
        let group = &points[i..=j];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let lo = group
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
                .map_or(0, |(k, _)| k);
            let hi = group
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
                .map_or(0, |(k, _)| k);
            let mut keep = [0, lo, hi, group.len() - 1];
            keep.sort_unstable();
            let mut last = usize::MAX;
            for k in keep {
                if k != last {
                    out.push(group[k]);
                    last = k;
                }
            }
        }
        i = j + 1;
    }
    out
}

/// Renders `plot` as an SVG document.
#[must_use]
pub fn render(plot: &Plot) -> String {
    let xs = plot
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(plot.markers.iter().map(|m| m.x))
        .filter(|&x| x > 0.0 && x.is_finite());
    let (mut xmin, mut xmax) = (f64::INFINITY, 0.0f64);
    for x in xs {
        xmin = xmin.min(x);
        xmax = xmax.max(x);
    }
    if !xmin.is_finite() {
        (xmin, xmax) = (1.0, 10.0);
    }
    let lo = xmin.log10().floor();
    let mut hi = xmax.log10().ceil();
    if hi <= lo {
        hi = lo + 1.0;
    }
    let px = |x: f64| LEFT + (x.max(1e-300).log10() - lo) / (hi - lo) * (RIGHT - LEFT);
    let py = |y: f64| BOTTOM - y.clamp(0.0, 1.0) * (BOTTOM - TOP);

    let mut s = String::with_capacity(64 * 1024);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        esc(&plot.title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="44" font-size="12" fill="#444">{}</text>"##,
        esc(&plot.subtitle)
    );
    // Grid: y every 0.1, labelled every 0.2; x decades with minor ticks.
    for i in 0..=10 {
        let y = py(f64::from(i) / 10.0);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#e4e4e4"/>"##
        );
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                num(f64::from(i) / 10.0, 1)
            );
        }
    }
    let (d0, d1) = (lo as i32, hi as i32);
    for d in d0..=d1 {
        let base = 10f64.powi(d);
        let x = px(base);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#cccccc"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
            BOTTOM + 16.0,
            num(base, 0)
        );
        if d < d1 {
            for m in 2..10 {
                let x = px(base * f64::from(m));
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#f2f2f2"/>"##
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    let yg = py(GROK_THRESHOLD);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{yg:.1}" x2="{RIGHT}" y2="{yg:.1}" stroke="#999" stroke-dasharray="2,3"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#777">0.95</text>"##,
        RIGHT + 3.0,
        yg + 3.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">optimizer steps (log scale)</text>"#,
        f64::midpoint(LEFT, RIGHT),
        H - 16.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" font-size="12" text-anchor="middle">accuracy</text>"#,
        f64::midpoint(TOP, BOTTOM)
    );
    for (i, m) in plot.markers.iter().enumerate() {
        let x = px(m.x);
        let _ = writeln!(
            s,
            r#"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="{}" stroke-dasharray="1,3"/>"#,
            m.color
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" fill="{}">{}</text>"#,
            x + 3.0,
            BOTTOM - 8.0 - 12.0 * i as f64,
            m.color,
            esc(&m.label)
        );
    }
    for (i, ser) in plot.series.iter().enumerate() {
        let pts = thin(&ser.points, px);
        let mut d = String::with_capacity(pts.len() * 14);
        for (x, y) in pts {
            let _ = write!(d, "{:.1},{:.1} ", px(x), py(y));
        }
        let dash = if ser.dashed {
            r#" stroke-dasharray="6,4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.6"{dash} points="{}"/>"#,
            ser.color,
            d.trim_end()
        );
        let ly = TOP + 8.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/>"#,
            RIGHT + 30.0,
            RIGHT + 56.0,
            ser.color
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            RIGHT + 60.0,
            ly + 4.0,
            esc(&ser.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// `(step, accuracy)` points of a run.
fn points(r: &RunResult, test: bool) -> Vec<(f64, f64)> {
    r.curve
        .iter()
        .map(|e| (e.step as f64, if test { e.test_acc } else { e.train_acc }))
        .collect()
}

/// The grok marker of a run, if it grokked.
fn grok_marker(r: &RunResult, color: &'static str, prefix: &str) -> Option<Marker> {
    Some(Marker {
        x: r.grok_step()? as f64,
        label: format!(
            "{prefix}grok: epoch {} (step {})",
            r.grok_epoch()?,
            r.grok_step()?
        ),
        color,
    })
}

/// The plot of one run: test (solid) and train (dashed) accuracy.
#[must_use]
pub fn run_plot(r: &RunResult) -> String {
    let c = &r.config;
    let plot = Plot {
        title: format!("{}: {}, seed {}", c.task_label(), c.optimizer, c.seed),
        subtitle: format!(
            "{}, batch {}, width {}, {} steps/epoch; {} epochs run",
            describe_optimizer(c),
            c.batch,
            c.width,
            r.steps_per_epoch,
            r.epochs_run()
        ),
        series: vec![
            Series {
                label: "test accuracy".into(),
                color: "#1f77b4",
                dashed: false,
                points: points(r, true),
            },
            Series {
                label: "train accuracy".into(),
                color: "#ff7f0e",
                dashed: true,
                points: points(r, false),
            },
        ],
        markers: grok_marker(r, "#d62728", "").into_iter().collect(),
    };
    render(&plot)
}

/// One plot of several runs (one per optimizer): test accuracy solid, train
/// accuracy dashed, in the optimizer's colour. `runs` pairs a legend label
/// with the run to draw.
#[must_use]
pub fn overlay_plot(title: &str, subtitle: &str, runs: &[(String, &RunResult)]) -> String {
    let mut plot = Plot {
        title: title.into(),
        subtitle: subtitle.into(),
        ..Plot::default()
    };
    for (label, r) in runs {
        let color = color_of(r.config.optimizer);
        plot.series.push(Series {
            label: format!("{label} test"),
            color,
            dashed: false,
            points: points(r, true),
        });
        plot.series.push(Series {
            label: format!("{label} train"),
            color,
            dashed: true,
            points: points(r, false),
        });
        plot.markers
            .extend(grok_marker(r, color, &format!("{}: ", r.config.optimizer)));
    }
    render(&plot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_extremes() {
        let pts: Vec<(f64, f64)> = (1..=10_000)
            .map(|i| (f64::from(i), if i == 9000 { 1.0 } else { 0.5 }))
            .collect();
        let px = |x: f64| x.log10() * 100.0;
        let t = thin(&pts, px);
        assert!(t.len() < 2000, "{}", t.len());
        assert!(t.contains(&(9000.0, 1.0)));
        assert_eq!(t.first(), pts.first());
        assert_eq!(t.last(), pts.last());
    }

    #[test]
    fn renders_valid_looking_svg() {
        let plot = Plot {
            title: "a < b & c".into(),
            subtitle: String::new(),
            series: vec![Series {
                label: "x".into(),
                color: "red",
                dashed: true,
                points: vec![(15.0, 0.1), (30.0, 0.5), (45.0, 0.99)],
            }],
            markers: vec![Marker {
                x: 30.0,
                label: "m".into(),
                color: "blue",
            }],
        };
        let s = render(&plot);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("a &lt; b &amp; c"));
        assert!(s.contains("<polyline"));
        assert_eq!(s.matches('<').count(), s.matches('>').count());
    }
}
