//! Rendered plates and street scenes, for tests, benchmarks and the demo lot's simulated cameras.
//! Fonts come from Debian's packages (fonts-dejavu-extra); nothing is downloaded.
//!
//! These pictures are far cleaner than real ones: they check that the pipeline works end to end,
//! not how well it reads real plates (the real US crops measure that).

use crate::rng::Rng;
use ab_glyph::{FontVec, PxScale};
use gatehouse_anpr::{AnprError, BBox, Result};
use image::{GrayImage, Luma, Rgb, RgbImage, imageops};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut, draw_text_mut, text_size};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
use imageproc::rect::Rect;

/// Where the plate fonts are looked for, first found wins.
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
];

/// The look of a plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateStyle {
    /// About 2:1, a state name above and a slogan below, dark characters on a light background.
    Us,
    /// About 4.7:1, a blue band with the country on the left, black on white.
    Eu,
    /// Mercosur: about 3:1, a blue band with BRASIL on top, black on white.
    Br,
}

/// Draws plates and scenes with one font.
pub struct Renderer {
    font: FontVec,
}

impl Renderer {
    /// The first of [`FONT_PATHS`] that exists.
    pub fn new() -> Result<Renderer> {
        let path = FONT_PATHS
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .ok_or_else(|| {
                AnprError::io(
                    "no plate font found: install Debian's fonts-dejavu-extra (./dev does)"
                        .to_string(),
                )
            })?;
        let bytes = std::fs::read(path)
            .map_err(|e| AnprError::io(format!("cannot read the font {path}: {e}")))?;
        let font = FontVec::try_from_vec(bytes)
            .map_err(|e| AnprError::io(format!("{path} is not a usable font: {e}")))?;
        Ok(Renderer { font })
    }

    /// A plate of `width` pixels showing `text` (spaces and dashes are drawn but are not part of
    /// the plate's text).
    pub fn plate(&self, text: &str, style: PlateStyle, width: u32, rng: &mut Rng) -> RgbImage {
        let width = width.max(40);
        let height = match style {
            PlateStyle::Us => width / 2,
            PlateStyle::Eu => width * 10 / 47,
            PlateStyle::Br => width / 3,
        }
        .max(12);
        let paper = match style {
            PlateStyle::Us => {
                let tint = rng.range(0, 4);
                [
                    [245, 245, 240],
                    [225, 235, 250],
                    [250, 246, 225],
                    [235, 245, 235],
                ][tint as usize]
            }
            _ => [246, 246, 246],
        };
        let mut plate = RgbImage::from_pixel(width, height, Rgb(paper));
        // Border.
        let ink = match style {
            PlateStyle::Us => {
                [[20, 30, 110], [15, 15, 20], [120, 20, 30], [10, 60, 40]][rng.range(0, 4) as usize]
            }
            _ => [15, 15, 15],
        };
        let b = (height / 30).max(1);
        for (x, y, w, h) in [
            (0, 0, width, b),
            (0, height - b, width, b),
            (0, 0, b, height),
            (width - b, 0, b, height),
        ] {
            draw_filled_rect_mut(
                &mut plate,
                Rect::at(x as i32, y as i32).of_size(w, h),
                Rgb(ink),
            );
        }
        let (text_left, text_right, text_top, text_bottom) = match style {
            PlateStyle::Us => {
                // A gradient band at the top with the state name, a slogan at the bottom.
                let band = height / 5;
                let band_colour =
                    [[180, 30, 40], [30, 70, 160], [20, 110, 60]][rng.range(0, 3) as usize];
                for y in b..band {
                    let t = y as f32 / band as f32;
                    let c = mix(band_colour, paper, t);
                    draw_filled_rect_mut(
                        &mut plate,
                        Rect::at(b as i32, y as i32).of_size(width - 2 * b, 1),
                        Rgb(c),
                    );
                }
                let state =
                    ["DEMOLAND", "GATEHOUSE", "NORTH PARK", "LAKESIDE"][rng.range(0, 4) as usize];
                self.text_in(
                    &mut plate,
                    state,
                    Rgb([250, 250, 250]),
                    [width / 4, b, width / 2, band],
                );
                let slogan =
                    ["PARK ANYWHERE", "THE GATE STATE", "LAND OF LOTS"][rng.range(0, 3) as usize];
                self.text_in(
                    &mut plate,
                    slogan,
                    Rgb(ink),
                    [width / 3, height * 83 / 100, width / 3, height / 9],
                );
                // Bolts.
                for x in [width / 4, width * 3 / 4] {
                    draw_filled_circle_mut(
                        &mut plate,
                        (x as i32, (height / 9) as i32),
                        (height / 30).max(1) as i32,
                        Rgb([150, 150, 150]),
                    );
                }
                (
                    width / 14,
                    width * 13 / 14,
                    height * 25 / 100,
                    height * 80 / 100,
                )
            }
            PlateStyle::Eu => {
                let band = width * 9 / 100;
                draw_filled_rect_mut(
                    &mut plate,
                    Rect::at(b as i32, b as i32).of_size(band, height - 2 * b),
                    Rgb([0, 51, 153]),
                );
                let code = ["D", "NL", "F", "B"][rng.range(0, 4) as usize];
                self.text_in(
                    &mut plate,
                    code,
                    Rgb([250, 250, 250]),
                    [b, height * 55 / 100, band, height * 35 / 100],
                );
                (
                    band + width / 40,
                    width - width / 30,
                    height * 14 / 100,
                    height * 86 / 100,
                )
            }
            PlateStyle::Br => {
                let band = height * 22 / 100;
                draw_filled_rect_mut(
                    &mut plate,
                    Rect::at(b as i32, b as i32).of_size(width - 2 * b, band),
                    Rgb([0, 51, 153]),
                );
                self.text_in(
                    &mut plate,
                    "BRASIL",
                    Rgb([250, 250, 250]),
                    [width * 38 / 100, b, width / 4, band],
                );
                (
                    width / 16,
                    width * 15 / 16,
                    band + height / 12,
                    height * 93 / 100,
                )
            }
        };
        self.text_in(
            &mut plate,
            text,
            Rgb(ink),
            [
                text_left,
                text_top,
                text_right - text_left,
                text_bottom - text_top,
            ],
        );
        plate
    }

