#![cfg(feature = "payment")]
//! The ZVT driver against the scripted terminal over loopback TCP and a pseudo-terminal, and
//! property tests of the codec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_drivers::payment::sim::{SimResult, TerminalSim};
use gatehouse_drivers::payment::zvt::{self, Apdu, Bmp, Decoded, FrameDecoder, FrameEvent};
use gatehouse_drivers::payment::{
    PaymentOutcome, PaymentRequest, PaymentTerminal, ReversalOutcome, TimeoutResolution, ZvtConfig,
    ZvtTerminal,
};
use gatehouse_drivers::{ErrorKind, HealthState};
use proptest::prelude::*;
use std::time::Duration;

fn quick(mut c: ZvtConfig) -> ZvtConfig {
    c.ack_timeout = Duration::from_secs(3);
    c.transaction_timeout = Duration::from_secs(3);
    c.abort_wait = Duration::from_millis(200);
    c.connect_timeout = Duration::from_secs(2);
    c
}

async fn tcp_pair() -> (TerminalSim, ZvtTerminal) {
    let (sim, addr) = TerminalSim::tcp().await.unwrap();
    let pt = ZvtTerminal::new(quick(ZvtConfig::tcp(addr.to_string()))).unwrap();
    (sim, pt)
}

fn pay(reference: &str, amount_minor: u64) -> PaymentRequest {
    PaymentRequest {
        amount_minor,
        currency: "EUR".into(),
        reference: reference.into(),
    }
}

