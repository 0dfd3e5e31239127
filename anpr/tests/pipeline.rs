#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The whole pipeline on pictures the tests draw: plates found in street scenes, read, and
//! matched against the cars inside.

use gatehouse_anpr::{Anpr, BBox, MatchRules, PlateMatch, PlateReader, match_plate};
use gatehouse_sim::Rng;
use gatehouse_sim::scene::{PlateStyle, Renderer};
use std::time::Instant;

fn anpr() -> Anpr {
    Anpr::new(PlateReader::embedded().unwrap())
}

/// Exact reads out of 30 rendered crops of random plates in one layout.
fn exact_reads(anpr: &Anpr, r: &Renderer, style: PlateStyle, seed: u64) -> (usize, Vec<String>) {
    let mut rng = Rng::new(seed);
    let mut wrong = Vec::new();
    let mut exact = 0;
    for _ in 0..30 {
        let letters = rng.range(1, 4);
        let digits = rng.range(2, 5);
        let mut text = String::new();
        for _ in 0..letters {
            text.push((b'A' + rng.range(0, 26) as u8) as char);
        }
        for _ in 0..digits {
            text.push((b'0' + rng.range(0, 10) as u8) as char);
        }
        let read = anpr
            .read_crop(&r.plate(&text, style, 320, &mut rng))
            .unwrap();
        if read.text == text {
            exact += 1;
        } else {
            wrong.push(format!("{text} read as {}", read.text));
        }
    }
    (exact, wrong)
}

#[test]
fn rendered_plate_crops_are_read_in_all_three_layouts() {
    // The model is trained mostly on US-style plates. On 300 renders per layout (seeds 1 to 10,
    // SplitMix64) it read 266 US, 276 Mercosur and 266 EU-style plates exactly, 24 to 30 of each
    // 30, so one seed's 30 is too few to hold a line; these 90 (seeds 1 to 3) read 81, 83 and 79
    // when this was written. A drop well below that is a regression a lane would notice.
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    for (style, at_least) in [
        (PlateStyle::Us, 75),
        (PlateStyle::Br, 75),
        (PlateStyle::Eu, 70),
    ] {
        let (mut exact, mut wrong) = (0, Vec::new());
        for seed in 1..=3 {
            let (n, w) = exact_reads(&anpr, &r, style, seed);
            exact += n;
            wrong.extend(w);
        }
        println!("{style:?}: {exact}/90 exact; misread: {wrong:?}");
        assert!(
            exact >= at_least,
            "{style:?}: only {exact}/90 read exactly: {wrong:?}"
        );
    }
}

fn best_overlap(found: &[gatehouse_anpr::FoundPlate], truth: &BBox) -> f32 {
    found.iter().map(|f| f.bbox.iou(truth)).fold(0.0, f32::max)
}

/// A street scene with one US plate: the plate is the first thing found, read exactly, where
/// it is.
fn assert_scene_plate_read(anpr: &Anpr, r: &Renderer, seed: u64, text: &str, width: u32) {
    let (frame, boxes) = r.scene(1280, 720, &[(text, PlateStyle::Us, width, 0.0)], seed);
    let found = anpr.read_frame(&frame).unwrap();
    assert_eq!(
        found.first().map(|f| f.text.as_str()),
        Some(text),
        "{found:?}"
    );
    assert!(
        best_overlap(&found, &boxes[0]) > 0.4,
        "{found:?} vs {:?}",
        boxes[0]
    );
}

#[test]
fn a_plate_in_a_street_scene_is_found_where_it_is_and_read() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    for (seed, text, width) in [(1, "GH4821", 200), (2, "7KQM240", 260), (3, "XK2905", 150)] {
        assert_scene_plate_read(&anpr, &r, seed, text, width);
    }
}

#[test]
#[ignore = "a known miss of the CTC model (models/plate_ocr.md, Limitations): in this font the \
            first character is dropped when a J follows it (XJ2905 read J2905 at every seed, \
            AJ2905 and KJ2905 too): this font's J drops below the line, under the character \
            before it, and synth.py cuts every training glyph at the line; run with --ignored on \
            a new model"]
fn the_first_character_before_a_j_is_read() {
    let r = Renderer::new().unwrap();
    assert_scene_plate_read(&anpr(), &r, 3, "XJ2905", 150);
    assert_scene_plate_read(&anpr(), &r, 3, "KJ2905", 150);
}