    /// Draws `text` filling the box's height, centred in it; text wider than the box is
    /// squeezed to fit, as plate fonts are condensed.
    fn text_in(&self, img: &mut RgbImage, text: &str, colour: Rgb<u8>, area: [u32; 4]) {
        let [x, y, w, h] = area;
        if text.trim().is_empty() || w == 0 || h == 0 {
            return;
        }
        // White on black at a size whose capitals are about `h` tall, cut to its ink.
        let scale = PxScale::from(h as f32 / 0.73);
        let (tw, _) = text_size(scale, &self.font, text);
        let mut mask = GrayImage::new(tw + 8, (scale.y * 1.3) as u32 + 8);
        draw_text_mut(&mut mask, Luma([255]), 4, 4, scale, &self.font, text);
        let Some((ix, iy, iw, ih)) = ink_bounds(&mask) else {
            return;
        };
        let ink = imageops::crop_imm(&mask, ix, iy, iw, ih).to_image();
        let (tw, th) = (iw.min(w).max(1), h);
        let ink = imageops::resize(&ink, tw, th, imageops::FilterType::Triangle);
        let left = x + (w - tw) / 2;
        for (px, py, a) in ink.enumerate_pixels() {
            let (px, py) = (left + px, y + py);
            if px >= img.width() || py >= img.height() || a.0[0] == 0 {
                continue;
            }
            let t = f32::from(a.0[0]) / 255.0;
            let under = img.get_pixel(px, py).0;
            img.put_pixel(px, py, Rgb(mix(under, colour.0, t)));
        }
    }

