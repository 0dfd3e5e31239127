//! The ESC/POS driver against the simulated printer over loopback TCP and a real PTY.
#![cfg(feature = "printer")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_drivers::printer::sim::PrinterSim;
use gatehouse_drivers::printer::{
    Decoded, EscPosPrinter, PrinterConfig, PrinterLink, TicketLayout, TicketPrinter, decode,
    decode_status, decode_tickets, escpos,
};
use gatehouse_drivers::{ErrorKind, HealthState};
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn layout(n: u32) -> TicketLayout {
    TicketLayout {
        lot_name: "Marktplatz Süd".into(),
        title: "Entry ticket".into(),
        lines: vec![
            ("Entry".into(), "2024-05-01 08:12".into()),
            ("Level".into(), "-1".into()),
            ("Spot".into(), "B17".into()),
            ("Ticket".into(), format!("{n:06}")),
        ],
        qr_payload: format!("GH1:lot=7;t={n:06};in=1714551120;sig=3fA9k2"),
        footer: "Keep this ticket\nPay at the machine before you leave".into(),
    }
}

fn printer(link: PrinterLink) -> EscPosPrinter {
    let mut cfg = PrinterConfig::new(link);
    cfg.status_timeout = Duration::from_millis(300);
    cfg.connect_timeout = Duration::from_millis(500);
    EscPosPrinter::new(cfg)
}

fn assert_ticket(t: &Decoded, n: u32) {
    let l = layout(n);
    assert_eq!(t.text_lines[0], l.lot_name, "lot name first: {t:?}");
    assert!(t.double.contains(&l.lot_name), "lot name double size");
    assert!(t.bold.contains(&l.lot_name), "lot name bold");
    assert!(t.text_lines.contains(&l.title));
    for (label, value) in &l.lines {
        assert_eq!(t.value_of(label), Some(value.as_str()), "{label}");
    }
    assert!(t.text_lines.iter().any(|x| x == "Keep this ticket"));
    assert_eq!(t.qr_payloads, vec![l.qr_payload]);
    assert_eq!(t.cuts, 1);
}

async fn print_and_check(sim: &PrinterSim, p: &EscPosPrinter) {
    let status = p.print_ticket(&layout(1)).await.unwrap();
    assert!(status.online && !status.paper_out);
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 1);
    assert_ticket(&tickets[0], 1);
    assert_eq!(decode(&sim.raw()).cuts, 1);
    assert_eq!(p.health().borrow().state, HealthState::Ok);
}

#[tokio::test]
async fn a_ticket_printed_over_tcp_is_read_back_with_lot_lines_qr_and_one_cut() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    let p = printer(sim.link());
    print_and_check(&sim, &p).await;
}

#[tokio::test]
async fn a_ticket_printed_over_a_serial_pty_is_read_back() {
    let sim = PrinterSim::start_pty().await.unwrap();
    let p = printer(sim.link());
    print_and_check(&sim, &p).await;
}

#[tokio::test]
async fn a_ticket_printed_to_a_device_file_is_read_back() {
    let sim = PrinterSim::start_pty().await.unwrap();
    let path = sim.pty_path().unwrap().to_path_buf();
    let p = printer(PrinterLink::DeviceFile { path });
    print_and_check(&sim, &p).await;
}

#[tokio::test]
async fn a_z_report_prints_its_42_column_lines_and_cuts() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    let p = printer(sim.link());
    let lines = [
        format!("{:^42}", "Z-REPORT 0042"),
        format!("{:<30}{:>12}", "Tickets issued", "318"),
        format!("{:<30}{:>12}", "Cash", "1 234,50 EUR"),
        String::new(),
        "-".repeat(42),
    ];
    p.print_text(&lines.join("\n")).await.unwrap();
    let t = &sim.tickets()[0];
    assert_eq!(t.text_lines, lines);
    assert!(t.text_lines.iter().all(|l| l.chars().count() <= 42));
    assert_eq!(t.cuts, 1);
}

