//! The lot's reports as documents: the period report as text, CSV and a PDF with charts, and the
//! cashier's Z-report as a PDF. Shared by the CLI and the desktop app.

use gatehouse_core::reports::{MoneyRow, OccupancyRow, Report};
use gatehouse_core::shifts::ZReport;
use gatehouse_paper::{Block, Document, Series};
use std::fmt::Write as _;

fn money_table(rows: &[MoneyRow], first: &str) -> Block {
    Block::Table {
        headers: vec![first.into(), "Count".into(), "Amount".into()],
        rows: rows
            .iter()
            .map(|r| vec![r.key.clone(), r.count.to_string(), r.amount.clone()])
            .collect(),
        right: vec![false, true, true],
    }
}

fn occupancy_table(rows: &[OccupancyRow], first: &str) -> Block {
    Block::Table {
        headers: vec![
            first.into(),
            "Spots".into(),
            "Average".into(),
            "Peak".into(),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.key.clone(),
                    if r.spots > 0 {
                        r.spots.to_string()
                    } else {
                        "-".into()
                    },
                    format!("{:.1}", r.average),
                    r.peak.to_string(),
                ]
            })
            .collect(),
        right: vec![false, true, true, true],
    }
}

fn amount(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// The report as a PDF document: summary, charts, then the tables.
pub fn document(r: &Report) -> Document {
    let hours: Vec<String> = (0..24).map(|h| format!("{h}")).collect();
    // Occupancy over the day: average per local hour of day across the period.
    let mut by_hod = [(0.0f64, 0u32); 24];
    for row in &r.by_hour {
        if let Some(h) = row.key.get(11..13).and_then(|h| h.parse::<usize>().ok())
            && h < 24
        {
            by_hod[h].0 += row.average;
            by_hod[h].1 += 1;
        }
    }
    let hod: Vec<f64> = by_hod
        .iter()
        .map(|(s, n)| if *n == 0 { f64::NAN } else { s / f64::from(*n) })
        .collect();
    let mut blocks = vec![
        Block::Heading("Summary".into()),
        Block::Table {
            headers: vec!["Measure".into(), "Value".into()],
            rows: summary(r),
            right: vec![false, true],
        },
        Block::LineChart {
            title: "Occupancy over the day (average vehicles by hour)".into(),
            labels: hours.clone(),
            series: vec![Series {
                name: "vehicles".into(),
                values: hod,
            }],
            y_label: "vehicles".into(),
        },
        Block::BarChart {
            title: format!("Revenue by method ({})", r.currency),
            labels: r.revenue_by_method.iter().map(|m| m.key.clone()).collect(),
            series: vec![Series {
                name: r.currency.clone(),
                values: r
                    .revenue_by_method
                    .iter()
                    .map(|m| amount(&m.amount))
                    .collect(),
            }],
            y_label: r.currency.clone(),
        },
        Block::BarChart {
            title: format!("Revenue by vehicle class ({})", r.currency),
            labels: r.revenue_by_class.iter().map(|m| m.key.clone()).collect(),
            series: vec![Series {
                name: r.currency.clone(),
                values: r
                    .revenue_by_class
                    .iter()
                    .map(|m| amount(&m.amount))
                    .collect(),
            }],
            y_label: r.currency.clone(),
        },
        Block::Heatmap {
            title: "Peak hours: average vehicles by weekday and hour".into(),
            rows: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                .iter()
                .map(|d| d.to_string())
                .collect(),
            columns: hours,
            values: r.peak_hours.clone(),
        },
    ];
    if r.revenue_by_day.len() > 1 {
        blocks.push(Block::BarChart {
            title: format!("Revenue per day ({})", r.currency),
            labels: r
                .revenue_by_day
                .iter()
                .map(|m| m.key.get(8..10).unwrap_or(&m.key).to_string())
                .collect(),
            series: vec![Series {
                name: r.currency.clone(),
                values: r.revenue_by_day.iter().map(|m| amount(&m.amount)).collect(),
            }],
            y_label: r.currency.clone(),
        });
    }
    blocks.extend([
        Block::Heading("Revenue".into()),
        money_table(&r.revenue_by_day, "Day"),
        money_table(&r.revenue_by_method, "Method"),
        money_table(&r.revenue_by_class, "Vehicle class"),
        money_table(&r.charges_by_line, "Tariff line"),
        Block::Heading("Occupancy".into()),
        occupancy_table(&r.by_level, "Level"),
        occupancy_table(&r.by_zone, "Zone"),
        occupancy_table(&r.by_class, "Vehicle class"),
    ]);
    Document {
        title: format!("{} — {} report", r.name, r.period),
        subtitle: Some(format!("{} to {}", r.from_local, r.to_local)),
        blocks,
    }
}

fn summary(r: &Report) -> Vec<Vec<String>> {
    let res = |k: &str| r.reservations.get(k).copied().unwrap_or(0).to_string();
    [
        ("Spots", r.spots.to_string()),
        ("Average vehicles", format!("{:.1}", r.occupancy_average)),
        (
            "Peak vehicles",
            format!(
                "{}{}",
                r.occupancy_peak,
                r.occupancy_peak_at
                    .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ),
        ),
        ("Revenue", format!("{} {}", r.revenue_total, r.currency)),
        ("Refunds", format!("{} {}", r.refunds_total, r.currency)),
        ("Entries", r.entries.to_string()),
        ("Exits", r.exits.to_string()),
        ("Average stay", format!("{:.0} min", r.average_stay_minutes)),
        ("Turnover", format!("{:.2} per spot per day", r.turnover)),
        ("Lost tickets", r.lost_tickets.to_string()),
        ("Voided stays", r.voided.to_string()),
        (
            "Reservations (arrived / no-show / cancelled / booked)",
            format!(
                "{} / {} / {} / {}",
                res("arrived"),
                res("no_show"),
                res("cancelled"),
                res("booked")
            ),
        ),
        ("No-show rate", format!("{:.1} %", r.no_show_rate * 100.0)),
        ("No-show fees", format!("{} {}", r.no_show_fees, r.currency)),
        ("Permit stays", r.permit_stays.to_string()),
        (
            "Permits used / active",
            format!("{} / {}", r.permits_used, r.permits_active),
        ),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect()
}

/// The report as text for a terminal.
pub fn text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {} report", r.name, r.period);
    let _ = writeln!(s, "{} to {}\n", r.from_local, r.to_local);
    for row in summary(r) {
        let _ = writeln!(s, "  {:<55} {}", row[0], row[1]);
    }
    let sections: [(&str, &[MoneyRow]); 4] = [
        ("Revenue per day", &r.revenue_by_day),
        ("Revenue by method", &r.revenue_by_method),
        ("Revenue by vehicle class", &r.revenue_by_class),
        ("Charges by tariff line", &r.charges_by_line),
    ];
    for (title, rows) in sections {
        let _ = writeln!(s, "\n{title}");
        for m in rows {
            let _ = writeln!(s, "  {:<30} {:>6} {:>12}", m.key, m.count, m.amount);
        }
    }
    let occ: [(&str, &[OccupancyRow]); 3] = [
        ("Occupancy by level", &r.by_level),
        ("Occupancy by zone", &r.by_zone),
        ("Occupancy by vehicle class", &r.by_class),
    ];
    for (title, rows) in occ {
        let _ = writeln!(s, "\n{title} (average, peak)");
        for o in rows {
            let _ = writeln!(s, "  {:<30} {:>8.1} {:>6}", o.key, o.average, o.peak);
        }
    }
    s
}

fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

/// The report as CSV: one table, `section,key,count_or_spots,value,peak`.
pub fn csv(r: &Report) -> String {
    let mut s = String::from("section,key,count,value,peak\n");
    let mut line = |sec: &str, key: &str, count: String, value: String, peak: String| {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            sec,
            csv_field(key),
            count,
            csv_field(&value),
            peak
        );
    };
    for row in summary(r) {
        line(
            "summary",
            &row[0],
            String::new(),
            row[1].clone(),
            String::new(),
        );
    }
    for (sec, rows) in [
        ("revenue_by_day", &r.revenue_by_day),
        ("revenue_by_method", &r.revenue_by_method),
        ("revenue_by_class", &r.revenue_by_class),
        ("charges_by_line", &r.charges_by_line),
    ] {
        for m in rows {
            line(
                sec,
                &m.key,
                m.count.to_string(),
                m.amount.clone(),
                String::new(),
            );
        }
    }
    for (sec, rows) in [
        ("occupancy_by_hour", &r.by_hour),
        ("occupancy_by_level", &r.by_level),
        ("occupancy_by_zone", &r.by_zone),
        ("occupancy_by_class", &r.by_class),
    ] {
        for o in rows {
            line(
                sec,
                &o.key,
                o.spots.to_string(),
                format!("{:.2}", o.average),
                o.peak.to_string(),
            );
        }
    }
    s
}

