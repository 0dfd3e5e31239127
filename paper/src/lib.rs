//! Printable documents rendered to PDF: operational reports, cashier Z-reports and the like.
//!
//! A [`Document`] is a title and a list of [`Block`]s — headings, paragraphs, tables and charts —
//! that [`render_pdf`] lays out on A4 portrait pages. Blocks flow onto new pages as needed;
//! tables split between rows and repeat their header. Charts are vector graphics, not images.
//!
//! The PDF uses the built-in Helvetica fonts, so no font file is embedded. They only know the
//! Windows-1252 (WinAnsi) characters: "€", "ä", "—" and the like print as they are, a few
//! others get a close spelling ("→" prints "->"), and the rest print as "?".
//!
//! This crate knows nothing about parking: callers turn their data into a [`Document`].
//!
//! ```
//! use gatehouse_paper::{Block, Document, Series, render_pdf};
//!
//! let doc = Document {
//!     title: "Z-report".into(),
//!     subtitle: Some("Cashier 2 — 2024-05-01".into()),
//!     blocks: vec![
//!         Block::Table {
//!             headers: vec!["Payment".into(), "Amount".into()],
//!             rows: vec![vec!["Cash".into(), "120.50 €".into()]],
//!             right: vec![false, true],
//!         },
//!         Block::BarChart {
//!             title: "Takings per hour".into(),
//!             labels: vec!["9".into(), "10".into()],
//!             series: vec![Series { name: "Cash".into(), values: vec![40.0, 80.5] }],
//!             y_label: "€".into(),
//!         },
//!     ],
//! };
//! let pdf = render_pdf(&doc).unwrap();
//! assert!(pdf.starts_with(b"%PDF"));
//! ```

mod chart;
mod layout;
mod metrics;
mod page;
mod pdf;
mod text;

/// A printable document: a title (also shown in every page's footer), an optional subtitle,
/// and the blocks in reading order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub subtitle: Option<String>,
    pub blocks: Vec<Block>,
}

/// One piece of a [`Document`].
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A section heading; kept on the same page as what follows it.
    Heading(String),
    /// Running text, wrapped to the page width; `\n` starts a new line.
    Paragraph(String),
    /// A table; `right` says which columns are right-aligned (numbers, money). `right` is
    /// either empty (all left-aligned) or has one entry per column. Every row has one cell per
    /// header; a table without headers takes its column count from its first row. Long cells
    /// wrap; a table longer than a page continues on the next, repeating the header.
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
        right: Vec<bool>,
    },
    /// Vertical bars, one group per label, one bar per series in each group, with a legend and
    /// y-axis ticks. Each series has one value per label; NaN and infinite values are missing
    /// (no bar). Negative values draw below the zero line.
    BarChart {
        title: String,
        labels: Vec<String>,
        series: Vec<Series>,
        y_label: String,
    },
    /// Lines over labelled x points (e.g. occupancy per hour of the day). Each series has one
    /// value per label; a NaN or infinite value leaves a gap in its line.
    LineChart {
        title: String,
        labels: Vec<String>,
        series: Vec<Series>,
        y_label: String,
    },
    /// A grid coloured by value (e.g. weekday × hour of day), with a scale legend. `values` has
    /// one row per entry of `rows`, each with one value per entry of `columns`; NaN and
    /// infinite values show as grey "no data" cells.
    Heatmap {
        title: String,
        rows: Vec<String>,
        columns: Vec<String>,
        values: Vec<Vec<f64>>,
    },
}

/// A named row of values in a chart, drawn in its own colour.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// Why a document could not be rendered: a block whose parts disagree (a table row with the
/// wrong number of cells, a series with the wrong number of values, ...), or a PDF writer
/// failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PaperError {
    pub message: String,
}

impl PaperError {
    pub fn new(message: impl Into<String>) -> Self {
        PaperError {
            message: message.into(),
        }
    }
}

