#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Renders documents with poppler's real `pdftoppm` and `pdftotext` and checks what a reader
//! would see: ink on the page, chart colours where charts are, none where there is only text,
//! and the text itself.

use std::path::Path;
use std::process::Command;

use gatehouse_paper::{Block, Document, Series, render_pdf};

/// One rendered page: RGB pixels, row by row.
struct Image {
    width: usize,
    height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Image {
    fn share(&self, test: impl Fn([u8; 3]) -> bool) -> f64 {
        let hits = self.pixels.iter().filter(|p| test(**p)).count();
        hits as f64 / self.pixels.len() as f64
    }
}

/// Anything visibly darker than the paper.
fn inked(p: [u8; 3]) -> bool {
    p.iter().any(|&c| c < 230)
}

/// A pixel with a clear hue. Black text on white, anti-aliased, only makes greys.
fn coloured(p: [u8; 3]) -> bool {
    let (max, min) = (p.iter().max().unwrap(), p.iter().min().unwrap());
    max - min > 60
}

/// Close to a given colour, as chart fills of that colour come out.
fn near(p: [u8; 3], target: [u8; 3]) -> bool {
    p.iter()
        .zip(target)
        .all(|(&a, b)| (i16::from(a) - i16::from(b)).abs() <= 25)
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) {
    let output = match Command::new(tool).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` was not found: install poppler-utils (./dev test does) to run this test"
        ),
        Err(e) => panic!("could not run {tool}: {e}"),
    };
    assert!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn decode_png(path: &Path) -> Image {
    let mut decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let data = &buf[..info.buffer_size()];
    let pixels: Vec<[u8; 3]> = match info.color_type {
        png::ColorType::Rgb => data.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        png::ColorType::Rgba => data.chunks_exact(4).map(|c| [c[0], c[1], c[2]]).collect(),
        png::ColorType::Grayscale => data.iter().map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => {
            data.chunks_exact(2).map(|c| [c[0], c[0], c[0]]).collect()
        }
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let (width, height) = (info.width as usize, info.height as usize);
    assert_eq!(pixels.len(), width * height);
    Image {
        width,
        height,
        pixels,
    }
}

/// Renders every page of the PDF at 50 dpi with pdftoppm, in page order.
fn render_pages(pdf: &[u8]) -> Vec<Image> {
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("doc.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "50".as_ref(),
            pdf_path.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    // pdftoppm names pages page-1.png, or page-01.png when there are ten or more.
    let mut pngs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pngs.sort();
    pngs.iter().map(|p| decode_png(p)).collect()
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("doc.pdf");
    let txt_path = dir.path().join("doc.txt");
    std::fs::write(&pdf_path, pdf).unwrap();
    run(
        "pdftotext",
        &[
            "-enc".as_ref(),
            "UTF-8".as_ref(),
            pdf_path.as_os_str(),
            txt_path.as_os_str(),
        ],
    );
    std::fs::read_to_string(txt_path).unwrap()
}

fn hours() -> Vec<String> {
    (0..24).map(|h| format!("{h:02}")).collect()
}

fn report() -> Document {
    let occupancy = |phase: f64| -> Vec<f64> {
        (0..24)
            .map(|h| {
                (50.0 + 45.0 * ((f64::from(h) - 6.0 + phase) / 24.0 * std::f64::consts::TAU).sin())
                    .max(0.0)
            })
            .collect()
    };
    Document {
        title: "Operational report".into(),
        subtitle: Some("Lot Nord — week 19".into()),
        blocks: vec![
            Block::Heading("Summary".into()),
            Block::Table {
                headers: vec!["Level".into(), "Entries".into(), "Revenue".into()],
                rows: vec![
                    vec!["Ground".into(), "1 204".into(), "3 410.50 €".into()],
                    vec!["Level 1".into(), "987".into(), "2 801.00 €".into()],
                    vec!["Level 2".into(), "455".into(), "1 290.00 €".into()],
                ],
                right: vec![false, true, true],
            },
            Block::BarChart {
                title: "Entries per day".into(),
                labels: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .map(String::from)
                    .to_vec(),
                series: vec![
                    Series {
                        name: "Short stay".into(),
                        values: vec![120.0, 135.0, 128.0, 150.0, 190.0, 210.0, 90.0],
                    },
                    Series {
                        name: "Subscribers".into(),
                        values: vec![80.0, 82.0, 79.0, 85.0, 70.0, 20.0, 10.0],
                    },
                ],
                y_label: "Vehicles".into(),
            },
            Block::LineChart {
                title: "Occupancy by hour".into(),
                labels: hours(),
                series: vec![
                    Series {
                        name: "Weekdays".into(),
                        values: occupancy(0.0),
                    },
                    Series {
                        name: "Weekend".into(),
                        values: occupancy(4.0),
                    },
                ],
                y_label: "% occupied".into(),
            },
            Block::Heatmap {
                title: "Entries by weekday and hour".into(),
                rows: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .map(String::from)
                    .to_vec(),
                columns: hours(),
                values: (0..7).map(|d| occupancy(f64::from(d))).collect(),
            },
        ],
    }
}

#[test]
fn a_report_with_charts_renders_ink_and_colour() {
    let pages = render_pages(&render_pdf(&report()).unwrap());
    assert!(!pages.is_empty());
    let first = &pages[0];
    // A4 at 50 dpi is about 413 × 585 pixels.
    assert!((400..430).contains(&first.width) && (570..600).contains(&first.height));

    let ink = first.share(inked);
    assert!(
        ink > 0.06,
        "page 1 looks blank: only {:.1}% of it has ink",
        ink * 100.0
    );
    let colour = first.share(coloured);
    assert!(
        colour > 0.01,
        "page 1 has almost no colour: {:.2}%",
        colour * 100.0
    );

    // Each bar series has its own fill colour (the first two of the palette: blue, orange).
    let all: Vec<[u8; 3]> = pages
        .iter()
        .flat_map(|p| p.pixels.iter().copied())
        .collect();
    let count = |target: [u8; 3]| all.iter().filter(|p| near(**p, target)).count();
    assert!(count([78, 121, 167]) > 200, "no blue series fill");
    assert!(count([242, 142, 43]) > 200, "no orange series fill");
    // The heatmap's dark red end shows up somewhere.
    assert!(count([189, 0, 38]) > 20, "no dark heatmap cells");
}

#[test]
fn a_text_only_page_has_ink_but_no_colour() {
    let doc = Document {
        title: "Z-report".into(),
        subtitle: Some("Cashier 2 — shift closed 22:00".into()),
        blocks: vec![
            Block::Heading("Totals".into()),
            Block::Paragraph("Every payment of the shift, by type. ".repeat(20)),
            Block::Table {
                headers: vec!["Payment".into(), "Count".into(), "Amount".into()],
                rows: (0..30)
                    .map(|i| vec![format!("Type {i}"), i.to_string(), format!("{i}.00 €")])
                    .collect(),
                right: vec![false, true, true],
            },
        ],
    };
    let pages = render_pages(&render_pdf(&doc).unwrap());
    let first = &pages[0];
    let ink = first.share(inked);
    assert!(
        ink > 0.02,
        "the text page looks blank: {:.2}% ink",
        ink * 100.0
    );
    let colour = first.pixels.iter().filter(|p| coloured(**p)).count();
    assert_eq!(
        colour, 0,
        "text and table rules should be black and grey only"
    );
}

#[test]
fn special_characters_come_back_out_of_the_pdf() {
    let doc = Document {
        title: "Kassenbericht".into(),
        subtitle: None,
        blocks: vec![Block::Paragraph(
            "Summe: 12,50 € — Bär (Ölwechsel) \\ “quoted” → next".into(),
        )],
    };
    let text = pdftotext(&render_pdf(&doc).unwrap());
    assert!(
        text.contains("Summe: 12,50 € — Bär (Ölwechsel) \\ “quoted” -> next"),
        "pdftotext read: {text}"
    );
    assert!(text.contains("Page 1 of 1"), "pdftotext read: {text}");
}

#[test]
fn a_long_table_prints_on_several_pages_with_every_row() {
    let doc = Document {
        title: "Fees of the day".into(),
        subtitle: None,
        blocks: vec![Block::Table {
            headers: vec!["Ticket".into(), "Fee".into()],
            rows: (0..200)
                .map(|i| vec![format!("T{i:04}"), format!("{i}.00")])
                .collect(),
            right: vec![false, true],
        }],
    };
    let pdf = render_pdf(&doc).unwrap();
    let pages = render_pages(&pdf);
    assert!(pages.len() > 1, "{} pages", pages.len());
    let text = pdftotext(&pdf);
    for i in 0..200 {
        assert!(text.contains(&format!("T{i:04}")), "row {i} missing");
    }
    assert_eq!(
        text.matches("Ticket").count(),
        pages.len(),
        "header not repeated on every page"
    );
}