/// The Z-report as a one-page PDF.
pub fn z_document(z: &ZReport) -> Document {
    let s = &z.shift;
    Document {
        title: format!("{} — Z-report, shift {}", z.lot, s.id),
        subtitle: Some(format!(
            "{} · opened {} · closed {}",
            s.cashier,
            z.opened_local,
            z.closed_local.as_deref().unwrap_or("(still open)")
        )),
        blocks: vec![
            Block::Table {
                headers: vec![
                    "Kind".into(),
                    "Method".into(),
                    "Count".into(),
                    "Total".into(),
                ],
                rows: z
                    .lines
                    .iter()
                    .map(|l| {
                        vec![
                            l.kind.replace('_', "-"),
                            l.method.clone(),
                            l.count.to_string(),
                            l.total.clone(),
                        ]
                    })
                    .collect(),
                right: vec![false, false, true, true],
            },
            Block::Table {
                headers: vec!["Cash drawer".into(), s.currency.clone()],
                rows: vec![
                    vec!["Float".into(), s.float.clone()],
                    vec!["Cash in".into(), z.cash_in.clone()],
                    vec!["Cash out (refunds)".into(), z.cash_out.clone()],
                    vec!["Expected".into(), s.expected.clone()],
                    vec!["Counted".into(), s.counted.clone().unwrap_or("-".into())],
                    vec![
                        "Over (+) / short (-)".into(),
                        s.over_short.clone().unwrap_or("-".into()),
                    ],
                ],
                right: vec![false, true],
            },
        ],
    }
}

