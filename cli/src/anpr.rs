//! `gatehouse anpr …`: read plates in pictures, measure reading against ground truth, benchmark
//! the reader, and render synthetic plates and scenes. Thin: the pipeline is gatehouse-anpr.

use crate::bench_ops::percentile;
use crate::output::Out;
use clap::{Args, Subcommand, ValueEnum};
use gatehouse_anpr::text::formats_for;
use gatehouse_anpr::{Anpr, AnprError, FoundPlate, PlateReader, load_image, normalise};
use gatehouse_core::{Error, ErrorKind};
use gatehouse_sim::Rng;
use gatehouse_sim::scene::{PlateStyle, Renderer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum AnprCmd {
    /// Read the plates in pictures (camera frames or plate crops, PNG or JPEG).
    Read(ReadArgs),
    /// Measure reading on a folder of plate pictures with a groundtruth.csv
    /// (`file,plate` or `file,state,plate`): exact-match and per-character accuracy.
    Eval(EvalArgs),
    /// Benchmark: OCR ms per crop, full-frame ms at 1280×720 (one core), and onnxruntime on the
    /// same model for comparison when it is installed (models/train/setup.sh).
    Bench(BenchArgs),
    /// Render a synthetic plate, or a street scene with plates, to a PNG.
    Render(RenderArgs),
}

#[derive(Args)]
pub struct ModelArg {
    /// A plate-reading .onnx in the fast-plate-ocr convention, with its .yaml config beside it;
    /// default: the model built into gatehouse (models/plate_ocr.onnx).
    #[arg(long, env = "GATEHOUSE_PLATE_MODEL", value_name = "FILE")]
    model: Option<PathBuf>,
    /// Read only texts that fit this country's plate layouts (br, nl, fr, it, es; us has free
    /// layouts).
    #[arg(long, env = "GATEHOUSE_PLATE_COUNTRY", value_name = "CC")]
    country: Option<String>,
}

impl ModelArg {
    fn load(&self) -> Result<Anpr, Error> {
        let mut anpr = match &self.model {
            Some(path) => Anpr::load(path).map_err(anpr_error)?,
            None => PlateReader::embedded().map(Anpr::new).map_err(anpr_error)?,
        };
        if let Some(cc) = &self.country {
            anpr.formats = formats_for(cc);
            if anpr.formats.is_empty() && !cc.eq_ignore_ascii_case("us") {
                return Err(Error::invalid(format!(
                    "--country {cc}: no plate layouts are known for it (known: br, nl, fr, it, \
                     es; us reads any layout)"
                )));
            }
        }
        Ok(anpr)
    }
}

#[derive(Args)]
pub struct ReadArgs {
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArg,
    /// In a frame, a read below this confidence (0 to 1) is not taken for a plate.
    #[arg(long, default_value_t = 0.3)]
    min_confidence: f32,
}

#[derive(Args)]
pub struct EvalArgs {
    dir: PathBuf,
    #[command(flatten)]
    model: ModelArg,
    /// Print this many of the misread plates.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArg,
    /// Plate crops to time the reader on (default: rendered ones).
    #[arg(long, value_name = "DIR")]
    crops: Option<PathBuf>,
    /// Reads to time.
    #[arg(long, default_value_t = 500)]
    reads: usize,
    /// Frames to time.
    #[arg(long, default_value_t = 50)]
    frames: usize,
    /// The Python with onnxruntime for the comparison.
    #[arg(
        long,
        env = "GATEHOUSE_TRAIN_PYTHON",
        default_value = "~/.cache/gatehouse/train-venv/bin/python"
    )]
    python: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Style {
    Us,
    Eu,
    Br,
}

impl From<Style> for PlateStyle {
    fn from(s: Style) -> PlateStyle {
        match s {
            Style::Us => PlateStyle::Us,
            Style::Eu => PlateStyle::Eu,
            Style::Br => PlateStyle::Br,
        }
    }
}