    /// A `width`×`height` street scene with a car carrying each plate (text, style, plate width
    /// in pixels, tilt in degrees), left to right; returns the picture and each plate's box.
    pub fn scene(
        &self,
        width: u32,
        height: u32,
        plates: &[(&str, PlateStyle, u32, f32)],
        seed: u64,
    ) -> (RgbImage, Vec<BBox>) {
        let mut rng = Rng::new(seed);
        let mut img = RgbImage::new(width, height);
        // Sky-ish top, asphalt below, a kerb line.
        let horizon = height * 2 / 5;
        for y in 0..height {
            let c = if y < horizon {
                mix([150, 170, 190], [200, 205, 210], y as f32 / horizon as f32)
            } else {
                mix(
                    [95, 95, 100],
                    [70, 70, 72],
                    (y - horizon) as f32 / (height - horizon) as f32,
                )
            };
            draw_filled_rect_mut(&mut img, Rect::at(0, y as i32).of_size(width, 1), Rgb(c));
        }
        draw_filled_rect_mut(
            &mut img,
            Rect::at(0, horizon as i32).of_size(width, (height / 90).max(1)),
            Rgb([180, 180, 170]),
        );
        let slot = width / plates.len().max(1) as u32;
        let mut boxes = Vec::new();
        for (i, (text, style, plate_width, tilt)) in plates.iter().enumerate() {
            let plate = self.plate(text, *style, *plate_width, &mut rng);
            let (pw, ph) = (plate.width(), plate.height());
            let cx = slot * i as u32 + slot / 2;
            let jitter = rng.range(-(i64::from(height)) / 20, i64::from(height) / 20);
            let cy = (i64::from(height * 3 / 5) + jitter).max(0) as u32;
            // The car: body, windscreen, bumper, lights.
            let body = [
                [160, 20, 25],
                [30, 40, 90],
                [200, 200, 205],
                [25, 25, 28],
                [90, 100, 110],
            ][rng.range(0, 5) as usize];
            let (cw, ch) = ((pw * 4).min(slot.saturating_sub(8)).max(pw + 8), ph * 5);
            let car_left = cx.saturating_sub(cw / 2) as i32;
            let car_top = cy.saturating_sub(ch * 3 / 5) as i32;
            draw_filled_rect_mut(
                &mut img,
                Rect::at(car_left, car_top).of_size(cw, ch),
                Rgb(body),
            );
            draw_filled_rect_mut(
                &mut img,
                Rect::at(car_left + (cw / 8) as i32, car_top - (ch / 3) as i32)
                    .of_size(cw * 3 / 4, ch / 3 + ch / 10),
                Rgb([40, 50, 60]),
            );
            for side in [cw / 10, cw * 8 / 10] {
                draw_filled_rect_mut(
                    &mut img,
                    Rect::at(car_left + side as i32, car_top + (ch / 8) as i32)
                        .of_size(cw / 10, ch / 8),
                    Rgb([235, 225, 180]),
                );
            }
            draw_filled_rect_mut(
                &mut img,
                Rect::at(car_left, cy as i32 + (ph * 3 / 4) as i32).of_size(cw, ph / 2 + 2),
                Rgb([30, 30, 30]),
            );
            // The plate, tilted, pasted centred on (cx, cy).
            let plate = if tilt.abs() > 0.1 {
                let margin = pw / 6;
                let mut canvas = RgbImage::from_pixel(pw + 2 * margin, ph + 2 * margin, Rgb(body));
                imageops::overlay(&mut canvas, &plate, i64::from(margin), i64::from(margin));
                rotate_about_center(
                    &canvas,
                    tilt.to_radians(),
                    Interpolation::Bilinear,
                    Rgb(body),
                )
            } else {
                plate
            };
            let left = i64::from(cx) - i64::from(plate.width() / 2);
            let top = i64::from(cy) - i64::from(plate.height() / 2);
            imageops::overlay(&mut img, &plate, left, top);
            // The tilted plate's upright box.
            let (s, c) = tilt.to_radians().sin_cos();
            let bw = (pw as f32 * c.abs() + ph as f32 * s.abs()) as u32;
            let bh = (pw as f32 * s.abs() + ph as f32 * c.abs()) as u32;
            boxes.push(BBox {
                x: cx.saturating_sub(bw / 2),
                y: cy.saturating_sub(bh / 2),
                w: bw,
                h: bh,
            });
        }
        // Sensor noise.
        for px in img.pixels_mut() {
            let n = rng.range(-6, 7) as i16;
            for ch in px.0.iter_mut() {
                *ch = (i16::from(*ch) + n).clamp(0, 255) as u8;
            }
        }
        (img, boxes)
    }
}

/// The smallest box holding every non-black pixel.
fn ink_bounds(mask: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in mask.enumerate_pixels() {
        if p.0[0] > 40 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    (x0 <= x1).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t) as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}
