//! Lays a [`Document`] out onto A4 pages as a list of drawing operations per page.
//!
//! Layout is kept apart from writing the PDF so that pagination can be decided (and tested)
//! on plain data. Coordinates are PDF points with the origin at the bottom-left of the page.

use crate::page::{BLACK, BODY_H, CONTENT_W, Flow, GRID, MARGIN_X, MUTED, Op, Page, Rgb};
use crate::text::{self, Face};
use crate::{Block, Document, PaperError, chart};

const FOOTER_Y: f32 = 34.0;
const RULE: Rgb = Rgb(0.6, 0.6, 0.6);
const HEADER_FILL: Rgb = Rgb(0.88, 0.88, 0.88);
const ZEBRA_FILL: Rgb = Rgb(0.96, 0.96, 0.96);

/// Lays the whole document out. Fails, before anything is drawn, on a block whose parts
/// disagree (a table row with too few cells, a series shorter than its labels, ...).
pub(crate) fn layout(doc: &Document) -> Result<Vec<Page>, PaperError> {
    for block in &doc.blocks {
        validate(block)?;
    }
    let mut flow = Flow::new();
    title_block(&mut flow, doc);
    for block in &doc.blocks {
        if !flow.at_top() {
            flow.y -= 10.0;
        }
        match block {
            Block::Heading(text) => heading(&mut flow, text),
            Block::Paragraph(text) => paragraph(&mut flow, text),
            Block::Table {
                headers,
                rows,
                right,
            } => table(&mut flow, headers, rows, right),
            Block::BarChart {
                title,
                labels,
                series,
                y_label,
            } => chart::bars_or_lines(&mut flow, chart::Kind::Bar, title, labels, series, y_label)?,
            Block::LineChart {
                title,
                labels,
                series,
                y_label,
            } => {
                chart::bars_or_lines(&mut flow, chart::Kind::Line, title, labels, series, y_label)?
            }
            Block::Heatmap {
                title,
                rows,
                columns,
                values,
            } => chart::heatmap(&mut flow, title, rows, columns, values),
        }
    }
    let mut pages = flow.finish();
    footers(&mut pages, &doc.title);
    Ok(pages)
}

fn validate(block: &Block) -> Result<(), PaperError> {
    match block {
        Block::Heading(_) | Block::Paragraph(_) => Ok(()),
        Block::Table {
            headers,
            rows,
            right,
        } => {
            let columns = table_columns(headers, rows);
            for (i, row) in rows.iter().enumerate() {
                if row.len() != columns {
                    return Err(PaperError::new(format!(
                        "table: row {} has {} cells but the table has {} columns",
                        i + 1,
                        row.len(),
                        columns
                    )));
                }
            }
            if !right.is_empty() && right.len() != columns {
                return Err(PaperError::new(format!(
                    "table: `right` has {} entries but the table has {} columns",
                    right.len(),
                    columns
                )));
            }
            Ok(())
        }
        Block::BarChart {
            title,
            labels,
            series,
            ..
        } => chart::validate_series("bar chart", title, labels, series),
        Block::LineChart {
            title,
            labels,
            series,
            ..
        } => chart::validate_series("line chart", title, labels, series),
        Block::Heatmap {
            title,
            rows,
            columns,
            values,
        } => chart::validate_heatmap(title, rows, columns, values),
    }
}

/// A table has as many columns as headers, or, without headers, as cells in its first row.
fn table_columns(headers: &[String], rows: &[Vec<String>]) -> usize {
    if headers.is_empty() {
        rows.first().map_or(0, Vec::len)
    } else {
        headers.len()
    }
}

