//! Finding plates in a frame, classically: plate characters make dense, short vertical edges in a
//! band, which few other things in a street scene do.
//!
//! 1. Grey and shrink the frame to about 640 px wide (box average).
//! 2. Horizontal gradient; keep the strong ones (vertical edges).
//! 3. Close the edge map horizontally (characters merge into one blob), then open it vertically
//!    and horizontally (thin lines, poles and specks go).
//! 4. Connected components; keep those shaped like a line of plate characters; score by edge
//!    density.
//! 5. Each survivor's tilt from its second moments; its box grown to the whole plate (the state
//!    name above, the slogan below) and mapped back to the full frame.
//!
//! The reader then decides: a candidate whose read is not confident is not a plate.

use image::{GrayImage, RgbImage};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};

/// A box in a frame: left, top, width, height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl BBox {
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }

    /// The area this box shares with `other`.
    fn intersection(&self, other: &BBox) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        if x1 <= x0 || y1 <= y0 {
            return 0;
        }
        u64::from(x1 - x0) * u64::from(y1 - y0)
    }

    /// Intersection over union with `other`.
    pub fn iou(&self, other: &BBox) -> f32 {
        let inter = self.intersection(other);
        if inter == 0 {
            return 0.0;
        }
        inter as f32 / (self.area() + other.area() - inter) as f32
    }

    /// The share of this box that lies inside `other` (0 to 1).
    pub fn share_inside(&self, other: &BBox) -> f32 {
        self.intersection(other) as f32 / self.area().max(1) as f32
    }

    /// `[x, y, w, h]`, as the CLI prints it.
    pub fn to_array(self) -> [u32; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// Where a plate may be, how tilted, and how plate-like it looked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The line of characters, in full-frame pixels (the plate is around it).
    pub text_line: BBox,
    /// Tilt of the character line in degrees (positive: clockwise, the right end lower).
    pub angle: f32,
    pub score: f32,
}

/// The localiser's knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Locator {
    /// Width the frame is shrunk to before searching.
    pub work_width: u32,
    /// At most this many candidates go to the reader, best first.
    pub max_candidates: usize,
    /// Width/height range of a line of plate characters.
    pub min_aspect: f32,
    pub max_aspect: f32,
}

impl Default for Locator {
    fn default() -> Self {
        Locator {
            work_width: 640,
            max_candidates: 6,
            min_aspect: 1.4,
            max_aspect: 9.0,
        }
    }
}

impl Locator {
    /// Candidate plate boxes in `frame`, best first.
    pub fn locate(&self, frame: &RgbImage) -> Vec<Candidate> {
        let factor = frame.width().div_ceil(self.work_width.max(1)).max(1);
        let gray = shrink_gray(frame, factor);
        let (w, h) = (gray.width() as usize, gray.height() as usize);
        if w < 16 || h < 8 {
            return Vec::new();
        }
        let edges = vertical_edges(&gray);
        let r = (w / 90).max(2);
        let mut blobs = edges.clone();
        dilate_h(&mut blobs, w, h, r);
        erode_h(&mut blobs, w, h, r);
        erode_v(&mut blobs, w, h, 1);
        dilate_v(&mut blobs, w, h, 1);
        erode_h(&mut blobs, w, h, 2);
        dilate_h(&mut blobs, w, h, 2);
        let density = Integral::new(&edges, w, h);

        let mut found: Vec<Candidate> = components(&blobs, w, h)
            .into_iter()
            .filter_map(|c| self.judge(&c, &density, w))
            .map(|(c, b, score)| {
                let f = factor;
                let x1 = ((b.x + b.w) * f).min(frame.width());
                let y1 = ((b.y + b.h) * f).min(frame.height());
                Candidate {
                    text_line: BBox {
                        x: b.x * f,
                        y: b.y * f,
                        w: x1.saturating_sub(b.x * f),
                        h: y1.saturating_sub(b.y * f),
                    },
                    angle: c.angle(),
                    score,
                }
            })
            .filter(|c| c.text_line.w > 0 && c.text_line.h > 0)
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(self.max_candidates);
        found
    }