#[test]
fn a_plate_s_name_printed_above_its_characters_is_not_a_second_plate() {
    // Seed 2 prints "LAKESIDE" across the plate's top edge: the stage-3 model read it as a
    // plate "AKESID" whose box lay 59 % inside the characters' box.
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let (frame, _) = r.scene(1280, 720, &[("XA1234", PlateStyle::Us, 150, 0.0)], 2);
    let texts: Vec<String> = anpr
        .read_frame(&frame)
        .unwrap()
        .into_iter()
        .map(|f| f.text)
        .collect();
    assert_eq!(texts, ["XA1234"]);
}

#[test]
fn a_tilted_plate_is_straightened_and_read() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    for tilt in [-6.0, 5.0] {
        let (frame, _) = r.scene(1280, 720, &[("KP3390", PlateStyle::Us, 220, tilt)], 9);
        let found = anpr.read_frame(&frame).unwrap();
        assert_eq!(
            found.first().map(|f| f.text.as_str()),
            Some("KP3390"),
            "tilt {tilt}: {found:?}"
        );
    }
}

#[test]
fn two_cars_give_two_plates() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let (frame, _) = r.scene(
        1280,
        720,
        &[
            ("LT5512", PlateStyle::Us, 180, 0.0),
            ("BMW1234", PlateStyle::Eu, 280, 0.0),
        ],
        4,
    );
    let mut texts: Vec<String> = anpr
        .read_frame(&frame)
        .unwrap()
        .into_iter()
        .map(|f| f.text)
        .collect();
    texts.sort();
    assert_eq!(texts, vec!["BMW1234", "LT5512"]);
}

#[test]
fn a_small_camera_frame_is_searched_for_plates_not_read_as_one_crop() {
    // Regression: a 640×360 frame is plate-shaped enough to be taken for a crop.
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let (frame, _) = r.scene(1280, 720, &[("GH4821", PlateStyle::Us, 240, 0.0)], 8);
    let small = image::imageops::resize(&frame, 640, 360, image::imageops::FilterType::Triangle);
    let found = anpr.read_image(&small).unwrap();
    assert_eq!(
        found.first().map(|f| f.text.as_str()),
        Some("GH4821"),
        "{found:?}"
    );
    assert!(
        found[0].bbox.w < 400,
        "the plate's box, not the whole picture: {found:?}"
    );
}

#[test]
fn a_frame_with_no_plate_reads_nothing_and_fast() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let (frame, _) = r.scene(1280, 720, &[], 5);
    let started = Instant::now();
    let found = anpr.read_frame(&frame).unwrap();
    assert!(found.is_empty(), "{found:?}");
    // Not a timing test: printed so a slow build shows up in the log.
    println!("empty frame read in {:?}", started.elapsed());
}

#[test]
fn at_the_exit_the_read_matches_the_car_among_those_inside() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let mut rng = Rng::new(21);
    let inside: Vec<String> = (0..60)
        .map(|_| {
            let l = |rng: &mut Rng| (b'A' + rng.range(0, 26) as u8) as char;
            let d = |rng: &mut Rng| (b'0' + rng.range(0, 10) as u8) as char;
            [
                l(&mut rng),
                l(&mut rng),
                l(&mut rng),
                d(&mut rng),
                d(&mut rng),
                d(&mut rng),
                d(&mut rng),
            ]
            .iter()
            .collect()
        })
        .collect();
    let candidates: Vec<&str> = inside.iter().map(String::as_str).collect();
    for (i, plate) in inside.iter().enumerate().take(5) {
        let (frame, _) = r.scene(
            1280,
            720,
            &[(plate, PlateStyle::Us, 210, 0.0)],
            100 + i as u64,
        );
        let found = anpr.read_frame(&frame).unwrap();
        let read = found.first().expect("a plate is found");
        match match_plate(&read.probs, &candidates, MatchRules::default()) {
            PlateMatch::Found { plate: p, .. } => assert_eq!(&p, plate),
            other => panic!("{plate}: {other:?} (read {})", read.text),
        }
    }
    // A car that is not inside matches nobody.
    let (frame, _) = r.scene(1280, 720, &[("ZZ9QX1", PlateStyle::Us, 210, 0.0)], 99);
    let found = anpr.read_frame(&frame).unwrap();
    let read = found.first().expect("a plate is found");
    assert!(
        matches!(
            match_plate(&read.probs, &candidates, MatchRules::default()),
            PlateMatch::None { .. }
        ),
        "read {}",
        read.text
    );
}