#[derive(Args)]
pub struct RenderArgs {
    /// The plate texts; a scene gets one car per plate.
    #[arg(required = true, value_name = "TEXT")]
    texts: Vec<String>,
    #[arg(long, value_enum, default_value = "us")]
    style: Style,
    /// Only the plate (a crop), not a scene.
    #[arg(long)]
    crop: bool,
    /// Plate width in pixels.
    #[arg(long, default_value_t = 240)]
    plate_width: u32,
    /// Plate tilt in degrees.
    #[arg(long, default_value_t = 0.0)]
    tilt: f32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

pub fn anpr_error(e: AnprError) -> Error {
    let kind = match e.kind {
        gatehouse_anpr::ErrorKind::Model | gatehouse_anpr::ErrorKind::Config => ErrorKind::Config,
        gatehouse_anpr::ErrorKind::Image | gatehouse_anpr::ErrorKind::Io => ErrorKind::InvalidInput,
    };
    Error::new(kind, e.message)
}

pub fn run(cmd: &AnprCmd, out: &Out) -> Result<(), Error> {
    match cmd {
        AnprCmd::Read(a) => read(a, out),
        AnprCmd::Eval(a) => eval(a, out),
        AnprCmd::Bench(a) => bench(a, out),
        AnprCmd::Render(a) => render(a, out),
    }
}

fn plate_json(p: &FoundPlate) -> Value {
    json!({
        "text": p.text,
        "confidence": round3(p.confidence),
        "chars": p.chars.iter().map(|c| json!({"char": c.ch.to_string(), "confidence": round3(c.confidence)})).collect::<Vec<_>>(),
        "bbox": p.bbox.to_array(),
    })
}

fn round3(v: f32) -> f64 {
    (f64::from(v) * 1000.0).round() / 1000.0
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn read(a: &ReadArgs, out: &Out) -> Result<(), Error> {
    let mut anpr = a.model.load()?;
    anpr.min_confidence = a.min_confidence;
    for path in &a.images {
        let image = load_image(path).map_err(anpr_error)?;
        let started = Instant::now();
        let plates = anpr.read_image(&image).map_err(anpr_error)?;
        let took = started.elapsed();
        let v = json!({
            "image": path.display().to_string(),
            "plates": plates.iter().map(plate_json).collect::<Vec<_>>(),
            "ms": ms(took),
        });
        out.value(&v, || {
            let found: Vec<String> = plates
                .iter()
                .map(|p| {
                    let [x, y, w, h] = p.bbox.to_array();
                    format!(
                        "{} ({:.0}%) at {x},{y} {w}x{h}",
                        p.text,
                        p.confidence * 100.0
                    )
                })
                .collect();
            let found = if found.is_empty() {
                "no plate".to_string()
            } else {
                found.join("; ")
            };
            format!("{}: {found} in {:.1} ms", path.display(), ms(took))
        });
    }
    Ok(())
}

/// `file → plate` from `groundtruth.csv`.
fn ground_truth(dir: &Path) -> Result<Vec<(PathBuf, String)>, Error> {
    let csv = dir.join("groundtruth.csv");
    let text = std::fs::read_to_string(&csv).map_err(|e| {
        Error::invalid(format!(
            "cannot read {}: {e} (anpr eval needs a groundtruth.csv with file,plate or \
             file,state,plate lines)",
            csv.display()
        ))
    })?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.iter().all(|f| f.is_empty()) || (n == 0 && fields[0] == "file") {
            continue;
        }
        let (file, plate) = match fields.as_slice() {
            [file, plate] | [file, _, plate] => (*file, *plate),
            _ => {
                return Err(Error::invalid(format!(
                    "{}: line {}: expected file,plate or file,state,plate",
                    csv.display(),
                    n + 1
                )));
            }
        };
        rows.push((dir.join(file), normalise(plate)));
    }
    Ok(rows)
}

/// Edit distance between two plate texts.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut prev = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let cur = row[j];
            row[j] = (prev + usize::from(a[i - 1] != b[j - 1]))
                .min(row[j] + 1)
                .min(row[j - 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn eval(a: &EvalArgs, out: &Out) -> Result<(), Error> {
    let anpr = a.model.load()?;
    let truth = ground_truth(&a.dir)?;
    if truth.is_empty() {
        return Err(Error::invalid(format!(
            "{} lists no pictures",
            a.dir.join("groundtruth.csv").display()
        )));
    }
    let (mut exact, mut chars, mut chars_right) = (0usize, 0usize, 0usize);
    let mut misread = Vec::new();
    let mut confusions: BTreeMap<(char, char), usize> = BTreeMap::new();
    let mut took = Duration::ZERO;
    for (path, want) in &truth {
        let image = load_image(path).map_err(anpr_error)?;
        let started = Instant::now();
        let plates = anpr.read_image(&image).map_err(anpr_error)?;
        took += started.elapsed();
        let got = plates.first().map(|p| p.text.clone()).unwrap_or_default();
        chars += want.chars().count();
        chars_right += want
            .chars()
            .count()
            .saturating_sub(edit_distance(want, &got));
        if &got == want {
            exact += 1;
        } else {
            if got.chars().count() == want.chars().count() {
                for (w, g) in want.chars().zip(got.chars()).filter(|(w, g)| w != g) {
                    *confusions.entry((w, g)).or_default() += 1;
                }
            }
            misread.push((path.clone(), want.clone(), got));
        }
    }
    let n = truth.len();
    let mut top: Vec<((char, char), usize)> = confusions.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    top.truncate(10);
    let v = json!({
        "dir": a.dir.display().to_string(),
        "images": n,
        "exact": exact,
        "exact_percent": pct(exact, n),
        "char_percent": pct(chars_right, chars),
        "ms_per_image": ms(took / n as u32),
        "confusions": top.iter().map(|((w, g), c)| json!({"truth": w.to_string(), "read": g.to_string(), "count": c})).collect::<Vec<_>>(),
        "misread": misread.iter().take(a.show).map(|(p, w, g)| json!({"file": p.file_name().map(|f| f.to_string_lossy().to_string()), "truth": w, "read": g})).collect::<Vec<_>>(),
    });
    out.value(&v, || {
        let mut s = format!(
            "{n} pictures: {exact} read exactly ({:.1}%), {:.1}% of characters right \
             (1 - edit distance / length), {:.2} ms per picture",
            pct(exact, n),
            pct(chars_right, chars),
            ms(took / n as u32)
        );
        if !top.is_empty() {
            let list: Vec<String> = top
                .iter()
                .map(|((w, g), c)| format!("{w}→{g} ×{c}"))
                .collect();
            s.push_str(&format!("\ncommonest confusions: {}", list.join(", ")));
        }
        for (p, w, g) in misread.iter().take(a.show) {
            s.push_str(&format!(
                "\n  {}: {w} read as {}",
                p.file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default(),
                if g.is_empty() { "nothing" } else { g }
            ));
        }
        s
    });
    Ok(())
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

fn percentiles(v: Vec<Duration>) -> Value {
    let mut sorted: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    sorted.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<Duration>() / v.len().max(1) as u32;
    json!({
        "p50_ms": percentile(&sorted, 0.5),
        "p99_ms": percentile(&sorted, 0.99),
        "mean_ms": ms(mean),
        "n": v.len(),
    })
}

fn bench(a: &BenchArgs, out: &Out) -> Result<(), Error> {
    let anpr = a.model.load()?;
    let renderer = Renderer::new().map_err(anpr_error)?;
    let mut rng = Rng::new(7);
    // Crops: from a folder, or rendered.
    let crops: Vec<image::RgbImage> = match &a.crops {
        Some(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| Error::invalid(format!("cannot list {}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("png" | "jpg" | "jpeg")
                    )
                })
                .collect();
            files.sort();
            files.truncate(200);
            files
                .iter()
                .map(|p| load_image(p).map_err(anpr_error))
                .collect::<Result<_, _>>()?
        }
        None => (0..50)
            .map(|i| renderer.plate(&format!("GH{:04}", i * 37), PlateStyle::Us, 320, &mut rng))
            .collect(),
    };
    if crops.is_empty() {
        return Err(Error::invalid("no crops to time"));
    }
    let reads: Vec<Duration> = (0..a.reads.max(1))
        .map(|i| {
            let started = Instant::now();
            anpr.read_crop(&crops[i % crops.len()])
                .map(|_| started.elapsed())
        })
        .collect::<Result<_, _>>()
        .map_err(anpr_error)?;
    // tract and onnxruntime take turns on the model alone, so that a slow spell of the machine
    // falls on both and not on one of them.
    let per_round = a.reads.max(1).div_ceil(MODEL_ROUNDS);
    let mut model_only = Vec::new();
    let mut ort: Result<(Vec<Duration>, Value), String> = Ok((Vec::new(), Value::Null));
    let mut round_ratios = Vec::new();
    for _ in 0..MODEL_ROUNDS {
        let tract_round = anpr
            .reader()
            .time_model_runs(&crops[0], per_round)
            .map_err(anpr_error)?;
        if let Ok((ort_all, version)) = &mut ort {
            match onnxruntime_runs(a, per_round) {
                Ok((ort_round, v)) => {
                    round_ratios.push(ratio(&tract_round, &ort_round));
                    ort_all.extend(ort_round);
                    *version = v;
                }
                Err(why) => ort = Err(why),
            }
        }
        model_only.extend(tract_round);
    }
    let steps = anpr
        .reader()
        .time_model_ops(&crops[0], a.reads.clamp(1, 200))
        .map_err(anpr_error)?;
    let slowest_steps: Vec<Value> = steps
        .iter()
        .take(8)
        .map(|s| {
            let ms = (s.ms * 1000.0).round() / 1000.0;
            json!({"step": s.node, "op": s.op, "ms": ms, "detail": s.detail})
        })
        .collect();
    let (frame, _) = renderer.scene(1280, 720, &[("GH4821", PlateStyle::Us, 200, 0.0)], 11);
    let (empty, _) = renderer.scene(1280, 720, &[], 12);
    let time_frames = |f: &image::RgbImage| -> Result<Vec<Duration>, Error> {
        (0..a.frames.max(1))
            .map(|_| {
                let started = Instant::now();
                anpr.read_frame(f)
                    .map(|_| started.elapsed())
                    .map_err(anpr_error)
            })
            .collect()
    };
    let with_plate = time_frames(&frame)?;
    let without = time_frames(&empty)?;
    let (onnxruntime_model_only, overall_ratio) = match &ort {
        Ok((ort_all, version)) => {
            let mut v = percentiles(ort_all.clone());
            v["onnxruntime"] = version.clone();
            (v, Some(ratio(&model_only, ort_all)))
        }
        Err(why) => (json!({"unavailable": why}), None),
    };
    let v = json!({
        "threads": 1,
        "ocr_per_crop": percentiles(reads),
        "ocr_model_only": percentiles(model_only),
        "tract_slowest_steps": slowest_steps,
        "frame_1280x720_with_plate": percentiles(with_plate),
        "frame_1280x720_no_plate": percentiles(without),
        "onnxruntime_model_only": onnxruntime_model_only,
        "tract_over_onnxruntime": overall_ratio,
        "tract_over_onnxruntime_by_round": round_ratios,
    });
    out.value(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

/// The rounds in which tract and onnxruntime take turns on the model alone.
const MODEL_ROUNDS: usize = 5;

/// tract's mean time over onnxruntime's, to two decimals.
fn ratio(tract: &[Duration], ort: &[Duration]) -> f64 {
    let mean =
        |v: &[Duration]| v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len().max(1) as f64;
    (mean(tract) / mean(ort) * 100.0).round() / 100.0
}

/// The same model run `runs` times by onnxruntime (Python, one thread), through
/// models/train/ort_bench.py: each run's duration, and onnxruntime's version.
fn onnxruntime_runs(a: &BenchArgs, runs: usize) -> Result<(Vec<Duration>, Value), String> {
    let python = match a.python.strip_prefix("~/") {
        Some(rest) => std::env::var("HOME")
            .map(|h| format!("{h}/{rest}"))
            .unwrap_or_else(|_| a.python.clone()),
        None => a.python.clone(),
    };
    let model = match &a.model.model {
        Some(m) => m.clone(),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/plate_ocr.onnx"
        )),
    };
    let script = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/train/ort_bench.py"
    ));
    let output = std::process::Command::new(&python)
        .arg(&script)
        .arg("--model")
        .arg(&model)
        .arg("--runs")
        .arg(runs.to_string())
        .output()
        .map_err(|e| {
            format!("cannot run {python}: {e} (models/train/setup.sh installs onnxruntime)")
        })?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let v: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("ort_bench.py printed no JSON: {e}"))?;
    let times = v
        .get("times_ms")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_f64)
                .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("{} printed no times_ms", script.display()))?;
    Ok((times, v.get("onnxruntime").cloned().unwrap_or(Value::Null)))
}

