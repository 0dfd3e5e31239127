//! The model config beside a plate-reading .onnx file, in fast-plate-ocr's plate-config format
//! (a flat YAML file), so an operator can drop in a fast-plate-ocr-compatible model for their
//! country:
//!
//! ```yaml
//! max_plate_slots: 10
//! alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_'
//! pad_char: '_'
//! img_height: 64
//! img_width: 128
//! keep_aspect_ratio: false
//! interpolation: linear
//! image_color_mode: rgb
//! padding_color: [114, 114, 114]
//! ```
//!
//! `image_color_mode` defaults to `grayscale` (fast-plate-ocr's default, and what its older models
//! expect); `keep_aspect_ratio` to false; `interpolation` to linear; `padding_color` to 114 grey.
//! Keys this reader does not use are ignored, so newer configs still load.

use crate::error::{AnprError, Result};
use image::imageops::FilterType;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    Rgb,
    Grayscale,
}

impl ColorMode {
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Rgb => 3,
            ColorMode::Grayscale => 1,
        }
    }
}

/// How the model wants its input and what its output means.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateConfig {
    /// Output slots: the longest plate the model can read.
    pub max_plate_slots: usize,
    /// The characters of each slot's probabilities, in order; includes `pad_char`.
    pub alphabet: Vec<char>,
    /// The character of an empty slot (after the end of the plate).
    pub pad_char: char,
    pub img_height: u32,
    pub img_width: u32,
    pub keep_aspect_ratio: bool,
    pub interpolation: FilterType,
    pub color_mode: ColorMode,
    pub padding_color: [u8; 3],
}

impl PlateConfig {
    /// Reads the config file; errors name the file and the field.
    pub fn load(path: &Path) -> Result<PlateConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AnprError::config(format!(
                "cannot read the model config {}: {e} (a plate model needs a .yaml beside its \
                 .onnx with max_plate_slots, alphabet, pad_char, img_height and img_width)",
                path.display()
            ))
        })?;
        PlateConfig::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a config; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<PlateConfig> {
        let fields = flat_yaml(file, text)?;
        let field = |name: &str| fields.get(name).map(String::as_str);
        let bad = |name: &str, why: String| AnprError::config(format!("{file}: {name}: {why}"));
        let required = |name: &str| {
            field(name).ok_or_else(|| bad(name, "missing (it is required)".to_string()))
        };
        let number = |name: &str, min: u32, max: u32| -> Result<u32> {
            let raw = required(name)?;
            let n: u32 = raw
                .parse()
                .map_err(|_| bad(name, format!("{raw:?} is not a whole number")))?;
            if n < min || n > max {
                return Err(bad(name, format!("{n} is outside {min}..={max}")));
            }
            Ok(n)
        };
        let flag = |name: &str, default: bool| -> Result<bool> {
            match field(name) {
                None => Ok(default),
                Some("true" | "True" | "yes") => Ok(true),
                Some("false" | "False" | "no") => Ok(false),
                Some(other) => Err(bad(name, format!("{other:?} is not true or false"))),
            }
        };

        let max_plate_slots = number("max_plate_slots", 1, 32)? as usize;
        let alphabet: Vec<char> = required("alphabet")?.chars().collect();
        if alphabet.len() < 2 {
            return Err(bad("alphabet", "needs at least two characters".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = alphabet.iter().find(|c| !seen.insert(**c)) {
            return Err(bad("alphabet", format!("{dup:?} appears twice")));
        }
        let pad = required("pad_char")?;
        let mut pad_chars = pad.chars();
        let pad_char = match (pad_chars.next(), pad_chars.next()) {
            (Some(c), None) => c,
            _ => return Err(bad("pad_char", format!("{pad:?} is not one character"))),
        };
        if !alphabet.contains(&pad_char) {
            return Err(bad(
                "pad_char",
                format!("{pad_char:?} is not in the alphabet"),
            ));
        }
        let interpolation = match field("interpolation").unwrap_or("linear") {
            "linear" | "bilinear" | "area" => FilterType::Triangle,
            "nearest" => FilterType::Nearest,
            "cubic" | "bicubic" => FilterType::CatmullRom,
            "lanczos4" | "lanczos" => FilterType::Lanczos3,
            other => {
                return Err(bad(
                    "interpolation",
                    format!("{other:?} is not one of linear, nearest, cubic, area, lanczos4"),
                ));
            }
        };
        let color_mode = match field("image_color_mode").unwrap_or("grayscale") {
            "rgb" => ColorMode::Rgb,
            "grayscale" | "gray" => ColorMode::Grayscale,
            other => {
                return Err(bad(
                    "image_color_mode",
                    format!("{other:?} is not rgb or grayscale"),
                ));
            }
        };
        let padding_color = match field("padding_color") {
            None => [114, 114, 114],
            Some(raw) => parse_color(raw).ok_or_else(|| {
                bad(
                    "padding_color",
                    format!("{raw:?} is not three numbers 0-255 like [114, 114, 114]"),
                )
            })?,
        };
        Ok(PlateConfig {
            max_plate_slots,
            alphabet,
            pad_char,
            img_height: number("img_height", 8, 1024)?,
            img_width: number("img_width", 8, 2048)?,
            keep_aspect_ratio: flag("keep_aspect_ratio", false)?,
            interpolation,
            color_mode,
            padding_color,
        })
    }

    /// The model's input shape, NHWC with a batch of one.
    pub fn input_shape(&self) -> [usize; 4] {
        [
            1,
            self.img_height as usize,
            self.img_width as usize,
            self.color_mode.channels(),
        ]
    }

    /// Where `c` is in the alphabet.
    pub fn index_of(&self, c: char) -> Option<usize> {
        self.alphabet.iter().position(|a| *a == c)
    }
}

fn parse_color(raw: &str) -> Option<[u8; 3]> {
    let inner = raw
        .trim()
        .trim_start_matches(['[', '('])
        .trim_end_matches([']', ')']);
    let parts: Vec<u8> = inner
        .split(',')
        .map(|p| p.trim().parse::<u8>())
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    <[u8; 3]>::try_from(parts).ok()
}

/// The `key: value` lines of a flat YAML file, with quotes taken off and comments dropped.
fn flat_yaml(file: &str, text: &str) -> Result<BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') || line == "---" {
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            // A nested block: not part of the flat plate config.
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(AnprError::config(format!(
                "{file}: line {}: {line:?} is not `key: value`",
                n + 1
            )));
        };
        let value = unquote(value.trim()).ok_or_else(|| {
            AnprError::config(format!(
                "{file}: line {}: {}: the quote is not closed",
                n + 1,
                key.trim()
            ))
        })?;
        if fields.insert(key.trim().to_string(), value).is_some() {
            return Err(AnprError::config(format!(
                "{file}: line {}: {} is given twice",
                n + 1,
                key.trim()
            )));
        }
    }
    Ok(fields)
}

