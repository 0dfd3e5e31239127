//! gatehouse-anpr: licence-plate recognition on the CPU with tract-onnx. Find plates in a frame
//! ([`locate`]), straighten and crop each, read its characters with an ONNX model in the
//! fast-plate-ocr convention ([`ocr`]), and match a read against a known set of plates
//! ([`matching`]). Knows nothing about parking.

pub mod config;
pub mod error;
pub mod locate;
pub mod matching;
pub mod ocr;
pub mod slots;
pub mod text;

pub use config::{ColorMode, PlateConfig};
pub use error::{AnprError, ErrorKind, Result};
pub use locate::{BBox, Candidate, Locator};
pub use matching::{MatchRules, PlateMatch, match_plate};
pub use ocr::{CharRead, OpTime, PlateRead, PlateReader};
pub use slots::SlotProbs;
pub use text::{PlateFormat, normalise};

use image::RgbImage;
use std::path::Path;

/// A plate found in a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPlate {
    pub text: String,
    /// Probability that the whole text is right (see [`PlateRead::confidence`]).
    pub confidence: f32,
    pub chars: Vec<CharRead>,
    /// Where it is in the picture.
    pub bbox: BBox,
    /// Everything the reader said, for [`match_plate`].
    pub probs: SlotProbs,
}

/// The whole pipeline: localiser and reader.
#[derive(Debug, Clone)]
pub struct Anpr {
    reader: PlateReader,
    pub locator: Locator,
    /// A candidate read below this is not taken for a plate.
    pub min_confidence: f32,
    /// The plate layouts of the lot's country ([`text::formats_for`]); when set, every read is
    /// the most likely text that fits one of them.
    pub formats: Vec<PlateFormat>,
}

impl Anpr {
    pub fn new(reader: PlateReader) -> Anpr {
        Anpr {
            reader,
            locator: Locator::default(),
            min_confidence: 0.3,
            formats: Vec::new(),
        }
    }

    /// Loads a model file and the config beside it.
    pub fn load(onnx: &Path) -> Result<Anpr> {
        PlateReader::load(onnx).map(Anpr::new)
    }

    pub fn reader(&self) -> &PlateReader {
        &self.reader
    }

    /// Reads one tightly cropped plate.
    pub fn read_crop(&self, crop: &RgbImage) -> Result<PlateRead> {
        Ok(self.reader.read(crop)?.constrained(&self.formats))
    }

    /// Finds and reads the plates in a camera frame, most confident first. A frame with no
    /// plate gives an empty list.
    pub fn read_frame(&self, frame: &RgbImage) -> Result<Vec<FoundPlate>> {
        let mut found: Vec<FoundPlate> = Vec::new();
        for candidate in self.locator.locate(frame) {
            // Several crops around the character line; the most confident read wins.
            let mut best: Option<(PlateRead, BBox)> = None;
            for margin in locate::CROP_MARGINS {
                let bbox = candidate.crop_box(margin, frame.width(), frame.height());
                let read = self
                    .reader
                    .read(&locate::crop(frame, bbox, candidate.angle))?;
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| read.confidence > b.confidence)
                {
                    best = Some((read, bbox));
                }
            }
            let Some((read, bbox)) = best else { continue };
            if read.confidence < self.min_confidence || read.text.chars().count() < 2 {
                continue;
            }
            found.push(FoundPlate {
                text: read.text,
                confidence: read.confidence,
                chars: read.chars,
                bbox,
                probs: read.probs,
            });
        }
        found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        // One plate per place: a weaker read overlapping a stronger one is the same plate.
        let mut kept: Vec<FoundPlate> = Vec::new();
        for f in found {
            if kept.iter().all(|k| k.bbox.iou(&f.bbox) < 0.2) {
                kept.push(f);
            }
        }
        // A line of small text at least half inside a larger read's box (a plate's state name
        // or slogan, often printed across the plate's top or bottom edge) is part of that plate,
        // not a plate of its own: a plate's characters are its largest text.
        let inside_another: Vec<bool> = kept
            .iter()
            .map(|f| {
                kept.iter()
                    .any(|o| o.bbox.area() > f.bbox.area() && f.bbox.share_inside(&o.bbox) >= 0.5)
            })
            .collect();
        Ok(kept
            .into_iter()
            .zip(inside_another)
            .filter_map(|(f, inside)| (!inside).then_some(f))
            .collect())
    }

    /// Reads a picture that is either a camera frame or a plate crop: a small plate-shaped
    /// picture (at most 640×240 px, 1.3 to 6.5 times as wide as high) is read as one crop,
    /// anything else as a frame (a 640×360 or 640×480 camera frame is a frame).
    pub fn read_image(&self, image: &RgbImage) -> Result<Vec<FoundPlate>> {
        let aspect = image.width() as f32 / image.height().max(1) as f32;
        if image.width() <= 640 && image.height() <= 240 && (1.3..=6.5).contains(&aspect) {
            let read = self.read_crop(image)?;
            if read.text.is_empty() {
                return Ok(Vec::new());
            }
            return Ok(vec![FoundPlate {
                text: read.text,
                confidence: read.confidence,
                chars: read.chars,
                bbox: BBox {
                    x: 0,
                    y: 0,
                    w: image.width(),
                    h: image.height(),
                },
                probs: read.probs,
            }]);
        }
        self.read_frame(image)
    }
}

/// Opens a picture file (PNG or JPEG) as RGB.
pub fn load_image(path: &Path) -> Result<RgbImage> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| AnprError::image(format!("cannot read the picture {}: {e}", path.display())))
}
