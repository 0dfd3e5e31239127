//! Charts drawn as vector graphics: grouped bars, lines, and a heatmap with a colour scale.
//!
//! Values that are not finite (NaN, infinities) count as missing: no bar, a gap in the line, a
//! grey "no data" cell. A chart without any value draws its frame and says "No data".

use crate::page::{BLACK, BODY_H, CONTENT_W, Flow, GRID, MARGIN_X, MUTED, Rgb};
use crate::text::{self, Face};
use crate::{PaperError, Series};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bar,
    Line,
}

/// Series colours (Tableau 10): distinct on screen and on paper, and mostly so for colour-blind
/// readers. Series beyond ten reuse them in order.
pub(crate) const PALETTE: [Rgb; 10] = [
    Rgb(0.306, 0.475, 0.655),
    Rgb(0.949, 0.557, 0.169),
    Rgb(0.882, 0.341, 0.349),
    Rgb(0.463, 0.718, 0.698),
    Rgb(0.349, 0.631, 0.310),
    Rgb(0.929, 0.788, 0.282),
    Rgb(0.690, 0.478, 0.631),
    Rgb(1.000, 0.616, 0.655),
    Rgb(0.612, 0.459, 0.373),
    Rgb(0.729, 0.690, 0.675),
];

fn series_color(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

const TITLE_SIZE: f32 = 11.0;
const LABEL_SIZE: f32 = 7.5;
const PLOT_H: f32 = 150.0;
const LEGEND_LEADING: f32 = 12.0;
const MAX_LEGEND_LINES: usize = 20;
const NO_DATA: Rgb = Rgb(0.92, 0.92, 0.92);

pub(crate) fn validate_series(
    kind: &str,
    title: &str,
    labels: &[String],
    series: &[Series],
) -> Result<(), PaperError> {
    for s in series {
        if s.values.len() != labels.len() {
            return Err(PaperError::new(format!(
                "{kind} '{title}': series '{}' has {} values but there are {} labels",
                s.name,
                s.values.len(),
                labels.len()
            )));
        }
    }
    value_axis(series).map(|_| ()).ok_or_else(|| {
        PaperError::new(format!(
            "{kind} '{title}': the values are too far apart to draw on one axis"
        ))
    })
}

pub(crate) fn validate_heatmap(
    title: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<f64>],
) -> Result<(), PaperError> {
    if values.len() != rows.len() {
        return Err(PaperError::new(format!(
            "heatmap '{title}': {} rows of values but {} row labels",
            values.len(),
            rows.len()
        )));
    }
    for (row, label) in values.iter().zip(rows) {
        if row.len() != columns.len() {
            return Err(PaperError::new(format!(
                "heatmap '{title}': row '{label}' has {} values but there are {} columns",
                row.len(),
                columns.len()
            )));
        }
    }
    Ok(())
}

/// A value axis with round tick steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

impl Axis {
    /// An axis over `lo..=hi` that always includes zero, with about five round steps.
    /// `None` when the range cannot be represented (values near `f64::MAX` of both signs).
    pub(crate) fn new(lo: f64, hi: f64) -> Option<Axis> {
        let (mut lo, mut hi) = (lo.min(0.0), hi.max(0.0));
        if hi <= lo {
            (lo, hi) = (0.0, 1.0);
        }
        let span = hi - lo;
        let raw = span / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let normalized = raw / magnitude;
        let nice = if normalized <= 1.0 {
            1.0
        } else if normalized <= 2.0 {
            2.0
        } else if normalized <= 2.5 {
            2.5
        } else if normalized <= 5.0 {
            5.0
        } else {
            10.0
        };
        let step = nice * magnitude;
        let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
        let ok = [step, lo, hi, hi - lo].iter().all(|v| v.is_finite()) && step > 0.0 && hi > lo;
        ok.then_some(Axis { lo, hi, step })
    }

    pub(crate) fn ticks(&self) -> Vec<f64> {
        let count = ((self.hi - self.lo) / self.step).round().clamp(1.0, 50.0) as usize;
        (0..=count)
            .map(|i| {
                let v = self.lo + i as f64 * self.step;
                // No "-0" labels from rounding.
                if v.abs() < self.step * 1e-9 { 0.0 } else { v }
            })
            .collect()
    }