    fn judge(&self, c: &Component, density: &Integral, w: usize) -> Option<(Component, BBox, f32)> {
        let bw = c.x1 - c.x0 + 1;
        let bh = c.y1 - c.y0 + 1;
        let aspect = bw as f32 / bh as f32;
        let fill = c.count as f32 / (bw * bh) as f32;
        if bh < 5 || bw < 16 || bw > w * 2 / 3 || fill < 0.4 {
            return None;
        }
        if aspect < self.min_aspect || aspect > self.max_aspect {
            return None;
        }
        let edge_density = density.sum(c.x0, c.y0, c.x1, c.y1) as f32 / (bw * bh) as f32;
        if edge_density < 0.12 {
            return None;
        }
        let bbox = BBox {
            x: c.x0 as u32,
            y: c.y0 as u32,
            w: bw as u32,
            h: bh as u32,
        };
        Some((c.clone(), bbox, edge_density * fill))
    }
}

/// How far around the character line a crop reaches, as fractions of the line's width (each
/// side) and height (above and below). Plates differ: a European plate's characters fill most of
/// its height, a US plate's about half, so the reader is shown more than one crop.
pub const CROP_MARGINS: [(f32, f32); 2] = [(0.06, 0.3), (0.08, 0.75)];

impl Candidate {
    /// The box of a crop with `margin` around the character line, kept inside the frame.
    pub fn crop_box(&self, margin: (f32, f32), frame_w: u32, frame_h: u32) -> BBox {
        let t = self.text_line;
        let gx = (t.w as f32 * margin.0) as u32 + 1;
        let gy = (t.h as f32 * margin.1) as u32 + 1;
        let x0 = t.x.saturating_sub(gx);
        let y0 = t.y.saturating_sub(gy);
        let x1 = (t.x + t.w + gx).min(frame_w);
        let y1 = (t.y + t.h + gy).min(frame_h);
        BBox {
            x: x0,
            y: y0,
            w: x1.saturating_sub(x0).max(1),
            h: y1.saturating_sub(y0).max(1),
        }
    }
}

/// The region `b` of the frame, turned back by `angle` degrees when it is tilted by more than a
/// degree.
pub fn crop(frame: &RgbImage, b: BBox, angle: f32) -> RgbImage {
    if angle.abs() <= 1.0 {
        return image::imageops::crop_imm(frame, b.x, b.y, b.w, b.h).to_image();
    }
    // Take a larger region so rotating it does not pull in empty corners, turn it about the
    // box's centre, and cut the box out of the middle.
    let pad_x = b.h / 2 + 2;
    let pad_y = b.w / 4 + 2;
    let x0 = b.x.saturating_sub(pad_x);
    let y0 = b.y.saturating_sub(pad_y);
    let x1 = (b.x + b.w + pad_x).min(frame.width());
    let y1 = (b.y + b.h + pad_y).min(frame.height());
    let mut region = image::imageops::crop_imm(frame, x0, y0, x1 - x0, y1 - y0).to_image();
    // Centre the box in the region (pad the short side with edge colour) so the rotation is
    // about the box's centre.
    let (cx, cy) = (b.x + b.w / 2 - x0, b.y + b.h / 2 - y0);
    let half_w = cx.max(region.width() - cx);
    let half_h = cy.max(region.height() - cy);
    if half_w * 2 != region.width() || half_h * 2 != region.height() {
        let mut centred = RgbImage::from_pixel(half_w * 2, half_h * 2, image::Rgb([128, 128, 128]));
        image::imageops::overlay(
            &mut centred,
            &region,
            i64::from(half_w - cx),
            i64::from(half_h - cy),
        );
        region = centred;
    }
    let turned = rotate_about_center(
        &region,
        -angle.to_radians(),
        Interpolation::Bilinear,
        image::Rgb([128, 128, 128]),
    );
    let left = (turned.width() / 2).saturating_sub(b.w / 2);
    let top = (turned.height() / 2).saturating_sub(b.h / 2);
    let w = b.w.min(turned.width() - left).max(1);
    let h = b.h.min(turned.height() - top).max(1);
    image::imageops::crop_imm(&turned, left, top, w, h).to_image()
}

/// Grey by box-averaging `f`×`f` blocks.
fn shrink_gray(frame: &RgbImage, f: u32) -> GrayImage {
    let (w, h) = (frame.width() / f, frame.height() / f);
    let raw = frame.as_raw();
    let stride = frame.width() as usize * 3;
    let mut out = GrayImage::new(w, h);
    let n = f * f;
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for dy in 0..f {
                let row = ((y * f + dy) as usize) * stride;
                for dx in 0..f {
                    let i = row + ((x * f + dx) as usize) * 3;
                    // Rec. 601 luma in integers.
                    sum += (u32::from(raw[i]) * 77
                        + u32::from(raw[i + 1]) * 150
                        + u32::from(raw[i + 2]) * 29)
                        >> 8;
                }
            }
            out.put_pixel(x, y, image::Luma([(sum / n) as u8]));
        }
    }
    out
}

