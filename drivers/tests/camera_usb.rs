//! The USB camera driver where there is no camera (CI has no /dev/video* and no v4l2loopback):
//! a missing device, a file that is not a video device and a character device that is not one
//! each give an error naming the device and what to do, health offline with that reason, within
//! the timeout, and the camera keeps trying without hanging its caller. Capturing from a real
//! camera is checked by hand (`gatehouse device camera --usb /dev/video0 --out frame.jpg`).
#![cfg(feature = "camera-usb")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_drivers::camera::{Camera, UsbCamera, UsbConfig};
use gatehouse_drivers::{ErrorKind, HealthState};
use std::path::Path;
use std::time::{Duration, Instant};

fn config(device: &str) -> UsbConfig {
    UsbConfig {
        frame_timeout: Duration::from_secs(2),
        reopen_max: Duration::from_millis(400),
        ..UsbConfig::new(device)
    }
}

/// A /dev/videoN that this machine does not have, from /dev/video7 on.
fn absent_video_device() -> String {
    (7..64)
        .map(|n| format!("/dev/video{n}"))
        .find(|p| !Path::new(p).exists())
        .expect("a free /dev/videoN number")
}

/// Asks for a frame and checks it fails fast with `kind`, naming `device` and `hint`; health is
/// offline with the same reason.
async fn fails_naming(cam: &UsbCamera, device: &str, kind: ErrorKind, hint: &str) {
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), cam.frame())
        .await
        .expect("frame() did not answer within 5 s")
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the error took {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind, kind, "{err}");
    assert!(err.message.contains(device), "{err}");
    assert!(err.message.contains(hint), "{err}");
    let health = cam.health();
    assert_eq!(health.state, HealthState::Offline, "{health:?}");
    assert_eq!(health.reason, err.message);
}

#[tokio::test]
async fn a_missing_usb_camera_is_offline_saying_to_plug_it_in() {
    let device = absent_video_device();
    let cam = UsbCamera::start(config(&device)).unwrap();
    fails_naming(&cam, &device, ErrorKind::Io, "plugged in").await;
    assert_eq!(cam.mode(), None);
    // It keeps trying (with backoff) and keeps answering while the camera stays away.
    tokio::time::sleep(Duration::from_millis(700)).await;
    fails_naming(&cam, &device, ErrorKind::Io, "plugged in").await;

    // By number, the same device.
    let number = device.trim_start_matches("/dev/video");
    let cam = UsbCamera::start(config(number)).unwrap();
    fails_naming(&cam, &device, ErrorKind::Io, "plugged in").await;
}

#[tokio::test]
async fn a_regular_file_is_not_a_usb_camera() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("video0");
    std::fs::write(&file, b"not a camera").unwrap();
    let path = file.to_str().unwrap();
    let cam = UsbCamera::start(config(path)).unwrap();
    fails_naming(
        &cam,
        path,
        ErrorKind::Config,
        "regular file, not a video device",
    )
    .await;
    let err = cam.frame().await.unwrap_err();
    assert!(err.message.contains("/dev/videoN"), "{err}");
}

#[tokio::test]
async fn a_character_device_that_is_not_v4l2_is_refused() {
    let cam = UsbCamera::start(config("/dev/null")).unwrap();
    fails_naming(
        &cam,
        "/dev/null",
        ErrorKind::Config,
        "not a V4L2 video device",
    )
    .await;
}

#[test]
fn bad_settings_are_refused_before_any_io() {
    for (device, field) in [("", "empty"), ("webcam", "neither a number nor a path")] {
        let err = UsbCamera::start(config(device)).err().unwrap();
        assert_eq!(err.kind, ErrorKind::Config, "{err}");
        assert!(err.message.contains(field), "{err}");
    }
    let err = UsbCamera::start(UsbConfig {
        size: Some((0, 720)),
        ..config("/dev/video0")
    })
    .err()
    .unwrap();
    assert!(err.message.contains("size"), "{err}");
    let err = UsbCamera::start(UsbConfig {
        frame_timeout: Duration::ZERO,
        ..config("/dev/video0")
    })
    .err()
    .unwrap();
    assert!(err.message.contains("frame_timeout"), "{err}");
}