    /// Where `v` lies between the ends of the axis, from 0 to 1.
    fn fraction(&self, v: f64) -> f32 {
        ((v - self.lo) / (self.hi - self.lo)) as f32
    }

    /// A tick label with as many decimals as the step needs and no more.
    pub(crate) fn label(&self, v: f64) -> String {
        let decimals = (0..=6)
            .find(|&d| {
                let scaled = self.step * 10f64.powi(d);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(6);
        format!("{:.*}", usize::try_from(decimals).unwrap_or(6), v)
    }
}

fn value_axis(series: &[Series]) -> Option<Axis> {
    let finite = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    Axis::new(lo, hi)
}

/// How many decimals values like these need to read well side by side: none for whole numbers
/// or values in the hundreds and up, one from 1 on, two below.
pub(crate) fn decimals_for(values: &[f64]) -> usize {
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if values.iter().all(|v| v.fract() == 0.0) || largest >= 100.0 {
        0
    } else if largest >= 1.0 {
        1
    } else {
        2
    }
}

/// Legend entries laid out in lines: (series index, name, x offset from the left margin).
type LegendLine = Vec<(usize, Vec<u8>, f32)>;

fn legend_lines(series: &[Series]) -> Vec<LegendLine> {
    const SWATCH: f32 = 8.0;
    let mut lines: Vec<LegendLine> = Vec::new();
    let mut line: LegendLine = Vec::new();
    let mut x = 0.0;
    for (i, s) in series.iter().enumerate() {
        let name = text::truncate(&text::encode(&s.name), Face::Regular, LABEL_SIZE, 160.0);
        let w = SWATCH + 3.0 + text::width(&name, Face::Regular, LABEL_SIZE);
        if !line.is_empty() && x + w > CONTENT_W {
            lines.push(std::mem::take(&mut line));
            x = 0.0;
        }
        line.push((i, name, x));
        x += w + 12.0;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.truncate(MAX_LEGEND_LINES);
    lines
}

/// Draws the title of a chart and returns the y below it.
fn chart_title(flow: &mut Flow, top: f32, title: &str) -> f32 {
    let title = text::truncate(&text::encode(title), Face::Bold, TITLE_SIZE, CONTENT_W);
    flow.text(
        MARGIN_X,
        top - TITLE_SIZE,
        TITLE_SIZE,
        Face::Bold,
        title,
        BLACK,
    );
    top - 18.0
}

/// Labels spread along an axis `slot` points apart: every `k`-th one so that none overlap, each
/// cut to the room it has.
fn spaced_labels(labels: &[String], size: f32, slot: f32) -> Vec<(usize, Vec<u8>)> {
    let encoded: Vec<Vec<u8>> = labels.iter().map(|l| text::encode(l)).collect();
    let widest = encoded
        .iter()
        .map(|l| text::width(l, Face::Regular, size))
        .fold(0.0f32, f32::max);
    let every = if slot > 0.0 {
        ((widest + 4.0) / slot).ceil().clamp(1.0, 1e6) as usize
    } else {
        1
    };
    let room = (every as f32 * slot - 2.0).max(4.0);
    encoded
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, l)| (i, text::truncate(&l, Face::Regular, size, room)))
        .collect()
}

/// A bar or line chart: title, legend, y-axis label, gridlines with tick labels, the data, and
/// the x labels.
pub(crate) fn bars_or_lines(
    flow: &mut Flow,
    kind: Kind,
    title: &str,
    labels: &[String],
    series: &[Series],
    y_label: &str,
) -> Result<(), PaperError> {
    let axis = value_axis(series)
        .ok_or_else(|| PaperError::new(format!("chart '{title}': values too far apart to draw")))?;
    let legend = legend_lines(series);
    let height = 18.0 + legend.len() as f32 * LEGEND_LEADING + 16.0 + PLOT_H + 18.0;
    flow.ensure(height);

    let mut y = chart_title(flow, flow.y, title);
    for line in legend {
        for (i, name, dx) in line {
            flow.rect(MARGIN_X + dx, y - 8.0, 8.0, 8.0, series_color(i));
            flow.text(
                MARGIN_X + dx + 11.0,
                y - 7.5,
                LABEL_SIZE,
                Face::Regular,
                name,
                BLACK,
            );
        }
        y -= LEGEND_LEADING;
    }
    let y_label = text::truncate(&text::encode(y_label), Face::Regular, LABEL_SIZE, CONTENT_W);
    flow.text(
        MARGIN_X,
        y - LABEL_SIZE,
        LABEL_SIZE,
        Face::Regular,
        y_label,
        MUTED,
    );
    // Room for the top tick label between the y-axis label and the plot.
    let top = y - 16.0;
    let bottom = top - PLOT_H;

    let ticks: Vec<(f64, Vec<u8>)> = axis
        .ticks()
        .into_iter()
        .map(|v| (v, axis.label(v).into_bytes()))
        .collect();
    let tick_w = ticks
        .iter()
        .map(|(_, l)| text::width(l, Face::Regular, LABEL_SIZE))
        .fold(0.0f32, f32::max)
        .min(CONTENT_W * 0.3);
    let left = MARGIN_X + tick_w + 6.0;
    let right = MARGIN_X + CONTENT_W;
    let plot_w = right - left;
    let y_of = |v: f64| bottom + axis.fraction(v) * PLOT_H;

    for (v, label) in ticks {
        let ty = y_of(v);
        flow.line(vec![(left, ty), (right, ty)], 0.5, GRID);
        let label = text::truncate(&label, Face::Regular, LABEL_SIZE, tick_w);
        flow.text_right(left - 4.0, ty - 2.5, LABEL_SIZE, Face::Regular, label);
    }

    let n = labels.len();
    let has_data = series
        .iter()
        .any(|s| s.values.iter().any(|v| v.is_finite()));
    if n > 0 && has_data {
        let slot = plot_w / n as f32;
        match kind {
            Kind::Bar => draw_bars(flow, series, slot, left, &y_of),
            Kind::Line => draw_lines(flow, series, slot, left, &y_of),
        }
    } else {
        let msg = b"No data".to_vec();
        flow.text_centered(
            (left + right) / 2.0,
            bottom + PLOT_H / 2.0,
            9.0,
            Face::Regular,
            msg,
        );
    }

    // Axes on top of the data: the value axis and the zero line.
    flow.line(vec![(left, bottom), (left, top)], 0.8, BLACK);
    let zero = y_of(0.0);
    flow.line(vec![(left, zero), (right, zero)], 0.8, BLACK);

    if n > 0 {
        let slot = plot_w / n as f32;
        for (i, label) in spaced_labels(labels, LABEL_SIZE, slot) {
            let center = left + slot * (i as f32 + 0.5);
            flow.line(vec![(center, bottom), (center, bottom - 3.0)], 0.5, MUTED);
            flow.text_centered(center, bottom - 11.0, LABEL_SIZE, Face::Regular, label);
        }
    }
    flow.y = bottom - 18.0;
    Ok(())
}

fn draw_bars(flow: &mut Flow, series: &[Series], slot: f32, left: f32, y_of: &dyn Fn(f64) -> f32) {
    let count = series.len().max(1) as f32;
    let bar_w = slot * 0.8 / count;
    let gap = (bar_w * 0.15).min(1.0);
    let zero = y_of(0.0);
    for (j, s) in series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let x = left + slot * (i as f32 + 0.1) + bar_w * j as f32;
            let end = y_of(*v);
            flow.rect(
                x + gap / 2.0,
                zero.min(end),
                bar_w - gap,
                (end - zero).abs(),
                series_color(j),
            );
        }
    }
}