/// 1 where the horizontal gradient is strong, relative to the frame's own contrast.
fn vertical_edges(gray: &GrayImage) -> Vec<u8> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let g = gray.as_raw();
    let mut grad = vec![0u8; w * h];
    let mut total = 0u64;
    for y in 0..h {
        for x in 1..w - 1 {
            let d = (i16::from(g[y * w + x + 1]) - i16::from(g[y * w + x - 1])).unsigned_abs();
            let d = d.min(255) as u8;
            grad[y * w + x] = d;
            total += u64::from(d);
        }
    }
    let mean = total as f32 / (w * h) as f32;
    let threshold = (mean * 3.5).clamp(28.0, 90.0) as u8;
    grad.iter().map(|d| u8::from(*d >= threshold)).collect()
}

fn dilate_h(m: &mut [u8], w: usize, h: usize, r: usize) {
    run_h(m, w, h, r, false)
}
fn erode_h(m: &mut [u8], w: usize, h: usize, r: usize) {
    run_h(m, w, h, r, true)
}
fn dilate_v(m: &mut [u8], w: usize, h: usize, r: usize) {
    run_v(m, w, h, r, false)
}
fn erode_v(m: &mut [u8], w: usize, h: usize, r: usize) {
    run_v(m, w, h, r, true)
}

/// After counting the set pixels within `r`: erosion keeps a pixel whose whole window is set
/// (outside the image counts as set, so blobs at the border survive), dilation one with any.
fn keep(count: usize, r: usize, erode: bool) -> u8 {
    u8::from(if erode { count == 2 * r + 1 } else { count > 0 })
}

/// Erodes or dilates each row by `r` (running sums, so the cost does not grow with `r`).
fn run_h(m: &mut [u8], w: usize, h: usize, r: usize, erode: bool) {
    let mut prefix = vec![0usize; w + 1];
    for y in 0..h {
        let row = &mut m[y * w..(y + 1) * w];
        for x in 0..w {
            prefix[x + 1] = prefix[x] + usize::from(row[x]);
        }
        for (x, px) in row.iter_mut().enumerate() {
            let lo = x.saturating_sub(r);
            let hi = (x + r + 1).min(w);
            let outside = if erode { (2 * r + 1) - (hi - lo) } else { 0 };
            *px = keep(prefix[hi] - prefix[lo] + outside, r, erode);
        }
    }
}

fn run_v(m: &mut [u8], w: usize, h: usize, r: usize, erode: bool) {
    let mut prefix = vec![0usize; h + 1];
    let mut column = vec![0u8; h];
    for x in 0..w {
        for y in 0..h {
            column[y] = m[y * w + x];
            prefix[y + 1] = prefix[y] + usize::from(column[y]);
        }
        for y in 0..h {
            let lo = y.saturating_sub(r);
            let hi = (y + r + 1).min(h);
            let outside = if erode { (2 * r + 1) - (hi - lo) } else { 0 };
            m[y * w + x] = keep(prefix[hi] - prefix[lo] + outside, r, erode);
        }
    }
}

/// Summed-area table of a 0/1 map.
struct Integral {
    w: usize,
    sums: Vec<u32>,
}

impl Integral {
    fn new(m: &[u8], w: usize, h: usize) -> Integral {
        let mut sums = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += u32::from(m[y * w + x]);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Integral { w, sums }
    }

