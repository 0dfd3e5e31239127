//! Reading one plate crop with an ONNX model in the fast-plate-ocr convention: uint8 NHWC input
//! of a fixed size, output slots × alphabet of softmax probabilities, a pad character for the
//! slots after the end of the plate. The input size, alphabet and slots come from the model
//! config beside the .onnx file ([`PlateConfig`]).

use crate::config::{ColorMode, PlateConfig};
use crate::error::{AnprError, Result};
use crate::slots::SlotProbs;
use image::imageops::FilterType;
use image::{GrayImage, RgbImage, imageops};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::*;

/// One character of a read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CharRead {
    pub ch: char,
    pub confidence: f32,
}

/// What the model read on one crop.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateRead {
    /// The characters, pads dropped.
    pub text: String,
    /// The model's probability that the whole text is right: the product over all slots (pads
    /// included, since the length matters too) of the chosen character's probability.
    pub confidence: f32,
    pub chars: Vec<CharRead>,
    /// Everything the model said, for closed-set matching.
    pub probs: SlotProbs,
}

impl PlateRead {
    /// The read limited to the plate layouts in `formats` (see
    /// [`crate::slots::decode_with_formats`]); unchanged when no format is given.
    pub fn constrained(self, formats: &[crate::text::PlateFormat]) -> PlateRead {
        match crate::slots::decode_with_formats(&self.probs, formats) {
            Some((text, confidence)) if text != self.text => {
                let mut chars: Vec<CharRead> = Vec::new();
                for (slot, ch) in text.chars().enumerate() {
                    chars.push(CharRead {
                        ch,
                        confidence: self.probs.prob(slot, ch),
                    });
                }
                PlateRead {
                    text,
                    confidence,
                    chars,
                    probs: self.probs,
                }
            }
            _ => self,
        }
    }

    fn from_probs(probs: SlotProbs) -> PlateRead {
        let best = probs.best();
        let confidence = best.iter().map(|(_, p)| *p).product::<f32>();
        let chars: Vec<CharRead> = best
            .iter()
            .filter(|(c, _)| *c != probs.pad())
            .map(|(c, p)| CharRead {
                ch: *c,
                confidence: *p,
            })
            .collect();
        PlateRead {
            text: chars.iter().map(|c| c.ch).collect(),
            confidence,
            chars,
            probs,
        }
    }
}

/// A loaded plate-reading model, ready to run (on the calling thread, one core).
#[derive(Debug, Clone)]
pub struct PlateReader {
    plan: Arc<TypedRunnableModel>,
    /// Run states kept between reads (each holds the model's buffers), one per concurrent
    /// reader; spawning a fresh one per read costs about a tenth of a read.
    states: Arc<Mutex<Vec<TypedSimpleState>>>,
    config: PlateConfig,
    alphabet: Arc<[char]>,
}

impl PlateReader {
    /// Loads `model.onnx` and the config beside it (`model.yaml`, else `model.yml`).
    pub fn load(onnx: &Path) -> Result<PlateReader> {
        let config_path = ["yaml", "yml"]
            .iter()
            .map(|ext| onnx.with_extension(ext))
            .find(|p| p.exists())
            .unwrap_or_else(|| onnx.with_extension("yaml"));
        let config = PlateConfig::load(&config_path)?;
        let bytes = std::fs::read(onnx).map_err(|e| {
            AnprError::model(format!(
                "cannot read the plate model {}: {e} (models ship in models/; give another with \
                 --model)",
                onnx.display()
            ))
        })?;
        PlateReader::from_bytes(&onnx.display().to_string(), &bytes, config)
    }