fn draw_lines(flow: &mut Flow, series: &[Series], slot: f32, left: f32, y_of: &dyn Fn(f64) -> f32) {
    let marker = slot.clamp(1.0, 3.0);
    for (j, s) in series.iter().enumerate() {
        let color = series_color(j);
        let mut run: Vec<(f32, f32)> = Vec::new();
        for (i, v) in s.values.iter().enumerate() {
            if v.is_finite() {
                run.push((left + slot * (i as f32 + 0.5), y_of(*v)));
            } else {
                flow.line(std::mem::take(&mut run), 1.5, color);
            }
        }
        flow.line(run, 1.5, color);
        for (i, v) in s.values.iter().enumerate() {
            if v.is_finite() {
                let (x, y) = (left + slot * (i as f32 + 0.5), y_of(*v));
                flow.rect(x - marker / 2.0, y - marker / 2.0, marker, marker, color);
            }
        }
    }
}

/// The colour of a heatmap cell `t` of the way from the smallest value (pale yellow) to the
/// largest (dark red), through orange.
pub(crate) fn ramp(t: f32) -> Rgb {
    const STOPS: [Rgb; 3] = [
        Rgb(1.0, 0.97, 0.74),
        Rgb(0.99, 0.60, 0.25),
        Rgb(0.74, 0.0, 0.15),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b, u) = if t < 0.5 {
        (STOPS[0], STOPS[1], t * 2.0)
    } else {
        (STOPS[1], STOPS[2], (t - 0.5) * 2.0)
    };
    Rgb(
        a.0 + (b.0 - a.0) * u,
        a.1 + (b.1 - a.1) * u,
        a.2 + (b.2 - a.2) * u,
    )
}