/// Renders the document as a PDF on A4 portrait pages and returns the file's bytes.
///
/// Every block is checked before anything is drawn; a block whose parts disagree is an error
/// that names the block. Text that the built-in fonts cannot show is replaced, never an error.
pub fn render_pdf(doc: &Document) -> Result<Vec<u8>, PaperError> {
    let pages = layout::layout(doc)?;
    pdf::write(&doc.title, &pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages in a PDF, counted from its page objects ("/Type /Page", not "/Type /Pages").
    fn pdf_pages(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf).replace(' ', "");
        text.match_indices("/Type/Page")
            .filter(|(i, m)| !text[i + m.len()..].starts_with('s'))
            .count()
    }

    fn table(rows: usize) -> Block {
        Block::Table {
            headers: vec!["#".into(), "Plate".into(), "Fee".into()],
            rows: (0..rows)
                .map(|i| vec![i.to_string(), format!("HH-{i}"), format!("{}.50", i % 17)])
                .collect(),
            right: vec![true, false, true],
        }
    }

    fn doc(blocks: Vec<Block>) -> Document {
        Document {
            title: "Daily report".into(),
            subtitle: None,
            blocks,
        }
    }

    fn series(name: &str, values: Vec<f64>) -> Series {
        Series {
            name: name.into(),
            values,
        }
    }

    #[test]
    fn renders_a_pdf_file() {
        let pdf = render_pdf(&doc(vec![Block::Heading("Hello".into())])).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        assert_eq!(pdf_pages(&pdf), 1);
        assert!(String::from_utf8_lossy(&pdf).contains("/BaseFont/Helvetica"));
    }

    #[test]
    fn a_200_row_table_takes_several_pages() {
        let pdf = render_pdf(&doc(vec![table(200)])).unwrap();
        let pages = pdf_pages(&pdf);
        assert!(pages > 1, "{pages} pages");
        // And the page count agrees with the layout's.
        assert_eq!(pages, layout::layout(&doc(vec![table(200)])).unwrap().len());
        assert_eq!(pdf_pages(&render_pdf(&doc(vec![table(20)])).unwrap()), 1);
    }

    #[test]
    fn an_empty_document_is_one_page_with_its_title() {
        let pdf = render_pdf(&Document::default()).unwrap();
        assert_eq!(pdf_pages(&pdf), 1);
    }

    #[test]
    fn odd_characters_never_fail() {
        let odd = "Summe € 12,50 — Bär (Ölwechsel) \\ 100% ✓ 🚗 Ελλάδα \t\n\r\u{0} \u{FEFF}";
        let pdf = render_pdf(&Document {
            title: odd.into(),
            subtitle: Some(odd.into()),
            blocks: vec![
                Block::Heading(odd.into()),
                Block::Paragraph(odd.into()),
                Block::Table {
                    headers: vec![odd.into()],
                    rows: vec![vec![odd.into()]],
                    right: vec![true],
                },
                Block::LineChart {
                    title: odd.into(),
                    labels: vec![odd.into()],
                    series: vec![series(odd, vec![1.0])],
                    y_label: odd.into(),
                },
                Block::Heatmap {
                    title: odd.into(),
                    rows: vec![odd.into()],
                    columns: vec![odd.into()],
                    values: vec![vec![1.0]],
                },
            ],
        })
        .unwrap();
        assert_eq!(pdf_pages(&pdf), 1);
    }

    #[test]
    fn text_is_written_as_winansi_hex_strings() {
        // In a debug build printpdf leaves content streams uncompressed, so the text is
        // visible: "(€)" is 28 80 29 in WinAnsi, written as a hex string with no escaping.
        let pdf = render_pdf(&doc(vec![Block::Paragraph("(€)".into())])).unwrap();
        let raw = String::from_utf8_lossy(&pdf).to_lowercase();
        if cfg!(debug_assertions) {
            assert!(raw.contains("<288029>"), "no hex string for (€)");
        }
    }

    #[test]
    fn zero_nan_and_empty_chart_data_render() {
        let charts = vec![
            Block::BarChart {
                title: "zeros".into(),
                labels: vec!["a".into(), "b".into()],
                series: vec![series("s", vec![0.0, 0.0])],
                y_label: String::new(),
            },
            Block::BarChart {
                title: "no series".into(),
                labels: vec!["a".into()],
                series: vec![],
                y_label: String::new(),
            },
            Block::BarChart {
                title: "nothing".into(),
                labels: vec![],
                series: vec![series("s", vec![])],
                y_label: String::new(),
            },
            Block::LineChart {
                title: "gaps".into(),
                labels: vec!["a".into(), "b".into(), "c".into()],
                series: vec![series("s", vec![f64::NAN, 2.0, f64::INFINITY])],
                y_label: String::new(),
            },
            Block::BarChart {
                title: "negative".into(),
                labels: vec!["a".into(), "b".into()],
                series: vec![series("s", vec![-5.0, 3.0]), series("t", vec![1e9, -1e-9])],
                y_label: String::new(),
            },
            Block::Heatmap {
                title: "all NaN".into(),
                rows: vec!["r".into()],
                columns: vec!["c".into()],
                values: vec![vec![f64::NAN]],
            },
            Block::Heatmap {
                title: "flat".into(),
                rows: vec!["r".into(), "s".into()],
                columns: vec!["c".into()],
                values: vec![vec![3.0], vec![3.0]],
            },
            Block::Heatmap {
                title: "empty".into(),
                rows: vec![],
                columns: vec![],
                values: vec![],
            },
        ];
        let pdf = render_pdf(&doc(charts)).unwrap();
        assert!(pdf_pages(&pdf) >= 1);
    }

    #[test]
    fn huge_grids_and_long_series_render() {
        let labels: Vec<String> = (0..1000).map(|i| format!("x{i}")).collect();
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 37)).collect();
        let pdf = render_pdf(&doc(vec![
            Block::LineChart {
                title: "long".into(),
                labels: labels.clone(),
                series: vec![series("s", values.clone())],
                y_label: "n".into(),
            },
            Block::Heatmap {
                title: "tall".into(),
                rows: labels.clone(),
                columns: labels[..48].to_vec(),
                values: vec![values[..48].to_vec(); 1000],
            },
        ]))
        .unwrap();
        assert!(pdf_pages(&pdf) >= 2);
    }

    #[test]
    fn a_series_must_have_one_value_per_label() {
        let err = render_pdf(&doc(vec![Block::BarChart {
            title: "Revenue".into(),
            labels: vec!["Mon".into(), "Tue".into()],
            series: vec![series("Cash", vec![1.0])],
            y_label: "€".into(),
        }]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "bar chart 'Revenue': series 'Cash' has 1 values but there are 2 labels"
        );
        let err = render_pdf(&doc(vec![Block::LineChart {
            title: "Occupancy".into(),
            labels: vec![],
            series: vec![series("Level 1", vec![0.5])],
            y_label: String::new(),
        }]))
        .unwrap_err();
        assert!(err.message.starts_with("line chart 'Occupancy'"), "{err}");
    }

    #[test]
    fn a_heatmap_must_be_rectangular() {
        let err = render_pdf(&doc(vec![Block::Heatmap {
            title: "Week".into(),
            rows: vec!["Mon".into(), "Tue".into()],
            columns: vec!["0".into(), "1".into()],
            values: vec![vec![1.0, 2.0]],
        }]))
        .unwrap_err();
        assert!(
            err.message.contains("1 rows of values but 2 row labels"),
            "{err}"
        );
        let err = render_pdf(&doc(vec![Block::Heatmap {
            title: "Week".into(),
            rows: vec!["Mon".into()],
            columns: vec!["0".into(), "1".into()],
            values: vec![vec![1.0, 2.0, 3.0]],
        }]))
        .unwrap_err();
        assert!(err.message.contains("row 'Mon' has 3 values"), "{err}");
    }

    #[test]
    fn values_beyond_any_axis_are_an_error() {
        let err = render_pdf(&doc(vec![Block::BarChart {
            title: "Broken".into(),
            labels: vec!["a".into(), "b".into()],
            series: vec![series("s", vec![f64::MAX, -f64::MAX])],
            y_label: String::new(),
        }]))
        .unwrap_err();
        assert!(err.message.contains("too far apart"), "{err}");
    }

    #[test]
    fn errors_are_std_errors() {
        let err: Box<dyn std::error::Error> = Box::new(PaperError::new("boom"));
        assert_eq!(err.to_string(), "boom");
    }
}
