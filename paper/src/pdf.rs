//! Writes laid-out pages as a PDF with printpdf, in the built-in Helvetica fonts.

use printpdf::lopdf::content::Operation;
use printpdf::lopdf::{Object, StringFormat};
use printpdf::path::{PaintMode, WindingOrder};
use printpdf::{
    BuiltinFont, Color, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point, Pt, Rect,
};

use crate::PaperError;
use crate::page::{Op, PAGE_H, PAGE_W, Page, Rgb};
use crate::text::Face;

fn color(c: Rgb) -> Color {
    Color::Rgb(printpdf::Rgb::new(c.0, c.1, c.2, None))
}

fn point(x: f32, y: f32) -> Point {
    Point { x: Pt(x), y: Pt(y) }
}

fn pdf_error(what: &str, err: impl std::fmt::Display) -> PaperError {
    PaperError::new(format!("{what}: {err}"))
}

pub(crate) fn write(title: &str, pages: &[Page]) -> Result<Vec<u8>, PaperError> {
    let (width, height) = (Mm::from(Pt(PAGE_W)), Mm::from(Pt(PAGE_H)));
    let (doc, first_page, first_layer) = PdfDocument::new(title, width, height, "Content");
    let regular = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(|e| pdf_error("adding Helvetica", e))?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(|e| pdf_error("adding Helvetica-Bold", e))?;
    for (i, page) in pages.iter().enumerate() {
        let layer = if i == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (page_index, layer_index) = doc.add_page(width, height, "Content");
            doc.get_page(page_index).get_layer(layer_index)
        };
        for op in &page.ops {
            draw(&layer, op, &regular, &bold);
        }
    }
    doc.save_to_bytes()
        .map_err(|e| pdf_error("writing the PDF", e))
}

fn draw(layer: &PdfLayerReference, op: &Op, regular: &IndirectFontRef, bold: &IndirectFontRef) {
    match op {
        Op::Text {
            x,
            y,
            size,
            face,
            bytes,
            color: c,
        } => {
            let font = match face {
                Face::Regular => regular,
                Face::Bold => bold,
            };
            layer.begin_text_section();
            layer.set_font(font, *size);
            layer.set_fill_color(color(*c));
            layer.set_text_cursor(Mm::from(Pt(*x)), Mm::from(Pt(*y)));
            // The bytes are already WinAnsi, the encoding printpdf declares for built-in fonts;
            // a hex string needs no escaping of parentheses or backslashes.
            layer.add_operation(Operation::new(
                "Tj",
                vec![Object::String(bytes.clone(), StringFormat::Hexadecimal)],
            ));
            layer.end_text_section();
        }
        Op::Rect {
            x,
            y,
            w,
            h,
            color: c,
        } => {
            layer.set_fill_color(color(*c));
            layer.add_rect(Rect {
                ll: point(*x, *y),
                ur: point(x + w, y + h),
                mode: PaintMode::Fill,
                winding: WindingOrder::NonZero,
            });
        }
        Op::Line {
            points,
            width,
            color: c,
        } => {
            layer.set_outline_color(color(*c));
            layer.set_outline_thickness(*width);
            layer.add_line(Line {
                points: points.iter().map(|&(x, y)| (point(x, y), false)).collect(),
                is_closed: false,
            });
        }
    }
}