/// `'abc'` or `"abc"` → `abc` (with `''` for a quote inside single quotes); a bare value loses a
/// trailing ` # comment`. None when a quote is not closed.
fn unquote(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        None
    } else if let Some(rest) = value.strip_prefix('"') {
        rest.find('"').map(|end| rest[..end].to_string())
    } else {
        let bare = match value.find(" #") {
            Some(i) => &value[..i],
            None => value,
        };
        Some(bare.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const GOOD: &str = "max_plate_slots: 10\nalphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_'\n\
        pad_char: '_'\nimg_height: 64\nimg_width: 128\nkeep_aspect_ratio: false\n\
        interpolation: linear\nimage_color_mode: rgb\npadding_color: [114, 114, 114]\n";

    proptest::proptest! {
        #[test]
        fn any_text_is_a_config_or_an_error_never_a_panic(text in "(?s).{0,400}") {
            let _ = PlateConfig::parse("fuzz.yaml", &text);
        }

        #[test]
        fn a_good_config_with_one_line_spoiled_is_refused_or_still_valid(line in 0usize..9, junk in "[^\n]{0,30}") {
            let mut lines: Vec<String> = GOOD.lines().map(String::from).collect();
            lines[line] = junk;
            if let Ok(c) = PlateConfig::parse("x.yaml", &lines.join("\n")) {
                proptest::prop_assert!(c.alphabet.contains(&c.pad_char));
                proptest::prop_assert!(c.img_width >= 8 && c.max_plate_slots >= 1);
            }
        }
    }

    #[test]
    fn a_fast_plate_ocr_config_loads() {
        let c = PlateConfig::parse("m.yaml", GOOD).unwrap();
        assert_eq!(c.max_plate_slots, 10);
        assert_eq!(c.alphabet.len(), 37);
        assert_eq!(c.pad_char, '_');
        assert_eq!(c.input_shape(), [1, 64, 128, 3]);
        assert_eq!(c.index_of('A'), Some(10));
    }

    #[test]
    fn an_older_config_without_colour_mode_is_grayscale() {
        let old = "max_plate_slots: 9\nalphabet: \"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_\"\n\
            pad_char: \"_\"\nimg_height: 70\nimg_width: 140\n";
        let c = PlateConfig::parse("old.yaml", old).unwrap();
        assert_eq!(c.color_mode, ColorMode::Grayscale);
        assert_eq!(c.input_shape(), [1, 70, 140, 1]);
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let cases = [
            (GOOD.replace("img_width: 128\n", ""), "img_width: missing"),
            (GOOD.replace("pad_char: '_'", "pad_char: '-'"), "pad_char"),
            (
                GOOD.replace("img_height: 64", "img_height: tall"),
                "img_height",
            ),
            (
                GOOD.replace("max_plate_slots: 10", "max_plate_slots: 0"),
                "max_plate_slots",
            ),
            (
                GOOD.replace("image_color_mode: rgb", "image_color_mode: cmyk"),
                "image_color_mode",
            ),
            (
                GOOD.replace("alphabet: '0123", "alphabet: '00123"),
                "appears twice",
            ),
            (
                GOOD.replace("[114, 114, 114]", "[114, 114]"),
                "padding_color",
            ),
            (format!("{GOOD}img_width: 12\n"), "given twice"),
            (
                GOOD.replace("pad_char: '_'", "pad_char: '_"),
                "quote is not closed",
            ),
        ];
        for (text, want) in cases {
            let err = PlateConfig::parse("models/x.yaml", &text).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::Config);
            assert!(err.message.starts_with("models/x.yaml"), "{}", err.message);
            assert!(
                err.message.contains(want),
                "{} should say {want}",
                err.message
            );
        }
    }
}
