#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The whole pipeline on pictures the tests draw: plates found in street scenes, read, and
//! matched against the cars inside.

use gatehouse_anpr::scene::{PlateStyle, Renderer, Rng};
use gatehouse_anpr::{Anpr, BBox, MatchRules, PlateMatch, PlateReader, match_plate};
use std::time::Instant;

fn anpr() -> Anpr {
    Anpr::new(PlateReader::embedded().unwrap())
}

#[test]
fn rendered_plate_crops_are_read_in_all_three_layouts() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    let mut rng = Rng::new(3);
    let cases = [
        ("7KQM240", PlateStyle::Us),
        ("GH4821", PlateStyle::Us),
        ("XJ2905", PlateStyle::Us),
        ("BMW1234", PlateStyle::Eu),
        ("NL54RT", PlateStyle::Eu),
        ("ABC1D23", PlateStyle::Br),
        ("RIO2A19", PlateStyle::Br),
    ];
    let mut wrong = Vec::new();
    for (text, style) in cases {
        let crop = r.plate(text, style, 320, &mut rng);
        let read = anpr.read_crop(&crop).unwrap();
        if read.text != text {
            wrong.push(format!(
                "{text} read as {} ({:.2})",
                read.text, read.confidence
            ));
        }
    }
    assert!(wrong.is_empty(), "misread: {wrong:?}");
}

fn best_overlap(found: &[gatehouse_anpr::FoundPlate], truth: &BBox) -> f32 {
    found.iter().map(|f| f.bbox.iou(truth)).fold(0.0, f32::max)
}

#[test]
fn a_plate_in_a_street_scene_is_found_where_it_is_and_read() {
    let anpr = anpr();
    let r = Renderer::new().unwrap();
    for (seed, text, width) in [(1, "GH4821", 200), (2, "7KQM240", 260), (3, "XJ2905", 150)] {
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
