//! Readers against their simulators over real pseudo-terminals, plus decoder property tests.
#![cfg(feature = "readers")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use evdev::KeyCode;
use gatehouse_drivers::readers::sim::{LineEnd, Rdm6300Sim, ScannerSim};
use gatehouse_drivers::readers::wedge::{KeyTranslator, WedgeError, keystrokes_for};
use gatehouse_drivers::readers::{
    CardId, FrameError, LineError, LineScannerConfig, LineSplitter, Rdm6300Config, Rdm6300Decoder,
    Reader, ReaderDriver, Scan, ScanSource, WedgeConfig,
};
use gatehouse_drivers::{Health, HealthState};
use proptest::prelude::*;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

const WAIT: Duration = Duration::from_secs(10);

async fn wait_health(rx: &mut watch::Receiver<Health>, state: HealthState) -> Health {
    wait_health_where(rx, |h| h.state == state).await
}

async fn wait_health_where(
    rx: &mut watch::Receiver<Health>,
    f: impl FnMut(&Health) -> bool,
) -> Health {
    let waited = tokio::time::timeout(WAIT, rx.wait_for(f))
        .await
        .map(|r| r.unwrap().clone());
    match waited {
        Ok(h) => h,
        Err(_) => panic!(
            "reader health did not change as expected: {:?}",
            *rx.borrow()
        ),
    }
}

async fn next_scan(rx: &mut broadcast::Receiver<Scan>) -> Scan {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no scan arrived")
        .unwrap()
}

async fn no_scan_within(rx: &mut broadcast::Receiver<Scan>, d: Duration) {
    if let Ok(scan) = tokio::time::timeout(d, rx.recv()).await {
        panic!("unexpected scan {scan:?}");
    }
}

#[tokio::test]
async fn scans_end_with_cr_lf_or_crlf_and_arrive_trimmed() {
    let mut sim = ScannerSim::start().unwrap();
    let driver = ReaderDriver::line_scanner(LineScannerConfig::new(sim.path())).unwrap();
    let (mut scans, mut health) = (driver.scans(), driver.health());
    wait_health(&mut health, HealthState::Ok).await;

    for (end, text) in [
        (LineEnd::CrLf, "GH1-T-000123"),
        (LineEnd::Cr, "  https://p.example/t/9 "),
        (LineEnd::Lf, "4006381333931"),
    ] {
        sim.set_line_end(end);
        sim.scan(text).await.unwrap();
        let scan = next_scan(&mut scans).await;
        assert_eq!(scan.text, text.trim());
        assert_eq!(scan.source, ScanSource::QrOrBarcode);
    }
    no_scan_within(&mut scans, Duration::from_millis(200)).await;
    assert_eq!(sim.scans_sent(), 3);
}

#[tokio::test]
async fn garbage_bad_utf8_and_an_oversized_line_are_skipped_and_the_next_scan_arrives() {
    let mut sim = ScannerSim::start().unwrap();
    let mut config = LineScannerConfig::new(sim.path());
    config.max_line = 64;
    let driver = ReaderDriver::line_scanner(config).unwrap();
    let (mut scans, mut health) = (driver.scans(), driver.health());
    wait_health(&mut health, HealthState::Ok).await;

    sim.send_raw(b"\x01\x1b[2J\x07noise\r\n").await.unwrap();
    sim.send_raw(b"\xff\xfe\xc3(\n").await.unwrap();
    // 100 bytes in two writes: the driver must drop them and resynchronise at the line end.
    sim.send_raw(&[b'A'; 60]).await.unwrap();
    sim.send_raw(&[b'B'; 40]).await.unwrap();
    sim.send_raw(b"\r\n").await.unwrap();
    sim.scan("GOOD-1").await.unwrap();

    assert_eq!(next_scan(&mut scans).await.text, "GOOD-1");
    no_scan_within(&mut scans, Duration::from_millis(200)).await;
    assert_eq!(health.borrow().state, HealthState::Ok);
}

fn rfid_driver(sim: &Rdm6300Sim, window: Duration) -> ReaderDriver {
    let mut config = Rdm6300Config::new(sim.path());
    config.repeat_window = window;
    ReaderDriver::rdm6300(config).unwrap()
}

