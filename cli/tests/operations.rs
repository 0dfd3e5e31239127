//! Day-to-day operations end to end through the `gatehouse` binary on the demo lot:
//! reservations, permits, vouchers, shifts with the Z-report, users and roles, alerts, and the
//! PDF report rendered to PNG by poppler.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::lot;

#[test]
fn reservation_permit_voucher_and_shift_flows_from_the_command_line() {
    let lot = lot();
    // A reservation for this afternoon; the car arrives by plate within the hold.
    let (ok, r) = lot.json(
        "08:00",
        &[
            "reservation",
            "book",
            "--plate",
            "M-RS 2026",
            "--start",
            "2026-11-18T14:00:00+01:00",
            "--end",
            "2026-11-18T16:00:00+01:00",
        ],
    );
    assert!(ok, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    let (ok, avail) = lot.json(
        "08:01",
        &[
            "reservation",
            "availability",
            "--start",
            "2026-11-18T14:00:00+01:00",
            "--end",
            "2026-11-18T15:00:00+01:00",
        ],
    );
    assert!(ok, "{avail}");
    assert_eq!(avail["booked_peak"], 1);
    let (ok, e) = lot.json("13:50", &["entry", "--plate", "M-RS 2026"]);
    assert!(ok, "{e}");
    assert_eq!(e["reservation"].as_str(), Some(code.as_str()));
    let (_, shown) = lot.json("13:51", &["reservation", "show", &code]);
    assert_eq!(shown["status"], "arrived");

    // A permit by plate: in and out without paying.
    let (ok, p) = lot.json(
        "08:02",
        &[
            "--role",
            "supervisor",
            "permit",
            "issue",
            "--kind",
            "staff",
            "--holder",
            "Night Porter",
            "--plate",
            "P-ST 1",
            "--from",
            "2026-11-01T00:00:00+01:00",
            "--to",
            "2026-12-01T00:00:00+01:00",
        ],
    );
    assert!(ok, "{p}");
    let (ok, pe) = lot.json("09:00", &["entry", "--plate", "P-ST 1"]);
    assert!(ok && pe["permit"].is_i64(), "{pe}");
    let (ok, px) = lot.json("17:00", &["exit", "--plate", "P-ST 1"]);
    assert!(ok, "{px}");
    assert_eq!(px["fee"], "0.00");

    // A merchant voucher for an hour, applied at the booth.
    let (ok, v) = lot.json(
        "08:03",
        &[
            "--role",
            "supervisor",
            "voucher",
            "issue",
            "--merchant",
            "Bookshop",
            "--minutes",
            "60",
        ],
    );
    assert!(ok, "{v}");
    let (_, car) = lot.json("10:00", &["entry", "--plate", "V-CH 1"]);
    let ticket = car["ticket"].as_str().unwrap().to_string();
    let (ok, applied) = lot.json(
        "11:30",
        &[
            "voucher",
            "apply",
            v["qr"].as_str().unwrap(),
            "--ticket",
            &ticket,
        ],
    );
    assert!(ok, "{applied}");
    let (_, q) = lot.json("11:30", &["quote", "--ticket", &ticket]);
    assert_eq!(q["total"], "3.00");

    // The cashier's shift: cash in, counted short, the Z-report as text and PDF.
    let cashier = ["--actor", "carla", "--role", "cashier"];
    let with = |args: &[&str]| -> Vec<String> {
        cashier.iter().chain(args).map(|s| s.to_string()).collect()
    };
    let run = |time: &str, args: &[&str]| {
        let v = with(args);
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        lot.json(time, &refs)
    };
    assert!(run("07:00", &["shift", "open", "--float", "100"]).0);
    let (ok, paid) = run(
        "11:31",
        &[
            "pay", "--ticket", &ticket, "--method", "cash", "--amount", "5",
        ],
    );
    assert!(ok, "{paid}");
    // A cashier may not refund: the engine refuses, whatever the screen.
    let (ok, refused) = run(
        "11:32",
        &[
            "refund", "--ticket", &ticket, "--method", "cash", "--amount", "1", "--reason", "x",
        ],
    );
    assert!(!ok);
    assert_eq!(refused["error"]["kind"], "forbidden");
    let pdf = lot.dir.path().join("z.pdf");
    let (ok, z) = run(
        "18:00",
        &[
            "shift",
            "close",
            "--counted",
            "102.50",
            "--pdf",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(ok, "{z}");
    assert_eq!(z["shift"]["expected"], "103.00");
    assert_eq!(z["shift"]["over_short"], "-0.50");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let text = lot.run(&["shift", "report", &z["shift"]["id"].to_string()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("SHORT") && text.contains("Z-REPORT"),
        "{text}"
    );
}

#[test]
fn users_log_in_and_a_bad_password_is_refused() {
    let lot = lot();
    let add = lot.run(&[
        "--role",
        "admin",
        "--at",
        "2026-11-18T07:00:00+01:00",
        "user",
        "add",
        "anna",
        "supervisor",
    ]);
    assert!(!add.status.success(), "no password given");
    assert!(String::from_utf8_lossy(&add.stderr).contains("GATEHOUSE_NEW_PASSWORD"));
    let mut add = common::gatehouse_on(&lot.db);
    let out = add
        .env("GATEHOUSE_NEW_PASSWORD", "anna's long password")
        .args(["--role", "admin", "user", "add", "anna", "supervisor"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Now claimed roles are refused; a login works.
    let claimed = lot.run(&[
        "--role",
        "supervisor",
        "watch",
        "refuse",
        "X-Y 1",
        "--note",
        "n",
    ]);
    assert!(!claimed.status.success());
    assert!(String::from_utf8_lossy(&claimed.stderr).contains("log in"));
    let as_anna = |pw: &str| {
        common::gatehouse_on(&lot.db)
            .env("GATEHOUSE_PASSWORD", pw)
            .args([
                "--user", "anna", "watch", "refuse", "X-Y 1", "--note", "stolen",
            ])
            .output()
            .unwrap()
    };
    let bad = as_anna("wrong password!");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("wrong user name, password or code"));
    let good = as_anna("anna's long password");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let journal = lot.run(&["--json", "journal", "--limit", "100"]);
    let text = String::from_utf8_lossy(&journal.stdout);
    assert!(text.contains("login_failed") && text.contains("watchlist_changed"));
    assert!(!text.contains("anna's long password"));
}

/// Decodes a PNG written by pdftoppm: (width, height, RGB pixels).
fn decode_png(path: &std::path::Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let px = buf[..info.buffer_size()]
        .chunks(step)
        .map(|c| {
            if step >= 3 {
                [c[0], c[1], c[2]]
            } else {
                [c[0], c[0], c[0]]
            }
        })
        .collect();
    (info.width, info.height, px)
}

#[test]
fn the_pdf_report_opens_and_shows_its_charts() {
    let lot = lot();
    for (i, (inn, out, method)) in [
        ("08:00", "10:30", "card"),
        ("09:15", "12:00", "mobile_wallet"),
        ("11:00", "17:45", "card"),
    ]
    .into_iter()
    .enumerate()
    {
        let plate = format!("R-PT {i}");
        let (ok, e) = lot.json(inn, &["--role", "system", "entry", "--plate", &plate]);
        assert!(ok, "{e}");
        let (_, q) = lot.json(out, &["quote", "--plate", &plate]);
        let total = q["total"].as_str().unwrap().to_string();
        let (ok, p) = lot.json(
            out,
            &[
                "--role",
                "system",
                "pay",
                "--ticket",
                e["qr"].as_str().unwrap(),
                "--method",
                method,
                "--amount",
                &total,
            ],
        );
        assert!(ok, "{p}");
        let (ok, x) = lot.json(
            out,
            &[
                "--role",
                "system",
                "exit",
                "--ticket",
                e["qr"].as_str().unwrap(),
            ],
        );
        assert!(ok, "{x}");
    }
    let pdf = lot.dir.path().join("report.pdf");
    let (ok, r) = lot.json(
        "23:00",
        &[
            "report",
            "--period",
            "day",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(ok, "{r}");
    let png_base = lot.dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&png_base)
        .status()
        .expect("pdftoppm runs: install poppler-utils (./dev test does)");
    assert!(status.success());
    let page = std::fs::read_dir(lot.dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .expect("pdftoppm wrote page 1");
    let (w, h, px) = decode_png(&page);
    assert!(w > 300 && h > 400, "{w}×{h}");
    let inked = px.iter().filter(|p| p.iter().any(|c| *c < 200)).count();
    let coloured = px
        .iter()
        .filter(|p| {
            let (lo, hi) = (*p.iter().min().unwrap(), *p.iter().max().unwrap());
            hi - lo > 60
        })
        .count();
    assert!(
        inked * 100 > px.len() * 3,
        "page 1 is nearly blank: {inked} of {} pixels inked",
        px.len()
    );
    assert!(
        coloured > 200,
        "the charts' colours are missing: {coloured} coloured pixels"
    );
    // CSV of the same day: the revenue is there.
    let csv = lot.run(&[
        "--at",
        "2026-11-18T23:00:00+01:00",
        "report",
        "--format",
        "csv",
    ]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("section,key,count,value,peak"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("revenue_by_method,card,2,")),
        "{csv}"
    );
}

#[test]
fn an_admin_publishes_a_tariff_from_a_file_and_a_bad_file_is_named() {
    let lot = lot();
    let file = lot.dir.path().join("winter.toml");
    let tariff = r#"[tariff]
lost_ticket_fee = "40.00"

[[tariff.bands]]
name = "all day"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "24:00"
increment_minutes = 60
increment_price = "4.00"
"#;
    std::fs::write(
        &file,
        tariff.replace("increment_minutes", "increment_minuets"),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (ok, e) = lot.json("08:00", &["--role", "admin", "tariff", "publish", path]);
    assert!(!ok);
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("winter.toml") && msg.contains("increment_minuets"),
        "{msg}"
    );

    std::fs::write(&file, tariff).unwrap();
    let (ok, e) = lot.json(
        "08:00",
        &["--role", "supervisor", "tariff", "publish", path],
    );
    assert!(!ok);
    assert_eq!(e["error"]["kind"], "forbidden", "{e}");
    let (ok, r) = lot.json(
        "08:00",
        &[
            "--role",
            "admin",
            "tariff",
            "publish",
            path,
            "--from",
            "2026-11-18T09:00:00+01:00",
            "--note",
            "winter",
        ],
    );
    assert!(ok, "{r}");
    // A car entering at 09:30 pays the new tariff: two started hours at 4.00 by 11:00.
    let (ok, e) = lot.json("09:30", &["entry", "--plate", "W-IN 1"]);
    assert!(ok, "{e}");
    let ticket = e["ticket"].as_str().unwrap();
    let (ok, q) = lot.json("11:00", &["quote", "--ticket", ticket]);
    assert!(ok, "{q}");
    assert_eq!(q["total"], "8.00", "{q}");
    let (ok, list) = lot.json("11:00", &["tariff", "list"]);
    assert!(ok);
    assert_eq!(list[0]["note"], "winter");
}
