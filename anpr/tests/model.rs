#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Loading plate models: the built-in one, and every way a model file can be wrong — each a clear
//! error that names the file, never a panic.

use gatehouse_anpr::{Anpr, ErrorKind, PlateReader};
use std::path::{Path, PathBuf};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// A copy of the shipped model and config in a temporary folder, for spoiling.
fn copy_model(dir: &Path) -> PathBuf {
    let onnx = dir.join("plate.onnx");
    std::fs::copy(models_dir().join("plate_ocr.onnx"), &onnx).unwrap();
    std::fs::copy(models_dir().join("plate_ocr.yaml"), dir.join("plate.yaml")).unwrap();
    onnx
}

#[test]
fn the_built_in_model_and_the_file_in_models_are_the_same_reader() {
    let built_in = PlateReader::embedded().unwrap();
    let from_file = PlateReader::load(&models_dir().join("plate_ocr.onnx")).unwrap();
    assert_eq!(built_in.config(), from_file.config());
    assert_eq!(built_in.config().max_plate_slots, 10);
    let crop = image::RgbImage::from_fn(200, 100, |x, y| {
        image::Rgb([(x % 256) as u8, (y * 2) as u8, 90])
    });
    assert_eq!(
        built_in.read(&crop).unwrap(),
        from_file.read(&crop).unwrap()
    );
}

#[test]
fn a_corrupt_model_file_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = copy_model(dir.path());
    let mut noise = vec![0u8; 50_000];
    let mut x = 12345u32;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(&onnx, &noise).unwrap();
    let err = Anpr::load(&onnx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Model);
    assert!(err.message.contains("plate.onnx"), "{}", err.message);
    assert!(
        err.message.contains("not a readable ONNX model"),
        "{}",
        err.message
    );
}

#[test]
fn a_cut_off_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = copy_model(dir.path());
    let bytes = std::fs::read(&onnx).unwrap();
    for keep in [bytes.len() / 2, bytes.len() - 100, 10] {
        std::fs::write(&onnx, &bytes[..keep]).unwrap();
        let err = Anpr::load(&onnx).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Model, "{keep}: {}", err.message);
        assert!(err.message.contains("plate.onnx"), "{}", err.message);
    }
}

#[test]
fn a_config_that_does_not_belong_to_the_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = copy_model(dir.path());
    let yaml = dir.path().join("plate.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        text.replace("max_plate_slots: 10", "max_plate_slots: 9"),
    )
    .unwrap();
    let err = Anpr::load(&onnx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Model);
    assert!(
        err.message.contains("does not belong to this model"),
        "{}",
        err.message
    );

    // An input size the model cannot take.
    std::fs::write(&yaml, text.replace("img_height: 64", "img_height: 48")).unwrap();
    let err = Anpr::load(&onnx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Model, "{}", err.message);
}

#[test]
fn a_missing_config_or_model_names_the_file_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = copy_model(dir.path());
    std::fs::remove_file(dir.path().join("plate.yaml")).unwrap();
    let err = Anpr::load(&onnx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("plate.yaml"), "{}", err.message);

    let err = Anpr::load(&dir.path().join("absent.onnx")).unwrap_err();
    assert!(err.message.contains("absent"), "{}", err.message);
}

#[test]
fn the_step_profile_names_the_model_s_convolutions_slowest_first_with_their_kernels() {
    let reader = PlateReader::embedded().unwrap();
    let crop = image::RgbImage::from_fn(256, 128, |x, y| {
        image::Rgb([(x % 251) as u8, (y * 3 % 256) as u8, 40])
    });
    let steps = reader.time_model_ops(&crop, 3).unwrap();
    assert!(steps.windows(2).all(|w| w[0].ms >= w[1].ms), "{steps:?}");
    assert!(steps.iter().any(|s| s.node.contains("Conv")), "{steps:?}");
    assert!(
        steps.iter().all(|s| s.ms > 0.0 && !s.op.is_empty()),
        "{steps:?}"
    );
    // A matrix product says its sizes and the kernel tract picked for them.
    let products: Vec<_> = steps.iter().filter(|s| s.op == "OptMatMul").collect();
    assert!(!products.is_empty(), "{steps:?}");
    assert!(
        products
            .iter()
            .all(|s| s.detail.contains("Mult: m:") && s.detail.contains(" with [")),
        "{products:?}"
    );
}
