//! HTTPS with a self-signed certificate: a client that trusts it pushes; one that does not, fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Journal, fresh_db, verified_rows};
use gatehouse_server::auth;
use gatehouse_server::config::Config;
use std::time::Duration;

#[tokio::test]
async fn a_client_trusting_the_servers_self_signed_certificate_can_push_over_https() {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin = auth::new_token().unwrap();
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase = \"{db}\"\nadmin_token_sha256 = \"{}\"\n\
         [tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n",
        hex::encode(auth::token_sha256(&admin))
    );
    let path = dir.path().join("server.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        gatehouse_server::run(&config, async {
            let _ = stopped.await;
        })
        .await
    });

    let trusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let mut up = false;
    for _ in 0..200 {
        if trusting
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "the HTTPS server did not answer");

    let r = trusting
        .post(format!("{base}/v1/lots"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"id": "north", "name": "North"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut j = Journal::default();
    j.traffic(50);
    let r = trusting
        .post(format!("{base}/v1/lots/north/journal"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "events": j.events }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(verified_rows(&db, "north").await.len(), 50);

    // A client that does not trust the certificate cannot talk to it; nor can plain HTTP.
    let wary = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let e = wary
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    let plain = reqwest::Client::new()
        .get(format!("http://localhost:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[test]
fn a_bad_tls_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    let e =
        gatehouse_server::tls::acceptor(&dir.path().join("cert.pem"), &dir.path().join("key.pem"))
            .err()
            .unwrap();
    assert!(
        e.contains("cert.pem") && e.contains("no certificate"),
        "{e}"
    );
}
