#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The CI check on real plates: the built-in model reads the 751 real US crops (validation only,
//! never trained on) no worse than 2 points below the figure its model card states.

use gatehouse_anpr::{Anpr, PlateReader, load_image, normalise};
use std::path::{Path, PathBuf};

fn crops_dir() -> PathBuf {
    let candidates = [
        std::env::var("GATEHOUSE_US_CROPS").ok().map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/plates/us-crops")),
        Some(PathBuf::from("/work/shared/data/plates/us-crops")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("groundtruth.csv").exists())
        .expect("the real US crops are not found: set GATEHOUSE_US_CROPS to the us-crops folder")
}

/// The figure in models/plate_ocr.md: the line `Real-crop exact match: NN.N%`.
fn card_exact_percent() -> f64 {
    let card = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/plate_ocr.md"),
    )
    .unwrap();
    let line = card
        .lines()
        .find_map(|l| {
            l.trim()
                .trim_start_matches(['-', '*', ' '])
                .strip_prefix("Real-crop exact match:")
        })
        .expect("models/plate_ocr.md has no `Real-crop exact match: NN.N%` line");
    line.trim().trim_end_matches('%').trim().parse().unwrap()
}

#[test]
fn real_us_crops_are_read_no_worse_than_the_model_card_says() {
    let dir = crops_dir();
    let anpr = Anpr::new(PlateReader::embedded().unwrap());
    let truth = std::fs::read_to_string(dir.join("groundtruth.csv")).unwrap();
    let (mut n, mut exact) = (0usize, 0usize);
    for line in truth
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("file,"))
    {
        let f: Vec<&str> = line.split(',').collect();
        let image = load_image(&dir.join(f[0])).unwrap();
        let got = anpr.read_image(&image).unwrap();
        n += 1;
        if got.first().map(|p| p.text.as_str()) == Some(normalise(f[2]).as_str()) {
            exact += 1;
        }
    }
    assert_eq!(n, 751, "every crop counts");
    let percent = exact as f64 * 100.0 / n as f64;
    let card = card_exact_percent();
    println!("real US crops: {exact}/{n} exact = {percent:.1}% (model card: {card:.1}%)");
    assert!(
        percent >= card - 2.0,
        "exact match fell to {percent:.1}%, the model card says {card:.1}%"
    );
}