/// A booth payment's receipt as a receipt printer prints it: 42 columns.
pub fn payment_receipt(lot: &str, at_local: &str, p: &gatehouse_core::payments::Paid) -> String {
    const W: usize = gatehouse_core::shifts::RECEIPT_WIDTH;
    let row = gatehouse_core::shifts::receipt_row;
    let mut out = format!(
        "{:^W$}\n{:^W$}\n{}\n",
        lot.chars().take(W).collect::<String>(),
        "RECEIPT",
        "-".repeat(W)
    );
    out.push_str(&row("Ticket", &p.ticket));
    out.push_str(&row("Date", at_local));
    out.push_str(&row("Method", p.method.as_str()));
    out.push_str(&row("Paid", &format!("{} {}", p.amount, p.currency)));
    out.push_str(&row("Tendered", &format!("{} {}", p.tendered, p.currency)));
    out.push_str(&row("Change", &format!("{} {}", p.change, p.currency)));
    out.push_str(&row("Still owed", &format!("{} {}", p.due, p.currency)));
    out.push_str(&format!(
        "{}\n{:^W$}\n",
        "-".repeat(W),
        format!("Payment {}", p.payment)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn a_csv_field_with_a_comma_or_quote_stays_one_field() {
        assert_eq!(csv_field("P1/A"), "P1/A");
        assert_eq!(csv_field("card, contactless"), "\"card, contactless\"");
        assert_eq!(csv_field("the \"blue\" zone"), "\"the \"\"blue\"\" zone\"");
    }
}
