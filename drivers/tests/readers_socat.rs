//! The scanner and RFID drivers against a serial line made by socat, a public tool that plays the
//! device side: what an installer does to try a reader before the hardware arrives.
#![cfg(feature = "readers")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_drivers::readers::{
    CardId, LineScannerConfig, Rdm6300Config, Reader, ReaderDriver, ScanSource,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A socat-made pseudo-terminal pair; killed on drop.
struct Socat {
    child: Child,
    driver_side: PathBuf,
    device_side: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn socat_pair() -> Socat {
    let dir = tempfile::tempdir().unwrap();
    let driver_side = dir.path().join("reader");
    let device_side = dir.path().join("device");
    let child = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", driver_side.display()))
        .arg(format!("pty,raw,echo=0,link={}", device_side.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is installed by ./dev (apt-get install socat)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(driver_side.exists() && device_side.exists()) {
        assert!(Instant::now() < deadline, "socat made no pty pair");
        std::thread::sleep(Duration::from_millis(20));
    }
    Socat {
        child,
        driver_side,
        device_side,
        _dir: dir,
    }
}

fn write_device(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
}

#[tokio::test]
async fn a_scan_typed_into_a_socat_line_reaches_the_line_scanner() {
    let pair = socat_pair();
    let driver = ReaderDriver::line_scanner(LineScannerConfig::new(&pair.driver_side)).unwrap();
    let mut scans = driver.scans();
    // Give the driver time to open its side before the device speaks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    write_device(&pair.device_side, b"\x07garbage\x01\r\nGH1-T-000777\r\n");
    let scan = tokio::time::timeout(Duration::from_secs(10), scans.recv())
        .await
        .expect("no scan arrived")
        .unwrap();
    assert_eq!(scan.text, "GH1-T-000777");
    assert_eq!(scan.source, ScanSource::QrOrBarcode);
}

#[tokio::test]
async fn an_rdm6300_frame_written_through_socat_is_one_badge() {
    let pair = socat_pair();
    let driver = ReaderDriver::rdm6300(Rdm6300Config::new(&pair.driver_side)).unwrap();
    let mut scans = driver.scans();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let card = CardId::from_hex("0A0012F3C4").unwrap();
    let mut bytes = Vec::new();
    for _ in 0..3 {
        bytes.extend_from_slice(&card.frame());
    }
    write_device(&pair.device_side, &bytes);
    let scan = tokio::time::timeout(Duration::from_secs(10), scans.recv())
        .await
        .expect("no badge arrived")
        .unwrap();
    assert_eq!(scan.source, ScanSource::Badge);
    assert_eq!(scan.text, card.hex());
    // The repeats while the card stays in the field are not new badges.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), scans.recv())
            .await
            .is_err()
    );
}