    /// Builds a reader from the bytes of an .onnx file; `name` names it in errors.
    pub fn from_bytes(name: &str, onnx: &[u8], config: PlateConfig) -> Result<PlateReader> {
        tune_tract_for_this_cpu();
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            AnprError::model(format!("{name}: {what}: {e}"))
        };
        let model = tract_onnx::onnx()
            .model_for_read(&mut &onnx[..])
            .map_err(|e| bad("not a readable ONNX model (corrupt or cut off?)", &e))?;
        let shape = config.input_shape();
        let model = model
            .with_input_fact(0, u8::fact(shape).into())
            .map_err(|e| bad("its input cannot take uint8 NHWC", &e))?;
        let model = model.into_optimized().map_err(|e| {
            bad(
                &format!(
                    "it does not run on a uint8 {shape:?} input as its config says (fast-plate-ocr \
                     models take uint8 NHWC)"
                ),
                &e,
            )
        })?;
        let out_len: usize = model
            .output_fact(0)
            .map_err(|e| bad("it has no output", &e))?
            .shape
            .as_concrete()
            .map(|dims| dims.iter().product())
            .ok_or_else(|| AnprError::model(format!("{name}: its output size is not fixed")))?;
        let want = config.max_plate_slots * config.alphabet.len();
        if out_len != want {
            return Err(AnprError::model(format!(
                "{name}: the model outputs {out_len} numbers, but its config says {} slots × {} \
                 characters = {want}: the config does not belong to this model",
                config.max_plate_slots,
                config.alphabet.len()
            )));
        }
        let plan = model
            .into_runnable()
            .map_err(|e| bad("cannot be prepared to run", &e))?;
        let reader = PlateReader {
            plan,
            states: Arc::new(Mutex::new(Vec::new())),
            alphabet: config.alphabet.clone().into(),
            config,
        };
        // A first run catches a model that loads but cannot run.
        reader.read(&RgbImage::new(8, 4))?;
        Ok(reader)
    }

    pub fn config(&self) -> &PlateConfig {
        &self.config
    }

    /// Reads one plate crop.
    pub fn read(&self, crop: &RgbImage) -> Result<PlateRead> {
        let input = self.input(crop)?;
        let pooled = self.states.lock().ok().and_then(|mut pool| pool.pop());
        let mut state = match pooled {
            Some(state) => state,
            None => self.plan.spawn().map_err(run_failed)?,
        };
        let outputs = state.run(tvec!(input.into())).map_err(run_failed)?;
        if let Ok(mut pool) = self.states.lock() {
            pool.push(state);
        }
        let out = outputs
            .first()
            .ok_or_else(|| AnprError::model("the plate model gave no output"))?;
        let not_f32 = |e: TractError| {
            AnprError::model(format!("the plate model's output is not f32 numbers: {e}"))
        };
        let view = out.try_as_plain_ram().map_err(not_f32)?;
        let values = view.as_slice::<f32>().map_err(not_f32)?;
        let width = self.alphabet.len();
        let rows = values
            .chunks(width)
            .map(|row| {
                let sum: f32 = row.iter().sum();
                if (sum - 1.0).abs() < 0.02 && row.iter().all(|p| *p >= 0.0) {
                    row.to_vec()
                } else {
                    softmax(row)
                }
            })
            .collect();
        Ok(PlateRead::from_probs(SlotProbs::new(
            self.alphabet.clone(),
            self.config.pad_char,
            rows,
        )?))
    }

    /// The crop resized (or letterboxed) to the model's input, as a uint8 NHWC tensor.
    fn input(&self, crop: &RgbImage) -> Result<Tensor> {
        if crop.width() == 0 || crop.height() == 0 {
            return Err(AnprError::image("the plate crop is empty"));
        }
        let c = &self.config;
        let (w, h) = (c.img_width, c.img_height);
        let sized = if c.keep_aspect_ratio {
            let scale = (w as f32 / crop.width() as f32).min(h as f32 / crop.height() as f32);
            let sw = ((crop.width() as f32 * scale).round() as u32).clamp(1, w);
            let sh = ((crop.height() as f32 * scale).round() as u32).clamp(1, h);
            let small = resize(crop, sw, sh, c.interpolation)?;
            let mut canvas = RgbImage::from_pixel(w, h, image::Rgb(c.padding_color));
            imageops::overlay(
                &mut canvas,
                &small,
                i64::from((w - sw) / 2),
                i64::from((h - sh) / 2),
            );
            canvas
        } else {
            resize(crop, w, h, c.interpolation)?
        };
        let data = match c.color_mode {
            ColorMode::Rgb => sized.into_raw(),
            ColorMode::Grayscale => {
                let gray: GrayImage = imageops::grayscale(&sized);
                gray.into_raw()
            }
        };
        Tensor::from_shape(&c.input_shape(), &data)
            .map_err(|e| AnprError::model(format!("cannot build the model input: {e}")))
    }
}