fn render(a: &RenderArgs, out: &Out) -> Result<(), Error> {
    let renderer = Renderer::new().map_err(anpr_error)?;
    let style: PlateStyle = a.style.into();
    let (image, boxes) = if a.crop {
        let plate = renderer.plate(&a.texts[0], style, a.plate_width, &mut Rng::new(a.seed));
        let (w, h) = (plate.width(), plate.height());
        (plate, vec![gatehouse_anpr::BBox { x: 0, y: 0, w, h }])
    } else {
        let plates: Vec<(&str, PlateStyle, u32, f32)> = a
            .texts
            .iter()
            .map(|t| (t.as_str(), style, a.plate_width, a.tilt))
            .collect();
        renderer.scene(1280, 720, &plates, a.seed)
    };
    image
        .save(&a.out)
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", a.out.display())))?;
    let v = json!({
        "out": a.out.display().to_string(),
        "width": image.width(),
        "height": image.height(),
        "plates": a.texts.iter().zip(&boxes).map(|(t, b)| json!({"text": normalise(t), "bbox": b.to_array()})).collect::<Vec<_>>(),
    });
    out.value(&v, || {
        format!(
            "wrote {} ({}x{})",
            a.out.display(),
            image.width(),
            image.height()
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_changes() {
        assert_eq!(edit_distance("ABC123", "ABC123"), 0);
        assert_eq!(edit_distance("ABC123", "A8C123"), 1);
        assert_eq!(edit_distance("ABC123", "BC123"), 1);
        assert_eq!(edit_distance("", "AB"), 2);
    }
}
