//! IP cameras (HTTP snapshot and MJPEG stream) against the camera simulator on loopback HTTP.
#![cfg(feature = "camera")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_drivers::camera::mjpeg::{MjpegSplitter, boundary_from_content_type};
use gatehouse_drivers::camera::sim::{BOUNDARY, CameraSim};
use gatehouse_drivers::camera::{
    Camera, Frame, MjpegCamera, MjpegConfig, SnapshotCamera, encode_jpeg,
};
use gatehouse_drivers::{ErrorKind, HealthState};
use image::{Rgb, RgbImage};
use proptest::prelude::*;
use std::time::Duration;

const W: u32 = 64;
const H: u32 = 48;

fn solid(c: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(W, H, Rgb(c))
}

/// Ten colours far enough apart to tell which frame is which after JPEG.
fn palette() -> Vec<[u8; 3]> {
    (0..10u8)
        .map(|i| [i * 25, 255 - i * 25, if i % 2 == 0 { 40 } else { 220 }])
        .collect()
}

fn close(a: Rgb<u8>, b: [u8; 3]) -> bool {
    a.0.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 24)
}

/// Which palette colour the whole frame is, checking a grid including the bottom rows (a cut-off
/// JPEG decoded anyway would be grey or smeared there).
fn colour_index(f: &Frame, palette: &[[u8; 3]]) -> Option<usize> {
    let first = *f.image.get_pixel(2, 2);
    let i = palette.iter().position(|c| close(first, *c))?;
    for y in (0..f.height).step_by(7).chain([f.height - 1]) {
        for x in (0..f.width).step_by(9).chain([f.width - 1]) {
            if !close(*f.image.get_pixel(x, y), palette[i]) {
                return None;
            }
        }
    }
    Some(i)
}

fn fast() -> MjpegConfig {
    MjpegConfig {
        connect_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_millis(800),
        frame_timeout: Duration::from_secs(2),
        max_age: Duration::from_millis(500),
        reconnect_max: Duration::from_millis(400),
        ..MjpegConfig::default()
    }
}

async fn wait_health(
    rx: &mut tokio::sync::watch::Receiver<gatehouse_drivers::Health>,
    s: HealthState,
) {
    let r = tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|h| h.state == s))
        .await
        .is_ok();
    assert!(r, "health did not become {s:?}: {:?}", rx.borrow());
}

/// The next `n` frames as the camera delivers them.
async fn collect(cam: &MjpegCamera, n: usize) -> Vec<Frame> {
    let mut rx = cam.frames();
    rx.mark_unchanged();
    let mut out = Vec::new();
    while out.len() < n {
        tokio::time::timeout(Duration::from_secs(5), rx.changed())
            .await
            .expect("no frame within 5 s")
            .unwrap();
        out.extend(rx.borrow_and_update().clone());
    }
    out
}

#[tokio::test]
async fn snapshot_is_decoded_with_its_size_and_colours() {
    let mut img = solid([230, 20, 20]);
    for y in 0..H {
        for x in W / 2..W {
            img.put_pixel(x, y, Rgb([20, 20, 230]));
        }
    }
    let sim = CameraSim::start(&[img], 5).await.unwrap();
    let cam = SnapshotCamera::new(&sim.snapshot_url()).unwrap();
    assert_eq!(cam.health().state, HealthState::Offline);
    let before = chrono::Utc::now();
    let f = cam.frame().await.unwrap();
    assert_eq!((f.width, f.height), (W, H));
    assert_eq!((f.image.width(), f.image.height()), (W, H));
    assert!(
        close(*f.image.get_pixel(5, 5), [230, 20, 20]),
        "left is red"
    );
    assert!(
        close(*f.image.get_pixel(W - 5, H - 5), [20, 20, 230]),
        "right is blue"
    );
    assert!(f.at >= before);
    assert_eq!(cam.health().state, HealthState::Ok);
    assert_eq!(
        sim.requests(),
        vec!["GET /snapshot.jpg HTTP/1.1".to_string()]
    );
}