/// `crop` resized to `w` × `h` with `filter`, by fast_image_resize: the same convolution as
/// `image::imageops::resize` (a filter widened when shrinking, so that every source pixel counts),
/// in SIMD. In a perf profile of `gatehouse anpr bench`, `imageops::resize` and its `roundf` calls
/// had taken 14 % of the samples, a quarter of what tract's matrix kernels took.
fn resize(crop: &RgbImage, w: u32, h: u32, filter: FilterType) -> Result<RgbImage> {
    use fast_image_resize as fir;
    let alg = match filter {
        FilterType::Nearest => fir::ResizeAlg::Nearest,
        FilterType::Triangle => fir::ResizeAlg::Convolution(fir::FilterType::Bilinear),
        FilterType::CatmullRom => fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom),
        FilterType::Gaussian => fir::ResizeAlg::Convolution(fir::FilterType::Gaussian),
        FilterType::Lanczos3 => fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3),
    };
    let failed = |e: &dyn std::fmt::Display| {
        AnprError::image(format!(
            "cannot resize the {}×{} plate crop to {w}×{h}: {e}",
            crop.width(),
            crop.height()
        ))
    };
    // In float, like imageops: fast_image_resize's u8 path rounds to 8 bits between its two
    // passes, which changed one real crop's read (il372, T299066 → T29K9066).
    let pixels: Vec<fir::pixels::F32x3> = crop
        .pixels()
        .map(|p| fir::pixels::F32x3::new(p.0.map(f32::from)))
        .collect();
    let src = fir::images::ImageRef::from_pixels(crop.width(), crop.height(), &pixels)
        .map_err(|e| failed(&e))?;
    let mut dst = fir::images::Image::new(w, h, fir::PixelType::F32x3);
    fir::Resizer::new()
        .resize(&src, &mut dst, &fir::ResizeOptions::new().resize_alg(alg))
        .map_err(|e| failed(&e))?;
    let bytes: Vec<u8> = dst
        .buffer()
        .chunks_exact(4)
        .map(|b| {
            let v = f32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            v.round().clamp(0.0, 255.0) as u8
        })
        .collect();
    RgbImage::from_raw(w, h, bytes).ok_or_else(|| failed(&"the resized image has the wrong size"))
}

/// On AMD processors tract's 512-bit matrix kernels read a plate slower than its 256-bit FMA
/// ones (measured on an AMD EPYC with `gatehouse anpr bench`: 1.5–1.8 ms against 2.0–2.1 ms
/// for the model alone), so gatehouse takes AVX-512 out of tract's choice there. This sits below
/// the environment: `TRACT_CPU_ISA` set by an operator (e.g. `+avx512f`) wins. It must run before
/// tract first probes the processor, which it does once per process.
fn tune_tract_for_this_cpu() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let amd = cfg!(target_arch = "x86_64")
            && std::fs::read_to_string("/proc/cpuinfo")
                .map(|info| {
                    info.lines()
                        .any(|l| l.starts_with("vendor_id") && l.ends_with("AuthenticAMD"))
                })
                .unwrap_or(false);
        if amd {
            // Refused only if another config in this process already set it differently,
            // in which case that choice stands.
            let _ = tract_onnx::tract_core::knobs::set_config_global("TRACT_CPU_ISA", "-avx512f");
        }
    });
}

/// The error for a model that loaded but failed while reading.
fn run_failed(e: TractError) -> AnprError {
    AnprError::model(format!("the plate model failed to run: {e}"))
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum.max(f32::MIN_POSITIVE)).collect()
}

impl PlateReader {
    /// Runs the model alone (no resizing) `runs` times on one prepared input and returns each
    /// run's duration: for comparing tract with another runtime on the same model.
    pub fn time_model_runs(
        &self,
        crop: &RgbImage,
        runs: usize,
    ) -> Result<Vec<std::time::Duration>> {
        let input: TValue = self.input(crop)?.into();
        let mut state = self
            .plan
            .spawn()
            .map_err(|e| AnprError::model(format!("the plate model cannot start: {e}")))?;
        // Untimed warm-up runs first, as models/train/ort_bench.py gives onnxruntime.
        for _ in 0..WARM_UP_RUNS {
            state.run(tvec!(input.clone())).map_err(run_failed)?;
        }
        (0..runs)
            .map(|_| {
                let started = std::time::Instant::now();
                state.run(tvec!(input.clone())).map_err(run_failed)?;
                Ok(started.elapsed())
            })
            .collect()
    }
}