/// A grid of cells coloured by value, with row labels on the left, column labels on top and a
/// colour scale from the smallest to the largest value below.
pub(crate) fn heatmap(
    flow: &mut Flow,
    title: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<f64>],
) {
    const COLUMN_LABELS_H: f32 = 12.0;
    const SCALE_H: f32 = 30.0;
    let overhead = 18.0 + COLUMN_LABELS_H + SCALE_H;
    let nrows = rows.len();
    let ncols = columns.len();
    let cell_h = if nrows == 0 {
        0.0
    } else {
        ((BODY_H - overhead) / nrows as f32).min(16.0)
    };
    flow.ensure(overhead + cell_h * nrows as f32);

    let mut y = chart_title(flow, flow.y, title);
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let decimals = decimals_for(&finite);
    let format_value = |v: f64| format!("{v:.decimals$}");
    if nrows == 0 || ncols == 0 || finite.is_empty() {
        flow.text(
            MARGIN_X,
            y - 10.0,
            9.0,
            Face::Regular,
            b"No data".to_vec(),
            MUTED,
        );
        flow.y = y - 16.0;
        return;
    }
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let t_of = |v: f64| {
        let span = max - min;
        if span > 0.0 && span.is_finite() {
            ((v - min) / span) as f32
        } else {
            0.0
        }
    };

    let row_size = LABEL_SIZE.min(cell_h - 1.0).max(3.0);
    let row_label_w = rows
        .iter()
        .map(|r| text::width(&text::encode(r), Face::Regular, row_size))
        .fold(0.0f32, f32::max)
        .min(CONTENT_W * 0.25);
    let left = MARGIN_X + row_label_w + 6.0;
    let cell_w = (MARGIN_X + CONTENT_W - left) / ncols as f32;

    for (i, label) in spaced_labels(columns, 7.0, cell_w) {
        let center = left + cell_w * (i as f32 + 0.5);
        flow.text_centered(center, y - 9.0, 7.0, Face::Regular, label);
    }
    y -= COLUMN_LABELS_H;

    let inset = if cell_w > 4.0 && cell_h > 4.0 {
        0.5
    } else {
        0.0
    };
    let value_size = (cell_h - 5.0).min(6.5);
    let row_every = (9.0 / cell_h).ceil().max(1.0) as usize;
    for (r, (label, row)) in rows.iter().zip(values).enumerate() {
        let cell_y = y - cell_h * (r as f32 + 1.0);
        if r % row_every == 0 {
            let label = text::truncate(&text::encode(label), Face::Regular, row_size, row_label_w);
            flow.text(
                MARGIN_X,
                cell_y + (cell_h - row_size) / 2.0 + 1.0,
                row_size,
                Face::Regular,
                label,
                BLACK,
            );
        }
        for (c, v) in row.iter().enumerate() {
            let x = left + cell_w * c as f32;
            let color = if v.is_finite() {
                ramp(t_of(*v))
            } else {
                NO_DATA
            };
            flow.rect(
                x + inset,
                cell_y + inset,
                cell_w - 2.0 * inset,
                cell_h - 2.0 * inset,
                color,
            );
            if v.is_finite() && value_size >= 4.0 {
                let label = format_value(*v).into_bytes();
                let w = text::width(&label, Face::Regular, value_size);
                if w + 2.0 <= cell_w {
                    let ink = if t_of(*v) > 0.6 {
                        Rgb(1.0, 1.0, 1.0)
                    } else {
                        BLACK
                    };
                    flow.text(
                        x + (cell_w - w) / 2.0,
                        cell_y + (cell_h - value_size) / 2.0 + 1.0,
                        value_size,
                        Face::Regular,
                        label,
                        ink,
                    );
                }
            }
        }
    }
    y -= cell_h * nrows as f32;

    // The colour scale: smallest value, a band of the ramp, largest value (and "no data").
    let base = y - 18.0;
    let lo = format_value(min).into_bytes();
    let lo_w = text::width(&lo, Face::Regular, LABEL_SIZE);
    flow.text(left, base, LABEL_SIZE, Face::Regular, lo, MUTED);
    let band_x = left + lo_w + 4.0;
    const BAND_W: f32 = 150.0;
    const STEPS: usize = 30;
    for s in 0..STEPS {
        let step_w = BAND_W / STEPS as f32;
        let t = s as f32 / (STEPS - 1) as f32;
        flow.rect(
            band_x + step_w * s as f32,
            base - 1.0,
            step_w + 0.05,
            8.0,
            ramp(t),
        );
    }
    let hi = format_value(max).into_bytes();
    flow.text(
        band_x + BAND_W + 4.0,
        base,
        LABEL_SIZE,
        Face::Regular,
        hi,
        MUTED,
    );
    if finite.len() < nrows * ncols {
        let x = band_x + BAND_W + 50.0;
        flow.rect(x, base - 1.0, 8.0, 8.0, NO_DATA);
        flow.text(
            x + 11.0,
            base,
            LABEL_SIZE,
            Face::Regular,
            b"no data".to_vec(),
            MUTED,
        );
    }
    flow.y = base - 12.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_use_round_steps_and_include_zero() {
        let a = Axis::new(3.0, 87.0).unwrap();
        assert_eq!((a.lo, a.hi, a.step), (0.0, 100.0, 20.0));
        assert_eq!(a.ticks(), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(a.label(40.0), "40");

        let a = Axis::new(-12.0, 5.0).unwrap();
        assert!(a.lo <= -12.0 && a.hi >= 5.0);
        assert!(a.ticks().contains(&0.0));

        let a = Axis::new(0.0, 0.9).unwrap();
        assert_eq!(a.step, 0.2);
        assert_eq!(a.label(0.4), "0.4");
        let a = Axis::new(0.0, 1.1).unwrap();
        assert_eq!(a.step, 0.25);
        assert_eq!(a.label(0.25), "0.25");
    }

    #[test]
    fn flat_and_empty_data_get_a_unit_axis() {
        assert_eq!(
            Axis::new(0.0, 0.0),
            Some(Axis {
                lo: 0.0,
                hi: 1.0,
                step: 0.2
            })
        );
        assert_eq!(value_axis(&[]), Axis::new(0.0, 1.0));
        let nan = Series {
            name: "x".into(),
            values: vec![f64::NAN, f64::INFINITY],
        };
        assert_eq!(value_axis(&[nan]), Axis::new(0.0, 1.0));
    }

    #[test]
    fn extreme_ranges_are_refused_not_drawn_wrong() {
        assert_eq!(Axis::new(-f64::MAX, f64::MAX), None);
        assert!(Axis::new(0.0, 1e300).is_some());
        assert!(Axis::new(0.0, 1e-300).is_some());
    }

    #[test]
    fn values_side_by_side_share_their_decimals() {
        assert_eq!(decimals_for(&[12.0, 3.0, -4.0]), 0);
        assert_eq!(decimals_for(&[1234.56, 5.5]), 0);
        assert_eq!(decimals_for(&[7.26, 50.0]), 1);
        assert_eq!(decimals_for(&[0.853, 0.5]), 2);
        assert_eq!(decimals_for(&[]), 0);
    }

    #[test]
    fn the_ramp_runs_from_pale_to_dark_and_survives_nan() {
        let (lo, hi) = (ramp(0.0), ramp(1.0));
        assert!(lo.0 + lo.1 + lo.2 > hi.0 + hi.1 + hi.2);
        assert_eq!(ramp(f32::NAN), lo);
        assert_eq!(ramp(7.0), hi);
    }

    #[test]
    fn series_colours_are_distinct() {
        for (i, a) in PALETTE.iter().enumerate() {
            for b in &PALETTE[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn crowded_labels_are_thinned_out() {
        let labels: Vec<String> = (0..100).map(|i| format!("label {i}")).collect();
        let shown = spaced_labels(&labels, LABEL_SIZE, 5.0);
        assert!(shown.len() < 20 && !shown.is_empty());
        assert_eq!(spaced_labels(&labels[..3], LABEL_SIZE, 100.0).len(), 3);
    }
}
