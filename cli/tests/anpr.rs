//! `gatehouse anpr …` as an installer or a script uses it: render a scene, read it, measure a
//! folder against its ground truth, and a wrong model named in the error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::gatehouse;
use serde_json::Value;

fn json(args: &[&str]) -> (bool, Value) {
    let out = gatehouse().arg("--json").args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("null");
    (
        out.status.success(),
        serde_json::from_str(line).unwrap_or(Value::Null),
    )
}

#[test]
fn a_rendered_scene_is_read_with_its_plate_text_box_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("lane1.png");
    let (ok, rendered) = json(&["anpr", "render", "KP3390", "--out", scene.to_str().unwrap()]);
    assert!(ok, "{rendered}");
    let (ok, read) = json(&["anpr", "read", scene.to_str().unwrap()]);
    assert!(ok, "{read}");
    let plates = read["plates"].as_array().unwrap();
    assert_eq!(plates[0]["text"], "KP3390", "{read}");
    assert!(plates[0]["confidence"].as_f64().unwrap() > 0.3);
    assert_eq!(plates[0]["chars"].as_array().unwrap().len(), 6);
    // The box found overlaps the plate drawn.
    let found: Vec<f64> = plates[0]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let drawn: Vec<f64> = rendered["plates"][0]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let overlap_w = (found[0] + found[2]).min(drawn[0] + drawn[2]) - found[0].max(drawn[0]);
    let overlap_h = (found[1] + found[3]).min(drawn[1] + drawn[3]) - found[1].max(drawn[1]);
    assert!(
        overlap_w > drawn[2] * 0.6 && overlap_h > drawn[3] * 0.6,
        "{found:?} vs {drawn:?}"
    );
    assert!(read["ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn eval_counts_exact_reads_against_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mut truth = String::new();
    for (i, text) in ["GH4821", "7KQM240", "XJ2905"].iter().enumerate() {
        let file = format!("p{i}.png");
        let (ok, v) = json(&[
            "anpr",
            "render",
            text,
            "--crop",
            "--plate-width",
            "320",
            "--out",
            dir.path().join(&file).to_str().unwrap(),
        ]);
        assert!(ok, "{v}");
        // The last one is labelled wrong on purpose: it must be counted as misread.
        let label = if i == 2 { "XJ2906" } else { text };
        truth.push_str(&format!("{file},{label}\n"));
    }
    std::fs::write(dir.path().join("groundtruth.csv"), truth).unwrap();
    let (ok, v) = json(&["anpr", "eval", dir.path().to_str().unwrap()]);
    assert!(ok, "{v}");
    assert_eq!(v["images"], 3);
    assert_eq!(v["exact"], 2, "{v}");
    assert_eq!(v["misread"][0]["truth"], "XJ2906");
}

#[test]
fn a_corrupt_model_is_refused_naming_the_file_and_nothing_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mine.onnx");
    std::fs::write(&model, b"not a model at all").unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../models/plate_ocr.yaml"),
        dir.path().join("mine.yaml"),
    )
    .unwrap();
    let picture = dir.path().join("p.png");
    let (ok, _) = json(&[
        "anpr",
        "render",
        "GH4821",
        "--crop",
        "--out",
        picture.to_str().unwrap(),
    ]);
    assert!(ok);
    let (ok, v) = json(&[
        "anpr",
        "read",
        "--model",
        model.to_str().unwrap(),
        picture.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "config", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mine.onnx"),
        "{v}"
    );
    let (ok, v) = json(&["anpr", "read", "--country", "xx", picture.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--country xx"),
        "{v}"
    );
}