#[tokio::test]
async fn snapshot_faults_are_errors_with_health() {
    let mut sim = CameraSim::start(&[solid([0, 200, 0])], 5).await.unwrap();
    sim.require_auth("admin", "s3cret:x");
    let url = format!("http://admin:s3cret%3Ax@{}/snapshot.jpg", sim.addr());
    let cam = SnapshotCamera::new(&url)
        .unwrap()
        .with_timeout(Duration::from_secs(1));
    assert!(close(
        *cam.frame().await.unwrap().image.get_pixel(1, 1),
        [0, 200, 0]
    ));

    let wrong = format!("http://admin:nope@{}/snapshot.jpg", sim.addr());
    let e = SnapshotCamera::new(&wrong)
        .unwrap()
        .frame()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.message.contains("401"), "{e}");

    sim.truncate_every(1);
    let e = cam.frame().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert_eq!(cam.health().state, HealthState::Degraded);
    sim.truncate_every(0);
    cam.frame().await.unwrap();
    assert_eq!(cam.health().state, HealthState::Ok);

    sim.stop();
    let e = cam.frame().await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io | ErrorKind::Timeout), "{e}");
    assert_eq!(cam.health().state, HealthState::Offline);
    assert!(
        !cam.health().reason.contains("s3cret"),
        "no password in the reason"
    );
    sim.restart().await.unwrap();
    cam.frame().await.unwrap();
    assert_eq!(cam.health().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mjpeg_frames_arrive_in_order_with_increasing_timestamps() {
    let palette = palette();
    let frames: Vec<_> = palette.iter().map(|c| solid(*c)).collect();
    let sim = CameraSim::start(&frames, 15).await.unwrap();
    let cam = MjpegCamera::start(&sim.stream_url(), fast()).unwrap();
    let got = collect(&cam, 12).await;
    let idx: Vec<usize> = got
        .iter()
        .map(|f| colour_index(f, &palette).expect("a whole palette frame"))
        .collect();
    for (w, pair) in got.windows(2).zip(idx.windows(2)) {
        assert!(w[1].at > w[0].at, "timestamps increase");
        let step = (pair[1] + 10 - pair[0]) % 10;
        assert!((1..=3).contains(&step), "frames in order: {idx:?}");
    }
    assert_eq!(cam.health().state, HealthState::Ok);
    let f = cam.frame().await.unwrap();
    assert_eq!((f.width, f.height), (W, H));
    assert_eq!(cam.skipped(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_boundary_still_decodes_by_jpeg_markers() {
    let palette = palette();
    let frames: Vec<_> = palette.iter().map(|c| solid(*c)).collect();
    let sim = CameraSim::start(&frames, 15).await.unwrap();
    sim.set_wrong_boundary(true);
    let cam = MjpegCamera::start(&sim.stream_url(), fast()).unwrap();
    let got = collect(&cam, 6).await;
    let idx: Vec<_> = got.iter().map(|f| colour_index(f, &palette)).collect();
    assert!(idx.iter().all(Option::is_some), "whole frames: {idx:?}");
    assert_eq!(cam.health().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_jpegs_are_skipped_and_the_stream_goes_on() {
    let palette = palette();
    let frames: Vec<_> = palette.iter().map(|c| solid(*c)).collect();
    let sim = CameraSim::start(&frames, 20).await.unwrap();
    sim.truncate_every(2);
    let cam = MjpegCamera::start(&sim.stream_url(), fast()).unwrap();
    let got = collect(&cam, 6).await;
    for f in &got {
        assert!(
            colour_index(f, &palette).is_some(),
            "no cut-off frame gets through"
        );
    }
    assert!(cam.skipped() >= 2, "skipped {}", cam.skipped());
    assert_eq!(cam.health().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_camera_goes_offline_and_comes_back_after_restart() {
    let mut sim = CameraSim::start(&[solid([200, 200, 0])], 20).await.unwrap();
    let cam = MjpegCamera::start(&sim.stream_url(), fast()).unwrap();
    let mut health = cam.health_changes();
    wait_health(&mut health, HealthState::Ok).await;
    cam.frame().await.unwrap();

    sim.stop();
    wait_health(&mut health, HealthState::Offline).await;
    assert!(
        cam.health().reason.contains(&sim.addr().to_string()),
        "{:?}",
        cam.health()
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let e = cam.frame().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");

    sim.set_frames(&[solid([0, 200, 200])]).unwrap();
    sim.restart().await.unwrap();
    wait_health(&mut health, HealthState::Ok).await;
    let f = cam.frame().await.unwrap();
    assert!(
        close(*f.image.get_pixel(3, 3), [0, 200, 200]),
        "a new frame after restart"
    );
}

fn jpeg(c: [u8; 3], w: u32, h: u32) -> Vec<u8> {
    encode_jpeg(&RgbImage::from_pixel(w, h, Rgb(c)), 80).unwrap()
}

/// Feeds `stream` to the splitter in pieces of the given sizes.
fn split(s: &mut MjpegSplitter, stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = stream;
    let mut k = 0;
    while !rest.is_empty() {
        let n = cuts.get(k).copied().unwrap_or(4096).clamp(1, rest.len());
        out.extend(s.push(&rest[..n]));
        rest = &rest[n..];
        k += 1;
    }
    out
}

fn multipart(parts: &[Vec<u8>], boundary: &str, with_length: bool) -> Vec<u8> {
    let mut s = b"preamble junk\r\n".to_vec();
    for p in parts {
        s.extend_from_slice(format!("--{boundary}\r\nContent-Type: image/jpeg\r\n").as_bytes());
        if with_length {
            s.extend_from_slice(format!("Content-Length: {}\r\n", p.len()).as_bytes());
        }
        s.extend_from_slice(b"\r\n");
        s.extend_from_slice(p);
        s.extend_from_slice(b"\r\n");
    }
    s.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn splitter_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(1usize..600, 0..16),
        boundary in proptest::option::of("[a-z]{1,8}"),
    ) {
        let mut s = MjpegSplitter::with_limit(boundary.as_deref(), 2048);
        let parts = split(&mut s, &bytes, &cuts);
        prop_assert!(parts.iter().map(Vec::len).sum::<usize>() <= bytes.len());
        let _ = boundary_from_content_type(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn splitter_finds_jpegs_between_noise(
        noise in proptest::collection::vec(proptest::collection::vec(0u8..0xFF, 0..300), 3),
        cuts in proptest::collection::vec(1usize..900, 0..16),
        c in any::<[u8; 3]>(),
    ) {
        let (a, b) = (jpeg(c, 16, 8), jpeg([c[2], c[0], c[1]], 8, 24));
        let stream = [&noise[0][..], &a, &noise[1], &b, &noise[2]].concat();
        let mut s = MjpegSplitter::new(None);
        prop_assert_eq!(split(&mut s, &stream, &cuts), vec![a, b]);
    }

    #[test]
    fn splitter_follows_the_boundary_or_falls_back_to_markers(
        with_length in any::<bool>(),
        wrong in any::<bool>(),
        cuts in proptest::collection::vec(1usize..900, 0..16),
        c in any::<[u8; 3]>(),
    ) {
        let parts = vec![jpeg(c, 16, 16), jpeg([c[1], c[2], c[0]], 24, 8), jpeg([255 - c[0], c[1], 0], 8, 8)];
        let stream = multipart(&parts, if wrong { "elsewhere" } else { BOUNDARY }, with_length);
        let mut s = MjpegSplitter::new(Some(BOUNDARY));
        prop_assert_eq!(split(&mut s, &stream, &cuts), parts);
        prop_assert_eq!(s.by_markers(), wrong);
    }
}
