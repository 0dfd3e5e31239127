//! A bad config file: the error names the file, the field and what to write instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn run_with(text: &str, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.toml");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .args(args)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    let err =
        String::from_utf8_lossy(&out.stderr).replace(&path.display().to_string(), "server.toml");
    (out.status.success(), err)
}

const GOOD_HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

#[test]
fn a_bad_config_names_the_file_the_field_and_the_reason() {
    let cases = [
        (
            format!("listen = \"localhost\"\ndatabase = \"postgres://x@127.0.0.1/db\"\nadmin_token_sha256 = \"{GOOD_HASH}\"\n"),
            "server.toml: listen: 'localhost' is not an address and port",
        ),
        (
            format!("listen = \"127.0.0.1:8443\"\ndatabase = \"mysql://x\"\nadmin_token_sha256 = \"{GOOD_HASH}\"\n"),
            "server.toml: database: must be a PostgreSQL URL",
        ),
        (
            "listen = \"127.0.0.1:8443\"\ndatabase = \"postgres://x@127.0.0.1/db\"\nadmin_token_sha256 = \"secret\"\n".to_string(),
            "server.toml: admin_token_sha256: must be 64 hex digits",
        ),
        (
            "listen = \"127.0.0.1:8443\"\ndatabase = \"postgres://x@127.0.0.1/db\"\n".to_string(),
            "server.toml: (file): missing field `admin_token_sha256`",
        ),
        (
            format!("listen = \"127.0.0.1:8443\"\ndatabase = \"postgres://x@127.0.0.1/db\"\nadmin_token_sha256 = \"{GOOD_HASH}\"\n[tls]\ncert = \"c.pem\"\n"),
            "server.toml: tls: missing field `key`",
        ),
        (
            format!("listen = \"127.0.0.1:8443\"\ndatabase = \"postgres://x@127.0.0.1/db\"\nadmin_token_sha256 = \"{GOOD_HASH}\"\npool = 3\n"),
            "server.toml: pool: unknown field `pool`, expected one of",
        ),
    ];
    for (text, want) in cases {
        for args in [&[][..], &["migrate"][..]] {
            let (ok, err) = run_with(&text, args);
            assert!(!ok, "{text}");
            assert!(
                err.starts_with(&format!("gatehouse-server: error: {want}")),
                "want {want:?}, got {err:?}"
            );
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .args(["--config", "/nonexistent/server.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/server.toml: (file): cannot read it"),
        "{err}"
    );
}

#[test]
fn token_prints_a_token_and_the_config_line_with_its_hash() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .arg("token")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let token = text.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert_eq!(token.len(), 64);
    let line = text.lines().nth(1).unwrap();
    assert_eq!(
        line,
        format!(
            "admin_token_sha256 = \"{}\"",
            hex::encode(gatehouse_server::auth::token_sha256(token))
        )
    );
}

#[test]
fn the_example_config_parses_and_openapi_documents_every_route() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = dir.join("server.example.toml");
    let c = gatehouse_server::config::Config::load(&example).unwrap();
    assert_eq!(c.listen.port(), 8443);
    let api = std::fs::read_to_string(dir.join("openapi.yaml")).unwrap();
    let lib = std::fs::read_to_string(dir.join("src/app.rs")).unwrap();
    // The router's paths: its string literals that start with '/'.
    let routes: Vec<&str> = lib
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('/'))
        .collect();
    assert_eq!(routes.len(), 9, "{routes:?}");
    for r in routes {
        assert!(api.contains(&format!("  {r}:\n")), "openapi.yaml lacks {r}");
    }
}