fn title_block(flow: &mut Flow, doc: &Document) {
    const SIZE: f32 = 20.0;
    const LEADING: f32 = 24.0;
    for line in text::wrap(&text::encode(&doc.title), Face::Bold, SIZE, CONTENT_W) {
        flow.text(MARGIN_X, flow.y - SIZE, SIZE, Face::Bold, line, BLACK);
        flow.y -= LEADING;
    }
    if let Some(subtitle) = &doc.subtitle {
        const SUB: f32 = 11.0;
        for line in text::wrap(&text::encode(subtitle), Face::Regular, SUB, CONTENT_W) {
            flow.text(
                MARGIN_X,
                flow.y - SUB - 2.0,
                SUB,
                Face::Regular,
                line,
                MUTED,
            );
            flow.y -= 15.0;
        }
    }
    flow.y -= 6.0;
    flow.line(
        vec![(MARGIN_X, flow.y), (MARGIN_X + CONTENT_W, flow.y)],
        0.8,
        RULE,
    );
    flow.y -= 8.0;
}

fn heading(flow: &mut Flow, text: &str) {
    const SIZE: f32 = 13.0;
    const LEADING: f32 = 17.0;
    let lines = text::wrap(&text::encode(text), Face::Bold, SIZE, CONTENT_W);
    // Keep a heading with the first lines of what follows it.
    flow.ensure(lines.len() as f32 * LEADING + 40.0);
    for line in lines {
        flow.text(MARGIN_X, flow.y - SIZE, SIZE, Face::Bold, line, BLACK);
        flow.y -= LEADING;
    }
}

fn paragraph(flow: &mut Flow, text: &str) {
    const SIZE: f32 = 10.0;
    const LEADING: f32 = 13.5;
    for hard_line in text.split('\n') {
        for line in text::wrap(&text::encode(hard_line), Face::Regular, SIZE, CONTENT_W) {
            flow.ensure(LEADING);
            flow.text(MARGIN_X, flow.y - SIZE, SIZE, Face::Regular, line, BLACK);
            flow.y -= LEADING;
        }
    }
}

const CELL_SIZE: f32 = 9.0;
const CELL_LEADING: f32 = 11.0;
const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 3.5;

/// A table row ready to draw: each cell's lines, and the row's height.
struct Row {
    cells: Vec<Vec<Vec<u8>>>,
    height: f32,
}

fn table(flow: &mut Flow, headers: &[String], rows: &[Vec<String>], right: &[bool]) {
    let columns = table_columns(headers, rows);
    if columns == 0 {
        return;
    }
    let encoded_headers: Vec<Vec<u8>> = headers.iter().map(|h| text::encode(h)).collect();
    let encoded_rows: Vec<Vec<Vec<u8>>> = rows
        .iter()
        .map(|row| row.iter().map(|c| text::encode(c)).collect())
        .collect();
    let widths = column_widths(columns, &encoded_headers, &encoded_rows);
    let right_aligned = |col: usize| right.get(col).copied().unwrap_or(false);

    let header = (!headers.is_empty()).then(|| prepare_row(&encoded_headers, &widths, Face::Bold));
    let header_h = header.as_ref().map_or(0.0, |h| h.height);
    // No row may be taller than a page under the header, or it could never be placed.
    let max_row_h = BODY_H - header_h;

    let draw_header = |flow: &mut Flow| {
        if let Some(header) = &header {
            flow.rect(
                MARGIN_X,
                flow.y - header.height,
                CONTENT_W,
                header.height,
                HEADER_FILL,
            );
            draw_cells(flow, header, &widths, Face::Bold, &right_aligned);
            flow.y -= header.height;
        }
    };

    let mut started = false;
    for (i, cells) in encoded_rows.iter().enumerate() {
        let mut row = prepare_row(cells, &widths, Face::Regular);
        if row.height > max_row_h {
            let keep = ((max_row_h - 2.0 * CELL_PAD_Y) / CELL_LEADING)
                .floor()
                .max(1.0) as usize;
            for cell in &mut row.cells {
                cell.truncate(keep);
            }
            row.height = keep as f32 * CELL_LEADING + 2.0 * CELL_PAD_Y;
        }
        if !started {
            flow.ensure(header_h + row.height);
            draw_header(flow);
            started = true;
        } else if flow.room() < row.height {
            flow.new_page();
            draw_header(flow);
        }
        if i % 2 == 1 {
            flow.rect(
                MARGIN_X,
                flow.y - row.height,
                CONTENT_W,
                row.height,
                ZEBRA_FILL,
            );
        }
        draw_cells(flow, &row, &widths, Face::Regular, &right_aligned);
        flow.y -= row.height;
        flow.line(
            vec![(MARGIN_X, flow.y), (MARGIN_X + CONTENT_W, flow.y)],
            0.3,
            GRID,
        );
    }
    if !started {
        // Headers only.
        flow.ensure(header_h);
        draw_header(flow);
    }
    flow.line(
        vec![(MARGIN_X, flow.y), (MARGIN_X + CONTENT_W, flow.y)],
        0.8,
        RULE,
    );
}