/// The untimed runs before [`PlateReader::time_model_runs`] times any.
const WARM_UP_RUNS: usize = 20;

/// Where one step of the plate model spends its time: see [`PlateReader::time_model_ops`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpTime {
    /// The step's name in the optimised plan (its ONNX node name, with tract's suffixes).
    pub node: String,
    /// What the step does (tract's op name, e.g. `Conv`, `OptMatMul`, `Softmax`).
    pub op: String,
    /// Mean time per run, in milliseconds.
    pub ms: f64,
    /// tract's own description of the step: for a matrix product its m, k, n and the kernel
    /// tract picked for them.
    pub detail: String,
}

impl PlateReader {
    /// Runs the model `runs` times on one crop, timing each step of tract's optimised plan, and
    /// returns the steps slowest first: to see where tract spends a read.
    pub fn time_model_ops(&self, crop: &RgbImage, runs: usize) -> Result<Vec<OpTime>> {
        let input: TValue = self.input(crop)?.into();
        let mut state = self.plan.spawn().map_err(run_failed)?;
        let mut spent: Vec<std::time::Duration> = Vec::new();
        for _ in 0..runs.max(1) {
            state
                .run_plan_with_eval(tvec!(input.clone()), |ctx, op_state, node, inputs| {
                    let started = std::time::Instant::now();
                    let outputs = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                    if spent.len() <= node.id {
                        spent.resize(node.id + 1, std::time::Duration::ZERO);
                    }
                    spent[node.id] += started.elapsed();
                    outputs
                })
                .map_err(run_failed)?;
        }
        let model = self.plan.model();
        let mut times: Vec<OpTime> = spent
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_zero())
            .map(|(id, d)| {
                let node = model.node(id);
                OpTime {
                    node: node.name.clone(),
                    op: node.op().name().to_string(),
                    ms: d.as_secs_f64() * 1000.0 / runs.max(1) as f64,
                    detail: node.op().info().unwrap_or_default().join("; "),
                }
            })
            .collect();
        times.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        Ok(times)
    }
}

/// The plate model that ships in models/, built into the binary so the demo lot and a fresh
/// install read plates with no file to find.
const EMBEDDED_MODEL: &[u8] = include_bytes!("../../models/plate_ocr.onnx");
const EMBEDDED_CONFIG: &str = include_str!("../../models/plate_ocr.yaml");

impl PlateReader {
    /// The model built into gatehouse (models/plate_ocr.onnx with its .yaml).
    pub fn embedded() -> Result<PlateReader> {
        let config = PlateConfig::parse("models/plate_ocr.yaml (built in)", EMBEDDED_CONFIG)?;
        PlateReader::from_bytes("models/plate_ocr.onnx (built in)", EMBEDDED_MODEL, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_drops_pads_and_multiplies_confidences() {
        let probs = SlotProbs::from_text("AB1", "AB1_".chars().collect(), '_', 5, 0.9);
        let read = PlateRead::from_probs(probs);
        assert_eq!(read.text, "AB1");
        assert_eq!(read.chars.len(), 3);
        assert!((read.confidence - 0.9f32.powi(5)).abs() < 1e-5);
    }

    #[test]
    fn a_resized_crop_keeps_its_colours_where_they_were() {
        // An odd-sized crop, red on its left half and blue on its right, shrunk and stretched.
        let crop = RgbImage::from_fn(301, 97, |x, _| {
            if x < 150 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([20, 40, 220])
            }
        });
        for (w, h) in [(128, 64), (640, 200)] {
            let small = resize(&crop, w, h, FilterType::Triangle).expect("resized");
            assert_eq!(small.dimensions(), (w, h));
            assert_eq!(small.get_pixel(2, h / 2).0, [200, 30, 30]);
            assert_eq!(small.get_pixel(w - 3, h / 2).0, [20, 40, 220]);
        }
        let nearest = resize(&crop, 128, 64, FilterType::Nearest).expect("resized");
        assert_eq!(nearest.get_pixel(0, 0).0, [200, 30, 30]);
    }

    #[test]
    fn logits_are_turned_into_probabilities() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
