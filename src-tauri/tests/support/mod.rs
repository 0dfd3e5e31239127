//! The real app under Xvfb, driven over WebDriver: tauri-driver in front of WebKitWebDriver
//! (Debian's webkit2gtk-driver). A small W3C WebDriver client on blocking HTTP.

use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One app at a time: each runs the demo lot's lanes, which want the machine to themselves.
static ONE_APP: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tool(name: &str) -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(PathBuf::from)
        .chain([PathBuf::from(home).join(".cargo/bin")])
    {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: run ./dev setup (it installs xvfb, webkit2gtk-driver and tauri-driver)"
    );
}

/// Where the end-to-end tests save their screenshots.
pub fn artefacts() -> PathBuf {
    let dir = std::env::var_os("GATEHOUSE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots")
        });
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

/// Starts Xvfb on a display it picks itself (`-displayfd`) and waits until it says which one:
/// it writes the number only once it listens, so the app never starts before its display does.
/// (A guessed display number could be held by another X server, or not be ready yet: the app
/// then fails to open it and WebKitWebDriver waits for a browser that never comes.)
fn start_xvfb() -> (Child, String) {
    let mut xvfb = Command::new(tool("Xvfb"))
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1366x768x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let out = xvfb.stdout.take().expect("Xvfb's stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(out));
        let _ = tx.send(lines.next());
        // Drained to the end, so Xvfb never blocks on a full pipe.
        lines.for_each(drop);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(Ok(n))) if n.trim().parse::<u32>().is_ok() => (xvfb, format!(":{}", n.trim())),
        other => {
            let _ = xvfb.kill();
            let _ = xvfb.wait();
            panic!("Xvfb did not report a display within 30 s: {other:?}");
        }
    }
}

/// Stops a process with SIGTERM, so that Xvfb removes its /tmp/.X*-lock file, and reaps it.
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Xvfb, tauri-driver and one WebDriver session on the app; all stopped on drop.
pub struct Driver {
    xvfb: Child,
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    _one: std::sync::MutexGuard<'static, ()>,
}

impl Driver {
    /// Starts the app with `args` under a fresh Xvfb display.
    pub fn start(args: &[&str]) -> Driver {
        let one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
        let (xvfb, display) = start_xvfb();
        let (port, native) = (free_port(), free_port());
        // One log per test (tests run on threads named after them), so a failure keeps its own.
        let log_path = artefacts().join(format!(
            "tauri-driver-{}.log",
            std::thread::current()
                .name()
                .unwrap_or("main")
                .replace("::", "-")
        ));
        let log = std::fs::File::create(&log_path).expect("the tauri-driver log");
        // Its own process group: tauri-driver leaves WebKitWebDriver running when killed, so the
        // whole group is stopped on drop.
        let driver = Command::new(tool("tauri-driver"))
            .process_group(0)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
                "--native-driver",
                tool("WebKitWebDriver")
                    .to_str()
                    .unwrap_or("WebKitWebDriver"),
            ])
            .env("DISPLAY", &display)
            .env("GATEHOUSE_EXPORTS", artefacts().join("exports"))
            .stdout(log.try_clone().expect("the log, twice"))
            .stderr(log)
            .spawn()
            .expect("tauri-driver starts");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        let mut d = Driver {
            xvfb,
            driver,
            base,
            session: String::new(),
            http,
            _one: one,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": env!("CARGO_BIN_EXE_gatehouse-app"),
            "args": args,
        }}}});
        let until = Instant::now() + Duration::from_secs(20);
        let started = loop {
            match d
                .http
                .post(format!("{}/session", d.base))
                .json(&caps)
                .send()
            {
                Ok(r) => break r.json::<Value>().expect("a session answer"),
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => panic!(
                    "tauri-driver did not start a session on the app (display {display}): {e:?}; \
                     its log is {}",
                    log_path.display()
                ),
            }
        };
        d.session = started["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {started}"))
            .to_string();
        d
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        if std::env::var_os("GATEHOUSE_E2E_TRACE").is_some() {
            eprintln!("webdriver {method} {path} {body:?}");
        }
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        v["value"].clone()
    }

    fn try_find(&self, css: &str) -> Option<String> {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// The element, waiting up to 30 s for it to appear.
    pub fn find(&self, css: &str) -> String {
        self.wait(&format!("element {css}"), 30, || self.try_find(css))
    }

    /// Clicks the element as a person would, once it is scrolled to the middle of its panel
    /// (clear of the toast in the corner). If the screen redraws the element between finding
    /// and clicking it (WebDriver's "stale element reference"), it finds it and clicks again,
    /// three tries in all, as a person's second tap would.
    pub fn click(&self, css: &str) {
        let mut attempt = 0;
        let v = loop {
            attempt += 1;
            let e = self.find(css);
            self.script(
                "arguments[0].scrollIntoView({block: 'center'})",
                json!([{ ELEMENT: e }]),
            );
            let v = self.call(
                reqwest::Method::POST,
                &format!("/element/{e}/click"),
                Some(json!({})),
            );
            if attempt < 3
                && v.get("error").and_then(|e| e.as_str()) == Some("stale element reference")
            {
                continue;
            }
            break v;
        };
        if let Some(err) = v.get("error") {
            let shot = self.screenshot("failed-click");
            panic!(
                "clicking {css}: {err} {}; the screen is in {}",
                v["message"],
                shot.display()
            );
        }
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let e = self.try_find(css)?;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{e}/attribute/{name}"),
            None,
        )
        .as_str()
        .map(str::to_string)
    }

    pub fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// A script whose last argument is the callback to call with the result.
    pub fn script_async(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Calls one of the app's commands from the page, as the frontends do.
    pub fn invoke(&self, cmd: &str, args: Value) -> Value {
        self.script_async(
            "const [cmd, a, done] = arguments; window.__TAURI_INTERNALS__.invoke(cmd, a).then(v => done({ok: v}), e => done({err: e}));",
            json!([cmd, args]),
        )
    }

    pub fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None);
        let bytes = data_encoding::BASE64
            .decode(b64.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 screenshot");
        let path = artefacts().join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("the screenshot is saved");
        path
    }

    /// Waits up to `secs` for `f` to give something.
    pub fn wait<T>(&self, what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > until {
                let shot = self.screenshot("failed-wait");
                panic!(
                    "waited {secs} s for {what}; the screen is in {}",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element's text contains `needle`, and returns the text.
    pub fn wait_text(&self, css: &str, needle: &str, secs: u64) -> String {
        self.wait(&format!("{css} to say '{needle}'"), secs, || {
            let e = self.try_find(css)?;
            let t = self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None);
            let t = t.as_str()?.to_string();
            t.contains(needle).then_some(t)
        })
    }

    /// Runs axe-core (from the frontends' node_modules) on the page; the serious and critical
    /// violations, each as "id: help (n nodes)".
    pub fn axe(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/axe-core/axe.min.js"),
        )
        .expect("axe-core is installed (npm ci)");
        self.script(&axe, json!([]));
        let v = self.script_async(
            "const done = arguments[arguments.length - 1]; axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}).then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: ' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')), e => done(['axe failed: ' + e]));",
            json!([]),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .http
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
        terminate(&mut self.xvfb);
    }
}