#[tokio::test]
async fn when_the_roll_runs_out_mid_day_printing_is_refused_until_a_new_roll() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    sim.set_paper_runs_out_after(Some(2));
    let p = printer(sim.link());
    p.print_ticket(&layout(1)).await.unwrap();
    p.print_ticket(&layout(2)).await.unwrap();

    // The third ticket starts on an empty roll: the check after printing reports it.
    let e = p.print_ticket(&layout(3)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Device);
    assert!(e.message.contains("paper"), "{e}");
    assert_eq!(p.health().borrow().state, HealthState::Offline);
    assert!(p.health().borrow().reason.contains("paper"));

    // The next one is refused before anything is sent.
    let before = sim.raw().len();
    let e = p.print_ticket(&layout(4)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Device);
    assert!(e.message.contains("out of paper"), "{e}");
    let sent = decode(&sim.raw()[before..]);
    assert!(sent.text_lines.is_empty() && sent.cuts == 0, "{sent:?}");
    assert_eq!(sim.tickets().len(), 2);

    sim.set_paper_out(false);
    p.print_ticket(&layout(5)).await.unwrap();
    assert_eq!(p.health().borrow().state, HealthState::Ok);
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 3);
    assert_ticket(&tickets[2], 5);
}

#[tokio::test]
async fn paper_near_end_still_prints_but_health_is_degraded() {
    let sim = PrinterSim::start_pty().await.unwrap();
    sim.set_paper_near_end(true);
    let p = printer(sim.link());
    let s = p.print_ticket(&layout(1)).await.unwrap();
    assert!(s.paper_near_end);
    assert_eq!(sim.tickets().len(), 1);
    let h = p.health().borrow().clone();
    assert_eq!(h.state, HealthState::Degraded);
    assert!(h.reason.contains("near end"), "{}", h.reason);
}

#[tokio::test]
async fn an_open_cover_is_refused_and_reported() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    sim.set_cover_open(true);
    let p = printer(sim.link());
    let e = p.print_ticket(&layout(1)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Device);
    assert!(e.message.contains("cover"), "{e}");
    assert!(sim.tickets().is_empty());
    let s = p.status().await.unwrap();
    assert!(s.cover_open && !s.online);
    sim.set_cover_open(false);
    p.print_ticket(&layout(2)).await.unwrap();
    assert_eq!(sim.tickets().len(), 1);
}

#[tokio::test]
async fn a_printer_that_does_not_answer_status_is_offline_within_the_timeout() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    sim.set_answering(false);
    let p = printer(sim.link());
    let t0 = Instant::now();
    let e = p.print_ticket(&layout(1)).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert_eq!(p.health().borrow().state, HealthState::Offline);
    assert!(sim.tickets().is_empty());
    assert!(decode(&sim.raw()).text_lines.is_empty(), "nothing printed");

    sim.set_answering(true);
    p.print_ticket(&layout(2)).await.unwrap();
    assert_eq!(p.health().borrow().state, HealthState::Ok);
    assert_eq!(sim.tickets().len(), 1);
}

#[tokio::test]
async fn after_a_connection_loss_the_next_job_reconnects() {
    let sim = PrinterSim::start_tcp().await.unwrap();
    let p = printer(sim.link());
    p.print_ticket(&layout(1)).await.unwrap();
    sim.disconnect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    p.print_ticket(&layout(2)).await.unwrap();
    assert_eq!(sim.connections(), 2);
    assert_eq!(sim.tickets().len(), 2);
    assert_ticket(&sim.tickets()[1], 2);
}

#[tokio::test]
async fn a_printer_nobody_listens_for_is_an_io_error_and_offline() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let p = printer(PrinterLink::Tcp { addr });
    let e = p.status().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io, "{e}");
    assert!(e.message.contains("cannot connect"), "{e}");
    assert_eq!(p.health().borrow().state, HealthState::Offline);
}

