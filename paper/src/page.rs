//! The A4 page: its geometry and colours, the drawing operations a page holds, and the flow that
//! fills pages from the top down. Layout (layout.rs) and charts (chart.rs) both draw into it.

use crate::text::{self, Face};

/// A4 portrait, in points.
pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN_X: f32 = 50.0;
/// The top of the text area.
pub(crate) const TOP: f32 = PAGE_H - 50.0;
/// The bottom of the text area; the footer sits below it.
pub(crate) const BOTTOM: f32 = 60.0;
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
pub(crate) const BODY_H: f32 = TOP - BOTTOM;

/// An RGB colour, each channel from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

pub(crate) const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
/// Secondary text: subtitles, footers, axis labels.
pub(crate) const MUTED: Rgb = Rgb(0.35, 0.35, 0.35);
pub(crate) const GRID: Rgb = Rgb(0.85, 0.85, 0.85);

/// One drawing operation on a page.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    /// WinAnsi-encoded text with its baseline starting at (x, y).
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        bytes: Vec<u8>,
        color: Rgb,
    },
    /// A filled rectangle with its lower-left corner at (x, y).
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    /// A stroked open polyline.
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: Rgb,
    },
}

/// The operations of one page, in painting order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Page {
    pub ops: Vec<Op>,
}

/// The page being filled from the top down, and the pages already full.
pub(crate) struct Flow {
    done: Vec<Page>,
    current: Page,
    /// The top of the free space on the current page.
    pub y: f32,
}

impl Flow {
    pub(crate) fn new() -> Self {
        Flow {
            done: Vec::new(),
            current: Page::default(),
            y: TOP,
        }
    }

    pub fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.current));
        self.y = TOP;
    }

    /// The height left on the current page.
    pub fn room(&self) -> f32 {
        self.y - BOTTOM
    }

    pub fn at_top(&self) -> bool {
        self.y >= TOP
    }

    /// Starts a new page unless `height` still fits on this one (or this one is still empty,
    /// where a new page would not help).
    pub fn ensure(&mut self, height: f32) {
        if self.room() < height && !self.at_top() {
            self.new_page();
        }
    }

    pub fn push(&mut self, op: Op) {
        self.current.ops.push(op);
    }

    pub fn text(&mut self, x: f32, y: f32, size: f32, face: Face, bytes: Vec<u8>, color: Rgb) {
        if !bytes.is_empty() {
            self.push(Op::Text {
                x,
                y,
                size,
                face,
                bytes,
                color,
            });
        }
    }

    /// Text whose right end is at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, size: f32, face: Face, bytes: Vec<u8>) {
        let x = right - text::width(&bytes, face, size);
        self.text(x, y, size, face, bytes, MUTED);
    }

    /// Text centred on `center`.
    pub fn text_centered(&mut self, center: f32, y: f32, size: f32, face: Face, bytes: Vec<u8>) {
        let x = center - text::width(&bytes, face, size) / 2.0;
        self.text(x, y, size, face, bytes, MUTED);
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        if w > 0.0 && h > 0.0 {
            self.push(Op::Rect { x, y, w, h, color });
        }
    }

    pub fn line(&mut self, points: Vec<(f32, f32)>, width: f32, color: Rgb) {
        if points.len() >= 2 {
            self.push(Op::Line {
                points,
                width,
                color,
            });
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Page> {
        if !self.current.ops.is_empty() || self.done.is_empty() {
            self.done.push(self.current);
        }
        self.done
    }
}