    /// Set pixels in the inclusive box.
    fn sum(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u32 {
        let s = |x: usize, y: usize| self.sums[y * (self.w + 1) + x];
        s(x1 + 1, y1 + 1) + s(x0, y0) - s(x0, y1 + 1) - s(x1 + 1, y0)
    }
}

#[derive(Debug, Clone)]
struct Component {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    count: usize,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Component {
    /// Orientation of the pixel cloud's long axis, in degrees, limited to ±20.
    fn angle(&self) -> f32 {
        let n = self.count as f64;
        let (mx, my) = (self.sx / n, self.sy / n);
        let mu20 = self.sxx / n - mx * mx;
        let mu02 = self.syy / n - my * my;
        let mu11 = self.sxy / n - mx * my;
        let theta = 0.5 * (2.0 * mu11).atan2(mu20 - mu02);
        (theta.to_degrees() as f32).clamp(-20.0, 20.0)
    }
}

/// 4-connected components of set pixels, with their boxes and moments.
fn components(m: &[u8], w: usize, h: usize) -> Vec<Component> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if m[start] == 0 || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut c = Component {
            x0: usize::MAX,
            y0: usize::MAX,
            x1: 0,
            y1: 0,
            count: 0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            syy: 0.0,
            sxy: 0.0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            c.x0 = c.x0.min(x);
            c.y0 = c.y0.min(y);
            c.x1 = c.x1.max(x);
            c.y1 = c.y1.max(y);
            c.count += 1;
            let (fx, fy) = (x as f64, y as f64);
            c.sx += fx;
            c.sy += fy;
            c.sxx += fx * fx;
            c.syy += fy * fy;
            c.sxy += fx * fy;
            let mut visit = |j: usize| {
                if m[j] != 0 && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_slogan_line_lies_inside_its_plate_and_a_plate_beside_it_does_not() {
        let at = |x, y, w, h| BBox { x, y, w, h };
        let plate = at(100, 100, 300, 150);
        let slogan = at(200, 220, 100, 20);
        let neighbour = at(390, 100, 300, 150);
        assert_eq!(slogan.share_inside(&plate), 1.0);
        assert!(plate.share_inside(&slogan) < 0.05);
        assert!(neighbour.share_inside(&plate) < 0.05);
        assert_eq!(at(0, 0, 0, 0).share_inside(&plate), 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_picture_and_any_box_neither_panics_nor_gives_an_empty_crop(
            w in 1u32..400, h in 1u32..240, seed in any::<u64>(),
            bx in 0.0f32..1.0, by in 0.0f32..1.0, bw in 0.0f32..1.0, bh in 0.0f32..1.0,
            angle in -20.0f32..20.0,
        ) {
            let mut x = seed | 1;
            let frame = RgbImage::from_fn(w, h, |_, _| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
            });
            for c in Locator::default().locate(&frame) {
                prop_assert!(c.text_line.x + c.text_line.w <= w && c.text_line.y + c.text_line.h <= h);
            }
            let b = BBox {
                x: (bx * (w - 1) as f32) as u32,
                y: (by * (h - 1) as f32) as u32,
                w: 1, h: 1,
            };
            let b = BBox { w: ((bw * (w - b.x) as f32) as u32).max(1), h: ((bh * (h - b.y) as f32) as u32).max(1), ..b };
            let crop = crop(&frame, b, angle);
            prop_assert!(crop.width() >= 1 && crop.height() >= 1);
        }
    }

    #[test]
    fn a_flat_frame_has_no_candidates() {
        let frame = RgbImage::from_pixel(1280, 720, image::Rgb([90, 90, 95]));
        assert!(Locator::default().locate(&frame).is_empty());
    }

    #[test]
    fn a_row_of_bars_is_found_where_it_is() {
        // Dark bars on a light band, like characters on a plate.
        let mut frame = RgbImage::from_pixel(1280, 720, image::Rgb([60, 70, 80]));
        for y in 380..460 {
            for x in 500..780 {
                let on_bar = (x - 500) % 40 < 14 && (395..445).contains(&y);
                let v = if on_bar { 20 } else { 230 };
                frame.put_pixel(x, y, image::Rgb([v, v, v]));
            }
        }
        let found = Locator::default().locate(&frame);
        let best = found.first().copied().unwrap_or(Candidate {
            text_line: BBox {
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            },
            angle: 0.0,
            score: 0.0,
        });
        let bars = BBox {
            x: 500,
            y: 395,
            w: 280,
            h: 50,
        };
        assert!(best.text_line.iou(&bars) > 0.6, "{found:?}");
        assert!(best.angle.abs() < 3.0);
    }

    #[test]
    fn morphology_closes_gaps_and_opens_specks() {
        let (w, h) = (9, 1);
        let mut m = vec![1, 0, 1, 0, 1, 0, 0, 0, 1];
        dilate_h(&mut m, w, h, 1);
        erode_h(&mut m, w, h, 1);
        assert_eq!(m, vec![1, 1, 1, 1, 1, 0, 0, 0, 1]);
        let mut speck = vec![0, 0, 0, 0, 1, 0, 0, 0, 0];
        erode_h(&mut speck, w, h, 1);
        assert!(speck.iter().all(|v| *v == 0));
    }
}