#[tokio::test]
async fn a_card_held_in_the_field_is_one_scan_and_a_second_visit_is_another() {
    let mut sim = Rdm6300Sim::start().unwrap();
    let driver = rfid_driver(&sim, Duration::from_millis(400));
    let (mut scans, mut health) = (driver.scans(), driver.health());
    wait_health(&mut health, HealthState::Ok).await;

    let card = CardId::new(0x0A, 0x0012_F3C4);
    sim.set_dwell(6, Duration::from_millis(40));
    sim.present_card(card).await.unwrap();
    let scan = next_scan(&mut scans).await;
    assert_eq!(scan.text, "0A0012F3C4");
    assert_eq!(scan.source, ScanSource::Badge);
    no_scan_within(&mut scans, Duration::from_millis(300)).await;
    assert_eq!(sim.frames_sent(), 6);

    // Another card at once is a new scan; the first card after leaving the field is too.
    let other = CardId::new(0x01, 7);
    sim.present_card(other).await.unwrap();
    assert_eq!(next_scan(&mut scans).await.text, other.hex());
    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.present_card(card).await.unwrap();
    assert_eq!(next_scan(&mut scans).await.text, card.hex());
    no_scan_within(&mut scans, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn garbage_a_bad_checksum_and_a_cut_off_frame_are_skipped_and_the_next_card_arrives() {
    let mut sim = Rdm6300Sim::start().unwrap();
    let driver = rfid_driver(&sim, Duration::from_secs(1));
    let (mut scans, mut health) = (driver.scans(), driver.health());
    wait_health(&mut health, HealthState::Ok).await;

    let mut bad = CardId::new(0x0A, 0x0012_F3C4).frame();
    bad[12] = if bad[12] == b'0' { b'1' } else { b'0' };
    sim.send_raw(b"\x00\xffhello\x03").await.unwrap();
    sim.send_raw(&bad).await.unwrap();
    sim.send_raw(b"\x020A00Z").await.unwrap(); // cut off by the next frame's STX
    let card = CardId::new(0x12, 0xDEAD_BEEF);
    sim.present_card(card).await.unwrap();

    assert_eq!(next_scan(&mut scans).await.text, "12DEADBEEF");
    no_scan_within(&mut scans, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn pulling_the_cable_takes_the_reader_offline_and_it_recovers_on_the_same_path() {
    // Installers configure the stable /dev/serial/by-id link, which is recreated (possibly
    // pointing at another ttyUSBn) when the cable is plugged back in. The PTY path stands in for
    // ttyUSBn, a symlink in a temporary directory for the by-id link.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("usb-Scanner_1234-if00");
    let mut first = ScannerSim::start().unwrap();
    std::os::unix::fs::symlink(first.path(), &link).unwrap();

    let driver = ReaderDriver::line_scanner(LineScannerConfig::new(&link)).unwrap();
    let (mut scans, mut health) = (driver.scans(), driver.health());
    wait_health(&mut health, HealthState::Ok).await;
    first.scan("BEFORE").await.unwrap();
    assert_eq!(next_scan(&mut scans).await.text, "BEFORE");

    drop(first);
    std::fs::remove_file(&link).unwrap();
    let offline = wait_health(&mut health, HealthState::Offline).await;
    assert!(
        offline.reason.contains(&link.display().to_string()),
        "reason should name the port: {}",
        offline.reason
    );

    let mut second = ScannerSim::start().unwrap();
    std::os::unix::fs::symlink(second.path(), &link).unwrap();
    wait_health(&mut health, HealthState::Ok).await;
    second.scan("AFTER").await.unwrap();
    assert_eq!(next_scan(&mut scans).await.text, "AFTER");
}

#[tokio::test]
async fn a_missing_keyboard_wedge_device_is_offline_with_its_path() {
    let config = WedgeConfig::new("/dev/input/by-id/no-such-reader-event-kbd");
    let driver = ReaderDriver::keyboard_wedge(config).unwrap();
    let mut health = driver.health();
    let h = wait_health_where(&mut health, |h| h.reason.contains("cannot open")).await;
    assert_eq!(h.state, HealthState::Offline);
    assert!(h.reason.contains("keyboard-wedge reader"), "{}", h.reason);
    assert!(h.reason.contains("no-such-reader"), "{}", h.reason);
    assert!(ReaderDriver::line_scanner(LineScannerConfig::new("")).is_err());
}

fn type_keys(t: &mut KeyTranslator, keys: &[(KeyCode, i32)]) -> Vec<Result<String, WedgeError>> {
    keys.iter().filter_map(|&(k, v)| t.key(k, v)).collect()
}

#[test]
fn wedge_keys_with_shift_caps_lock_and_keypad_become_text_at_enter() {
    use KeyCode as K;
    let mut t = KeyTranslator::new(32);
    let keys = [
        (K::KEY_RIGHTSHIFT, 1),
        (K::KEY_G, 1),
        (K::KEY_G, 0),
        (K::KEY_H, 1),
        (K::KEY_RIGHTSHIFT, 0),
        (K::KEY_H, 0),
        (K::KEY_MINUS, 1),
        (K::KEY_CAPSLOCK, 1),
        (K::KEY_CAPSLOCK, 0),
        (K::KEY_X, 1),
        (K::KEY_LEFTSHIFT, 1),
        (K::KEY_Y, 1),
        (K::KEY_1, 1),
        (K::KEY_LEFTSHIFT, 0),
        (K::KEY_CAPSLOCK, 1),
        (K::KEY_KP4, 1),
        (K::KEY_KP2, 1),
        (K::KEY_KP2, 2), // autorepeat: ignored
        (K::KEY_KPENTER, 1),
        (K::KEY_KPENTER, 0),
    ];
    assert_eq!(type_keys(&mut t, &keys), vec![Ok("GH-Xy!42".to_string())]);
    // Caps Lock is off again: the next scan starts clean.
    let next = keystrokes_for("abc").unwrap();
    assert_eq!(type_keys(&mut t, &next), vec![Ok("abc".to_string())]);
}

#[test]
fn a_wedge_scan_with_an_unmapped_key_or_too_long_is_skipped_and_the_next_one_arrives() {
    use KeyCode as K;
    let mut t = KeyTranslator::new(4);
    let keys = [
        (K::KEY_A, 1),
        (K::KEY_F5, 1),
        (K::KEY_B, 1),
        (K::KEY_ENTER, 1),
    ];
    assert_eq!(
        type_keys(&mut t, &keys),
        vec![Err(WedgeError::UnmappedKey(K::KEY_F5.code()))]
    );
    let long = keystrokes_for("ABCDE").unwrap();
    assert_eq!(
        type_keys(&mut t, &long),
        vec![Err(WedgeError::Oversized { max: 4 })]
    );
    let ok = keystrokes_for("A1").unwrap();
    assert_eq!(type_keys(&mut t, &ok), vec![Ok("A1".to_string())]);
    assert_eq!(type_keys(&mut t, &[(K::KEY_ENTER, 1)]), vec![]);
}

/// Splits `bytes` at the given cut points and feeds the pieces one by one.
fn chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts {
        out.push(bytes[start..c].to_vec());
        start = c;
    }
    out.push(bytes[start..].to_vec());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn line_splitter_never_panics_and_stays_bounded(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        max in 1usize..600,
    ) {
        let mut s = LineSplitter::new(max);
        for chunk in chunks(&bytes, &cuts) {
            for text in s.push(&chunk).into_iter().flatten() {
                prop_assert!(text.len() <= max);
                prop_assert!(!text.is_empty() && !text.contains(['\r', '\n']));
            }
        }
    }

    #[test]
    fn line_splitter_finds_a_line_embedded_in_garbage(
        before in proptest::collection::vec(any::<u8>(), 0..1024),
        after in proptest::collection::vec(any::<u8>(), 0..64),
        line in "[ -~]{0,30}[!-~]",
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = before.clone();
        stream.push(b'\n');
        stream.extend_from_slice(line.as_bytes());
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(&after);
        let mut s = LineSplitter::new(64);
        let out: Vec<Result<String, LineError>> =
            chunks(&stream, &cuts).iter().flat_map(|c| s.push(c)).collect();
        prop_assert!(out.contains(&Ok(line.trim().to_string())), "{:?}", out);
    }

    #[test]
    fn rdm6300_decoder_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut d = Rdm6300Decoder::default();
        for chunk in chunks(&bytes, &cuts) {
            for card in d.push(&chunk).into_iter().flatten() {
                prop_assert_eq!(CardId::from_hex(&card.hex()).unwrap(), card);
            }
        }
    }

    #[test]
    fn rdm6300_decoder_finds_a_frame_embedded_in_garbage(
        before in proptest::collection::vec(any::<u8>(), 0..1024),
        after in proptest::collection::vec(any::<u8>(), 0..64),
        version in any::<u8>(),
        id in any::<u32>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let card = CardId::new(version, id);
        let mut stream = before.clone();
        stream.extend_from_slice(&card.frame());
        stream.extend_from_slice(&after);
        let mut d = Rdm6300Decoder::new(Duration::ZERO);
        let out: Vec<Result<CardId, FrameError>> =
            chunks(&stream, &cuts).iter().flat_map(|c| d.push(c)).collect();
        prop_assert!(out.contains(&Ok(card)), "{:?}", out);
    }

    #[test]
    fn a_frame_encoded_by_the_simulator_decodes_to_the_same_card(version in any::<u8>(), id in any::<u32>()) {
        let card = CardId::new(version, id);
        let frame = card.frame();
        prop_assert_eq!(frame.len(), 14);
        prop_assert_eq!(Rdm6300Decoder::default().push(&frame), vec![Ok(card)]);
        prop_assert_eq!(CardId::from_hex(&card.to_string()).unwrap(), card);
    }

    #[test]
    fn text_typed_by_a_wedge_reader_translates_back(text in "[ -~]{1,40}") {
        let keys = keystrokes_for(&text).unwrap();
        let mut t = KeyTranslator::new(64);
        let out = type_keys(&mut t, &keys);
        let want: Vec<Result<String, WedgeError>> =
            if text.trim().is_empty() { vec![] } else { vec![Ok(text.trim().to_string())] };
        prop_assert_eq!(out, want);
    }
}