#[test]
fn text_is_mapped_to_code_page_437_and_unprintable_characters_are_replaced() {
    let d = decode(&escpos::encode_text("Grüße 5 €\tŘ ok"));
    assert_eq!(d.text_lines, vec!["Grüße 5 EUR ? ok"]);
}

#[test]
fn unknown_commands_are_skipped_by_their_lengths() {
    let mut b = b"\x1b@A\n".to_vec();
    b.extend_from_slice(b"\x1bp\x00\x19\xfa"); // drawer kick: 0x19 and 0xfa are no text
    b.extend_from_slice(b"\x1d\x76\x30\x00\x01\x00\x02\x00\x41\x42"); // 1×2 raster: "AB" is image
    b.extend_from_slice(b"\x1b\x5a"); // unknown ESC Z
    b.extend_from_slice(b"B\n\x1dV\x00");
    let d = decode(&b);
    assert_eq!(d.text_lines, vec!["A", "B"]);
    assert_eq!(d.cuts, 1);
    assert_eq!(decode_tickets(&b).len(), 1);
}

#[test]
fn status_bytes_decode_to_paper_cover_and_errors() {
    let s = decode_status([0x12, 0x12, 0x12, 0x12]).unwrap();
    assert!(s.online && !s.paper_out && s.problem().is_none());
    let s = decode_status([0x1A, 0x32, 0x12, 0x72]).unwrap();
    assert!(!s.online && s.paper_out);
    assert!(s.problem().unwrap().contains("out of paper"));
    let s = decode_status([0x12, 0x12, 0x12, 0x1E]).unwrap();
    assert!(s.paper_near_end && s.problem().is_none() && s.warning().is_some());
    let s = decode_status([0x1A, 0x56, 0x1A, 0x12]).unwrap();
    assert!(s.cover_open);
    assert!(s.error.unwrap().contains("autocutter"));
    let e = decode_status([0x12, 0x12, 0x00, 0x12]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{1,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let d = decode(&b);
        let t = decode_tickets(&b);
        prop_assert_eq!(t.len() <= d.cuts, true);
    }

    #[test]
    fn decode_never_panics_on_mangled_tickets(n in 0u32..1000, cut in 0usize..400, junk in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut b = escpos::encode_ticket(&layout(n)).unwrap();
        b.truncate(cut.min(b.len()));
        b.extend(junk);
        let _ = decode(&b);
    }

    #[test]
    fn status_decoding_never_panics(r in any::<[u8; 4]>()) {
        if let Ok(s) = decode_status(r) {
            prop_assert_eq!(s.online, r[0] & 0x08 == 0);
        }
    }

    #[test]
    fn encode_then_decode_round_trips_lines_and_qr(
        lot in text(), title in text(),
        lines in proptest::collection::vec((text(), text()), 0..8),
        qr in "[ -~]{1,400}", footer in proptest::collection::vec(text(), 0..3),
    ) {
        let l = TicketLayout { lot_name: lot, title, lines, qr_payload: qr, footer: footer.join("\n") };
        let d = decode(&escpos::encode_ticket(&l).unwrap());
        let mut want = vec![l.lot_name.clone(), l.title.clone()];
        want.extend(l.lines.iter().map(|(a, b)| format!("{a}: {b}")));
        want.extend(footer);
        prop_assert_eq!(d.text_lines, want);
        prop_assert_eq!(d.qr_payloads, vec![l.qr_payload]);
        prop_assert_eq!(d.cuts, 1);
        prop_assert_eq!(d.skipped, 0);
    }

    #[test]
    fn any_qr_text_round_trips_as_utf8(qr in "\\PC{1,200}") {
        let l = TicketLayout { lot_name: "P".into(), qr_payload: qr.clone(), ..Default::default() };
        prop_assert_eq!(decode(&escpos::encode_ticket(&l).unwrap()).qr_payloads, vec![qr]);
    }
}