fn prepare_row(cells: &[Vec<u8>], widths: &[f32], face: Face) -> Row {
    let cells: Vec<Vec<Vec<u8>>> = cells
        .iter()
        .zip(widths)
        .map(|(cell, w)| text::wrap(cell, face, CELL_SIZE, w - 2.0 * CELL_PAD_X))
        .collect();
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    Row {
        cells,
        height: lines as f32 * CELL_LEADING + 2.0 * CELL_PAD_Y,
    }
}

fn draw_cells(
    flow: &mut Flow,
    row: &Row,
    widths: &[f32],
    face: Face,
    right_aligned: &dyn Fn(usize) -> bool,
) {
    let mut x = MARGIN_X;
    for (col, (lines, w)) in row.cells.iter().zip(widths).enumerate() {
        let mut baseline = flow.y - CELL_PAD_Y - CELL_SIZE;
        for line in lines {
            let line_x = if right_aligned(col) {
                x + w - CELL_PAD_X - text::width(line, face, CELL_SIZE)
            } else {
                x + CELL_PAD_X
            };
            flow.text(line_x, baseline, CELL_SIZE, face, line.clone(), BLACK);
            baseline -= CELL_LEADING;
        }
        x += w;
    }
}

/// Column widths that fill the text width: each column gets its widest cell (unwrapped) if
/// everything fits, and the spare width is shared out in proportion. Otherwise narrow columns
/// keep their width and the wide ones share what is left, so their text wraps.
fn column_widths(columns: usize, headers: &[Vec<u8>], rows: &[Vec<Vec<u8>>]) -> Vec<f32> {
    let mut natural = vec![0.0f32; columns];
    for (i, h) in headers.iter().enumerate().take(columns) {
        natural[i] = natural[i].max(text::width(h, Face::Bold, CELL_SIZE));
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            natural[i] = natural[i].max(text::width(cell, Face::Regular, CELL_SIZE));
        }
    }
    for w in &mut natural {
        *w += 2.0 * CELL_PAD_X + 1.0;
    }
    let total: f32 = natural.iter().sum();
    if total <= CONTENT_W {
        let scale = CONTENT_W / total;
        return natural.iter().map(|w| w * scale).collect();
    }
    // Too wide: settle the columns that fit in an even share, then split the rest.
    let mut fixed = vec![false; columns];
    loop {
        let free: f32 = CONTENT_W
            - natural
                .iter()
                .zip(&fixed)
                .filter(|(_, f)| **f)
                .map(|(w, _)| *w)
                .sum::<f32>();
        let open = fixed.iter().filter(|f| !**f).count();
        if open == 0 {
            return natural;
        }
        let share = free / open as f32;
        let mut changed = false;
        for (i, w) in natural.iter().enumerate() {
            if !fixed[i] && *w <= share {
                fixed[i] = true;
                changed = true;
            }
        }
        if !changed {
            let open_total: f32 = natural
                .iter()
                .zip(&fixed)
                .filter(|(_, f)| !**f)
                .map(|(w, _)| *w)
                .sum();
            return natural
                .iter()
                .zip(&fixed)
                .map(|(w, f)| if *f { *w } else { free * w / open_total })
                .collect();
        }
    }
}