fn approved(o: &PaymentOutcome) -> (u32, u32, u64) {
    match o {
        PaymentOutcome::Approved {
            receipt_no,
            trace_no,
            amount_minor,
            ..
        } => (*receipt_no, *trace_no, *amount_minor),
        other => panic!("expected an approval, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approves_over_tcp_and_acknowledges_every_terminal_message() {
    let (sim, pt) = tcp_pair().await;
    assert_eq!(pt.health().state, HealthState::Offline);
    let prompts = pt.subscribe_prompts();
    let out = pt.authorise(&pay("T-1", 1250)).await.unwrap();
    let PaymentOutcome::Approved {
        reference, card, ..
    } = &out
    else {
        panic!("expected approval, got {out:?}");
    };
    assert_eq!(reference, "T-1");
    assert_eq!(card.as_deref(), Some("girocard 6799******1234"));
    let (receipt, trace, amount) = approved(&out);
    let charges = sim.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(
        (
            charges[0].receipt_no,
            charges[0].trace_no,
            charges[0].amount_minor
        ),
        (receipt, trace, amount)
    );
    assert_eq!(amount, 1250);
    assert_eq!(charges[0].currency, 978);
    // Registration, then the authorisation with BMP 04 (amount) and BMP 49 (currency).
    let rx = sim.received();
    assert!(rx[0].is(0x06, 0x00));
    assert_eq!(rx[0].data, [0x00, 0x00, 0x00, 0x08, 0x09, 0x78]);
    let auth = rx.iter().find(|a| a.is(0x06, 0x01)).unwrap();
    assert_eq!(auth.data, [0x04, 0, 0, 0, 0, 0x12, 0x50, 0x49, 0x09, 0x78]);
    // Terminal sent: completion (registration), 2 intermediate statuses, status info, completion.
    // (The last ACK may reach the terminal just after the driver returned.)
    let mut acks = 0;
    for _ in 0..100 {
        acks = sim.count_received(0x80, 0x00);
        if acks >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(acks, 5);
    assert!(
        prompts.has_changed().unwrap(),
        "the driver showed no prompt"
    );
    assert_eq!(pt.health().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approves_over_serial_on_a_pty() {
    let (sim, path) = TerminalSim::serial().unwrap();
    let pt = ZvtTerminal::new(quick(ZvtConfig::serial(path, 9600))).unwrap();
    let out = pt.authorise(&pay("S-1", 9_999_999)).await.unwrap();
    assert_eq!(approved(&out).2, 9_999_999);
    assert_eq!(sim.charges().len(), 1);
    assert_eq!(sim.charges()[0].amount_minor, 9_999_999);
    assert_eq!(sim.naks_received(), 0);
    // The serial link stays open for the next payment.
    let out = pt.authorise(&pay("S-2", 300)).await.unwrap();
    assert_eq!(approved(&out).2, 300);
    assert_eq!(sim.count_received(0x06, 0x00), 1, "registered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_charges_nothing_and_may_be_tried_again() {
    let (sim, pt) = tcp_pair().await;
    sim.push(SimResult::Decline(0x78));
    let out = pt.authorise(&pay("D-1", 500)).await.unwrap();
    assert_eq!(
        out,
        PaymentOutcome::Declined {
            reason: "card expired".into(),
            code: 0x78
        }
    );
    assert!(sim.charges().is_empty());
    let again = pt.authorise(&pay("D-1", 500)).await.unwrap();
    assert_eq!(approved(&again).2, 500);
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_aborts() {
    let (sim, pt) = tcp_pair().await;
    sim.push(SimResult::AbortByCustomer);
    let out = pt.authorise(&pay("A-1", 500)).await.unwrap();
    assert_eq!(out, PaymentOutcome::AbortedByCustomer);
    assert!(sim.charges().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_approval_returns_the_recorded_approval_without_charging() {
    let (sim, pt) = tcp_pair().await;
    let first = pt.authorise(&pay("R-1", 700)).await.unwrap();
    let second = pt.authorise(&pay("R-1", 700)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(sim.count_received(0x06, 0x01), 1);
    assert_eq!(sim.charges().len(), 1);
    let err = pt.authorise(&pay("R-1", 800)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_late_after_a_timeout_then_the_retry_charges_exactly_once() {
    let (sim, addr) = TerminalSim::tcp().await.unwrap();
    let mut c = quick(ZvtConfig::tcp(addr.to_string()));
    c.transaction_timeout = Duration::from_millis(400);
    let pt = ZvtTerminal::new(c).unwrap();
    sim.push(SimResult::ApproveLate(Duration::from_millis(1200)));
    let out = pt.authorise(&pay("L-1", 1500)).await.unwrap();
    assert_eq!(
        out,
        PaymentOutcome::TimedOut {
            resolution: TimeoutResolution::CheckedOnRetry
        }
    );
    assert!(sim.count_received(0x06, 0xB0) >= 1, "driver sent no abort");
    let retry = pt.authorise(&pay("L-1", 1500)).await.unwrap();
    let (receipt, trace, amount) = approved(&retry);
    let charges = sim.charges();
    assert_eq!(charges.len(), 1, "double charge: {charges:?}");
    assert_eq!(
        (
            charges[0].receipt_no,
            charges[0].trace_no,
            charges[0].amount_minor
        ),
        (receipt, trace, amount)
    );
    assert_eq!(sim.count_received(0x06, 0x01), 1);
    assert_eq!(
        sim.count_received(0x06, 0x20),
        1,
        "asked for the last transaction"
    );
    // And from now on the approval is remembered.
    assert_eq!(pt.authorise(&pay("L-1", 1500)).await.unwrap(), retry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_approved_after_a_timeout_then_the_retry_charges_exactly_once() {
    let (sim, addr) = TerminalSim::tcp().await.unwrap();
    let mut c = quick(ZvtConfig::tcp(addr.to_string()));
    c.transaction_timeout = Duration::from_millis(400);
    let pt = ZvtTerminal::new(c).unwrap();
    // An earlier payment of the same amount must not be taken for the lost one.
    let earlier = pt.authorise(&pay("N-0", 1500)).await.unwrap();
    sim.push(SimResult::NeverAnswer);
    let out = pt.authorise(&pay("N-1", 1500)).await.unwrap();
    assert_eq!(
        out,
        PaymentOutcome::TimedOut {
            resolution: TimeoutResolution::CheckedOnRetry
        }
    );
    assert_eq!(sim.charges().len(), 1);
    let retry = pt.authorise(&pay("N-1", 1500)).await.unwrap();
    assert_ne!(approved(&retry).1, approved(&earlier).1);
    let charges = sim.charges();
    assert_eq!(charges.len(), 2, "{charges:?}");
    assert_eq!(charges[1].trace_no, approved(&retry).1);
    assert_eq!(sim.count_received(0x06, 0x01), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_approved_over_serial_then_the_retry_charges_exactly_once() {
    let (sim, path) = TerminalSim::serial().unwrap();
    let mut c = quick(ZvtConfig::serial(path, 9600));
    c.transaction_timeout = Duration::from_millis(400);
    let pt = ZvtTerminal::new(c).unwrap();
    sim.push(SimResult::NeverAnswer);
    let out = pt.authorise(&pay("SN-1", 250)).await.unwrap();
    assert!(matches!(out, PaymentOutcome::TimedOut { .. }), "{out:?}");
    assert!(sim.charges().is_empty());
    let retry = pt.authorise(&pay("SN-1", 250)).await.unwrap();
    assert_eq!(approved(&retry).2, 250);
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_payment_is_reconnected_and_charged_once() {
    let (sim, pt) = tcp_pair().await;
    sim.push(SimResult::DropConnection);
    let out = pt.authorise(&pay("X-1", 900)).await.unwrap();
    assert!(matches!(out, PaymentOutcome::TimedOut { .. }), "{out:?}");
    assert_ne!(pt.health().state, HealthState::Ok);
    let retry = pt.authorise(&pay("X-1", 900)).await.unwrap();
    assert_eq!(approved(&retry).2, 900);
    assert_eq!(sim.charges().len(), 1);
    assert_eq!(sim.count_received(0x06, 0x00), 2, "registered again");
    assert_eq!(pt.health().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_removes_the_charge_once() {
    let (sim, pt) = tcp_pair().await;
    let out = pt.authorise(&pay("V-1", 1200)).await.unwrap();
    pt.authorise(&pay("V-2", 300)).await.unwrap();
    let (receipt, _, _) = approved(&out);
    let rev = pt.reverse("V-1").await.unwrap();
    let ReversalOutcome::Reversed {
        receipt_no,
        amount_minor,
        ..
    } = rev.clone()
    else {
        panic!("expected reversal, got {rev:?}");
    };
    assert_eq!((receipt_no, amount_minor), (receipt, 1200));
    let charges = sim.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount_minor, 300);
    let rev_cmd = sim
        .received()
        .into_iter()
        .find(|a| a.is(0x06, 0x30))
        .unwrap();
    assert_eq!(&rev_cmd.data[3..], &[0x87, 0x00, receipt as u8]);
    assert_eq!(pt.reverse("V-1").await.unwrap(), rev, "idempotent");
    assert_eq!(sim.count_received(0x06, 0x30), 1);
    assert_eq!(
        pt.reverse("nope").await.unwrap_err().kind,
        ErrorKind::Device
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_day_totals_match_the_terminal_ledger() {
    let (sim, pt) = tcp_pair().await;
    for (r, a) in [("E-1", 250), ("E-2", 1250), ("E-3", 4000), ("E-4", 99)] {
        pt.authorise(&pay(r, a)).await.unwrap();
    }
    pt.reverse("E-3").await.unwrap();
    let charges = sim.charges();
    let totals = pt.end_of_day().await.unwrap();
    assert_eq!(
        totals.total_minor,
        charges.iter().map(|c| c.amount_minor).sum::<u64>()
    );
    assert_eq!(totals.total_minor, 1599);
    assert_eq!(totals.count as usize, charges.len());
    assert_eq!(totals.receipt_from, Some(charges[0].receipt_no));
    assert_eq!(sim.day_totals(), vec![(3, 1599)]);
    // The next day starts empty.
    let next = pt.end_of_day().await.unwrap();
    assert_eq!((next.total_minor, next.count), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_tcp_is_answered_with_a_protocol_error_and_the_payment_goes_through() {
    let (sim, pt) = tcp_pair().await;
    sim.garble_next();
    let out = pt.authorise(&pay("G-1", 100)).await.unwrap();
    assert_eq!(approved(&out).2, 100);
    assert_eq!(sim.count_received(0x84, 0x9A), 1);
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_crc_on_serial_is_naked_and_the_payment_goes_through() {
    let (sim, path) = TerminalSim::serial().unwrap();
    let pt = ZvtTerminal::new(quick(ZvtConfig::serial(path, 9600))).unwrap();
    sim.garble_next();
    let out = pt.authorise(&pay("GS-1", 100)).await.unwrap();
    assert_eq!(approved(&out).2, 100);
    assert_eq!(sim.naks_received(), 1);
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_that_is_gone_makes_the_driver_offline_without_charging() {
    let (sim, pt) = tcp_pair().await;
    pt.authorise(&pay("O-1", 100)).await.unwrap();
    assert_eq!(pt.health().state, HealthState::Ok);
    drop(sim);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = pt.authorise(&pay("O-2", 100)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Io, "{err}");
    assert_eq!(pt.health().state, HealthState::Offline);
    // Nothing is held as unknown: the terminal never accepted O-2.
    assert!(!pt.memory().references.contains_key("O-2"));
}

// ---------------------------------------------------------------------------------------------
// Codec properties

fn apdu() -> impl Strategy<Value = Apdu> {
    (
        prop::sample::select(zvt::KNOWN_CLASSES.to_vec()),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(c, i, d)| Apdu::new(c, i, d))
}

fn bmp() -> impl Strategy<Value = Bmp> {
    let tags: Vec<u8> = (0..=255u8)
        .filter(|t| zvt::bmp_format(*t).is_some())
        .collect();
    (
        prop::sample::select(tags),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(tag, mut value)| {
            match zvt::bmp_format(tag) {
                Some(zvt::BmpFormat::Fixed(n)) => value.resize(n, 0x11),
                Some(zvt::BmpFormat::Ll) => value.truncate(99),
                _ => {}
            }
            Bmp { tag, value }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn apdu_round_trips(a in apdu(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = a.encode().unwrap();
        let n = bytes.len();
        bytes.extend(tail);
        prop_assert_eq!(Apdu::decode(&bytes), Decoded::Complete(a.clone(), n));
        prop_assert_eq!(Apdu::decode_exact(&bytes[..n]), Ok(a));
        // Every strict prefix is incomplete, never a wrong APDU.
        for cut in 0..n.min(8) {
            prop_assert_eq!(Apdu::decode(&bytes[..cut]), Decoded::Incomplete);
        }
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Apdu::decode(&bytes);
        let _ = Apdu::decode_exact(&bytes);
        let _ = zvt::parse_bmps(&bytes);
        let _ = gatehouse_drivers::payment::StatusInfo::parse(&bytes);
        let _ = zvt::pan_decode(&bytes);
        let _ = zvt::bcd_decode(&bytes);
    }

    #[test]
    fn bmps_round_trip(bmps in prop::collection::vec(bmp(), 0..6)) {
        let bytes = zvt::encode_bmps(&bmps).unwrap();
        let parsed = zvt::parse_bmps(&bytes);
        prop_assert_eq!(parsed.error, None);
        prop_assert_eq!(parsed.bmps, bmps);
    }

    #[test]
    fn bcd_amount_round_trips(v in 0u64..1_000_000_000_000) {
        let b = zvt::bcd_encode(v, 6).unwrap();
        prop_assert_eq!(b.len(), 6);
        prop_assert_eq!(zvt::bcd_decode(&b), Some(v));
        // Reads the same as the decimal digits.
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        prop_assert_eq!(hex, format!("{v:012}"));
    }

    #[test]
    fn serial_frames_round_trip_in_any_chunking(
        payload in prop::collection::vec(prop_oneof![Just(0x10u8), Just(0x03), Just(0x02), any::<u8>()], 0..300),
        cuts in prop::collection::vec(0usize..400, 0..5),
    ) {
        let frame = zvt::frame_encode(&payload);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (frame.len() + 1)).collect();
        cuts.sort_unstable();
        let mut dec = FrameDecoder::new();
        let mut events = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([frame.len()]) {
            events.extend(dec.feed(&frame[at..c]));
            at = c;
        }
        prop_assert_eq!(events, vec![FrameEvent::Frame(payload)]);
    }

    #[test]
    fn a_corrupted_frame_is_never_taken_for_the_original(
        payload in prop::collection::vec(any::<u8>(), 1..100),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut frame = zvt::frame_encode(&payload);
        let i = at.index(frame.len());
        frame[i] ^= flip;
        let events = FrameDecoder::new().feed(&frame);
        prop_assert!(!events.contains(&FrameEvent::Frame(payload)), "{:?}", events);
    }

    #[test]
    fn the_frame_decoder_never_panics(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..10)) {
        let mut dec = FrameDecoder::new();
        for c in chunks {
            for ev in dec.feed(&c) {
                if let FrameEvent::Frame(p) = ev {
                    prop_assert!(p.len() <= 5 + 0xFFFF);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_lane_stops_while_the_terminal_waits_for_the_card_charges_nothing() {
    let (sim, pt) = tcp_pair().await;
    let pt = std::sync::Arc::new(pt);
    sim.push(SimResult::WaitForCard);
    let waiting = {
        let pt = pt.clone();
        tokio::spawn(async move { pt.authorise(&pay("C-1", 450)).await })
    };
    // The driver scans a voucher instead of presenting a card.
    tokio::time::sleep(Duration::from_millis(300)).await;
    pt.cancel("C-1").await;
    let out = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the stopped payment answers at once, not at the transaction timeout")
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            out,
            PaymentOutcome::TimedOut {
                resolution: TimeoutResolution::NotCharged
            }
        ),
        "{out:?}"
    );
    assert!(sim.charges().is_empty());
    assert_eq!(sim.count_received(0x06, 0xB0), 1, "one Abort sent");
    // The terminal takes the next payment as usual.
    let next = pt.authorise(&pay("C-2", 200)).await.unwrap();
    assert_eq!(approved(&next).2, 200);
    // A cancel for a payment that has not started stops it before anything is sent.
    pt.cancel("C-3").await;
    let before = sim.count_received(0x06, 0x01);
    let out = pt.authorise(&pay("C-3", 200)).await.unwrap();
    assert_eq!(out, PaymentOutcome::AbortedByCustomer);
    assert_eq!(sim.count_received(0x06, 0x01), before);
}
