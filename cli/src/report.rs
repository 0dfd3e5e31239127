//! `gatehouse report` (text, CSV, PDF with charts) and `gatehouse shift` with its Z-report.

use crate::ops::ShiftCmd;
use crate::output::Out;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use gatehouse_core::command as req;
use gatehouse_core::engine::Outcome;
use gatehouse_core::money::parse_amount;
use gatehouse_core::reports::{period_bounds, report};
use gatehouse_core::shifts::{ZReport, z_report};
use gatehouse_core::{Command, Error, Lot};
use gatehouse_paper::render_pdf;
use gatehouse_reports::{csv, document, text, z_document};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ReportArgs {
    /// day, week or month.
    #[arg(long, default_value = "day")]
    period: String,
    /// The first local day of the period (YYYY-MM-DD); default: the --at day.
    #[arg(long)]
    from: Option<String>,
    /// text, csv or pdf.
    #[arg(long, default_value = "text")]
    format: String,
    /// Write to this file (required for pdf).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", path.display())))
}

pub fn run(args: &ReportArgs, db: &Path, at: DateTime<Utc>, out: &Out) -> Result<(), Error> {
    let lot = Lot::open(db)?;
    let ctx = lot.context();
    let day = match &args.from {
        Some(d) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
            Error::invalid(format!(
                "--from '{d}' is not a date; write it like 2026-11-01"
            ))
        })?,
        None => at.with_timezone(&ctx.config.lot.timezone).date_naive(),
    };
    let (from, to) = period_bounds(ctx, &args.period, day)?;
    let started = std::time::Instant::now();
    let r = report(lot.connection(), ctx, &args.period, from, to)?;
    let took = started.elapsed();
    let bytes = match args.format.as_str() {
        "text" => {
            if out.json && args.out.is_none() {
                out.print_json(&r);
                return Ok(());
            }
            text(&r).into_bytes()
        }
        "csv" => csv(&r).into_bytes(),
        "pdf" => render_pdf(&document(&r)).map_err(|e| Error::invalid(e.message))?,
        f => {
            return Err(Error::invalid(format!(
                "'{f}' is not a report format: use text, csv or pdf"
            )));
        }
    };
    match &args.out {
        Some(path) => {
            write(path, &bytes)?;
            out.value(
                &serde_json::json!({"file": path.display().to_string(), "format": args.format, "bytes": bytes.len(), "computed_ms": took.as_millis()}),
                || format!("Wrote the {} report to {} ({} bytes; computed in {} ms).", args.period, path.display(), bytes.len(), took.as_millis()),
            );
        }
        None if args.format == "pdf" => {
            return Err(Error::invalid("a PDF report needs --out FILE"));
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

fn print_z(z: &ZReport, pdf: Option<&Path>, out: &Out) -> Result<(), Error> {
    if let Some(path) = pdf {
        let bytes = render_pdf(&z_document(z)).map_err(|e| Error::invalid(e.message))?;
        write(path, &bytes)?;
    }
    out.value(z, || z.receipt_text());
    Ok(())
}

pub fn shift(
    cmd: &ShiftCmd,
    db: &Path,
    out: &Out,
    execute: &dyn Fn(Command) -> Result<Outcome, Error>,
    close: &dyn Fn(req::CloseShift) -> Result<gatehouse_core::shifts::ShiftView, Error>,
) -> Result<(), Error> {
    match cmd {
        ShiftCmd::Open { float } => {
            out.outcome(&execute(Command::OpenShift(req::OpenShift {
                float: parse_amount(float)?,
            }))?);
            Ok(())
        }
        ShiftCmd::Close { counted, pdf } => {
            let s = close(req::CloseShift {
                counted: parse_amount(counted)?,
            })?;
            let lot = Lot::open(db)?;
            print_z(
                &z_report(lot.connection(), lot.context(), s.id)?,
                pdf.as_deref(),
                out,
            )
        }
        ShiftCmd::Report { shift, pdf } => {
            let lot = Lot::open(db)?;
            print_z(
                &z_report(lot.connection(), lot.context(), *shift)?,
                pdf.as_deref(),
                out,
            )
        }
    }
}