fn footers(pages: &mut [Page], title: &str) {
    const SIZE: f32 = 8.0;
    let count = pages.len();
    let title = text::truncate(&text::encode(title), Face::Regular, SIZE, CONTENT_W * 0.7);
    for (i, page) in pages.iter_mut().enumerate() {
        let number = format!("Page {} of {}", i + 1, count).into_bytes();
        let number_w = text::width(&number, Face::Regular, SIZE);
        page.ops.push(Op::Line {
            points: vec![
                (MARGIN_X, FOOTER_Y + 12.0),
                (MARGIN_X + CONTENT_W, FOOTER_Y + 12.0),
            ],
            width: 0.4,
            color: GRID,
        });
        page.ops.push(Op::Text {
            x: MARGIN_X,
            y: FOOTER_Y,
            size: SIZE,
            face: Face::Regular,
            bytes: title.clone(),
            color: MUTED,
        });
        page.ops.push(Op::Text {
            x: MARGIN_X + CONTENT_W - number_w,
            y: FOOTER_Y,
            size: SIZE,
            face: Face::Regular,
            bytes: number,
            color: MUTED,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;
    use crate::page::{BOTTOM, PAGE_W, TOP};

    fn doc(blocks: Vec<Block>) -> Document {
        Document {
            title: "Report".into(),
            subtitle: Some("Lot A".into()),
            blocks,
        }
    }

    fn long_table(rows: usize) -> Block {
        Block::Table {
            headers: vec!["Ticket".into(), "Plate".into(), "Amount".into()],
            rows: (0..rows)
                .map(|i| vec![format!("T-{i}"), format!("AB-{i}"), format!("{i}.00 €")])
                .collect(),
            right: vec![false, false, true],
        }
    }

    fn texts(page: &Page) -> Vec<String> {
        page.ops
            .iter()
            .filter_map(|op| match op {
                Op::Text { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
                _ => None,
            })
            .collect()
    }

    /// Every operation stays on the paper; text stays above the footer area.
    fn assert_on_page(pages: &[Page]) {
        for page in pages {
            for op in &page.ops {
                match op {
                    Op::Text { x, y, .. } => {
                        assert!(
                            *x >= 0.0 && *x <= PAGE_W && *y >= FOOTER_Y && *y <= TOP,
                            "{op:?}"
                        )
                    }
                    Op::Rect { x, y, w, h, .. } => assert!(
                        *x >= 0.0 && x + w <= PAGE_W + 0.01 && *y >= BOTTOM - 0.01 && y + h <= TOP,
                        "{op:?}"
                    ),
                    Op::Line { points, .. } => {
                        for (x, y) in points {
                            assert!(*x >= 0.0 && *x <= PAGE_W && *y >= FOOTER_Y && *y <= TOP);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_short_document_is_one_page() {
        let pages = layout(&doc(vec![
            Block::Heading("Summary".into()),
            Block::Paragraph("All gates worked.".into()),
        ]))
        .unwrap();
        assert_eq!(pages.len(), 1);
        let t = texts(&pages[0]);
        assert!(t.contains(&"Summary".to_string()));
        assert!(t.contains(&"Page 1 of 1".to_string()));
    }

    #[test]
    fn a_long_table_splits_across_pages_repeating_its_header() {
        let pages = layout(&doc(vec![long_table(200)])).unwrap();
        assert!(pages.len() > 1, "{} pages", pages.len());
        for (i, page) in pages.iter().enumerate() {
            let t = texts(page);
            assert!(
                t.contains(&"Ticket".to_string()),
                "no header on page {}",
                i + 1
            );
            assert!(t.contains(&format!("Page {} of {}", i + 1, pages.len())));
        }
        // Every row is there exactly once, in order.
        let tickets: Vec<String> = pages
            .iter()
            .flat_map(texts)
            .filter(|t| t.starts_with("T-"))
            .collect();
        let expected: Vec<String> = (0..200).map(|i| format!("T-{i}")).collect();
        assert_eq!(tickets, expected);
        assert_on_page(&pages);
    }

    #[test]
    fn right_aligned_cells_end_at_the_same_x() {
        let pages = layout(&doc(vec![long_table(5)])).unwrap();
        let ends: Vec<f32> = pages[0]
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Text { x, bytes, size, .. } if bytes.ends_with(&[b' ', 0x80]) => {
                    Some(x + text::width(bytes, Face::Regular, *size))
                }
                _ => None,
            })
            .collect();
        assert_eq!(ends.len(), 5);
        for end in &ends {
            assert!((end - ends[0]).abs() < 0.01);
        }
    }

    #[test]
    fn long_paragraphs_and_many_blocks_flow_onto_new_pages() {
        let words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(400);
        let mut blocks = vec![Block::Paragraph(words)];
        for i in 0..6 {
            blocks.push(Block::Heading(format!("Chart {i}")));
            blocks.push(Block::BarChart {
                title: format!("Chart {i}"),
                labels: vec!["a".into(), "b".into()],
                series: vec![Series {
                    name: "s".into(),
                    values: vec![1.0, 2.0],
                }],
                y_label: "n".into(),
            });
        }
        let pages = layout(&doc(blocks)).unwrap();
        assert!(pages.len() >= 4, "{} pages", pages.len());
        assert_on_page(&pages);
    }

    #[test]
    fn a_heading_is_not_left_alone_at_the_bottom_of_a_page() {
        // Whatever the amount of text before it, a heading shares its page with what follows.
        for lines in 1..120 {
            let pages = layout(&doc(vec![
                Block::Paragraph("line\n".repeat(lines)),
                Block::Heading("Next section".into()),
                Block::Paragraph("Body".into()),
            ]))
            .unwrap();
            let page_of = |needle: &str| {
                pages
                    .iter()
                    .position(|p| texts(p).iter().any(|t| t == needle))
            };
            assert!(page_of("Body").is_some());
            assert_eq!(
                page_of("Next section"),
                page_of("Body"),
                "after {lines} lines"
            );
        }
    }

    #[test]
    fn wide_tables_wrap_cells_within_the_text_width() {
        let long = "very long cell text that cannot possibly fit on one line ".repeat(4);
        let pages = layout(&doc(vec![Block::Table {
            headers: vec!["A".into(), "B".into(), "C".into()],
            rows: vec![vec![long.clone(), long, "1".into()]],
            right: vec![],
        }]))
        .unwrap();
        assert_eq!(pages.len(), 1);
        assert_on_page(&pages);
        for op in &pages[0].ops {
            if let Op::Text {
                x,
                bytes,
                size,
                face,
                ..
            } = op
            {
                assert!(x + text::width(bytes, *face, *size) <= MARGIN_X + CONTENT_W + 0.01);
            }
        }
    }

    #[test]
    fn a_cell_taller_than_a_page_is_cut_to_fit() {
        let pages = layout(&doc(vec![Block::Table {
            headers: vec!["Notes".into()],
            rows: vec![vec!["word ".repeat(20_000)]],
            right: vec![true],
        }]))
        .unwrap();
        assert!(pages.len() <= 2);
        assert_on_page(&pages);
    }

    #[test]
    fn tables_without_headers_or_rows_are_fine() {
        let pages = layout(&doc(vec![
            Block::Table {
                headers: vec![],
                rows: vec![vec!["Cash".into(), "12.00".into()]],
                right: vec![false, true],
            },
            Block::Table {
                headers: vec!["Only".into(), "headers".into()],
                rows: vec![],
                right: vec![],
            },
            Block::Table {
                headers: vec![],
                rows: vec![],
                right: vec![],
            },
        ]))
        .unwrap();
        let t = texts(&pages[0]);
        assert!(t.contains(&"Cash".to_string()) && t.contains(&"headers".to_string()));
    }

    #[test]
    fn table_rows_must_match_the_columns() {
        let err = layout(&doc(vec![Block::Table {
            headers: vec!["A".into(), "B".into()],
            rows: vec![vec!["1".into(), "2".into()], vec!["3".into()]],
            right: vec![],
        }]))
        .unwrap_err();
        assert_eq!(
            err.message,
            "table: row 2 has 1 cells but the table has 2 columns"
        );
        let err = layout(&doc(vec![Block::Table {
            headers: vec!["A".into()],
            rows: vec![],
            right: vec![true, true],
        }]))
        .unwrap_err();
        assert!(err.message.contains("`right` has 2 entries"), "{err}");
    }
}
