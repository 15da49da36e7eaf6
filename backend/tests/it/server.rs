//! The real server: TLS with rustls, and graceful shutdown that lets a batch in flight
//! finish before the process stops.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use sync_protocol::api::{Outcome, PushBatchResponse};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::kit::Spec;
use crate::support::{Backend, Db};

#[tokio::test]
async fn the_server_speaks_tls_with_the_configured_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write");
    let tls = fieldkit_backend::tls::load_tls(&cert_path, &key_path).expect("loads");
    let backend = Backend::new(&Db::Sqlite).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fieldkit_backend::server::serve_on(
        listener,
        backend.app.clone(),
        Some(tls),
        Duration::from_secs(2),
        async move {
            let _ = rx.await;
        },
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert.der().to_vec()))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut stream = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("TLS handshake with the configured certificate");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "HSTS when serving TLS: {answer}"
    );
    let _ = tx.send(());
    server.await.expect("task").expect("clean stop");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_batch_finish_and_commit() {
    let mut backend = Backend::serve(&Db::Sqlite).await;
    let mut kit = backend.kit().await;
    let records: Vec<_> = (0..20).map(|_| kit.next(&Spec::anmeldung())).collect();
    let refs: Vec<_> = records.iter().collect();
    let (parts, body) = kit.push(&refs).into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n",
        parts.uri,
        body.len()
    );
    for (name, value) in &parts.headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().expect("ascii")));
    }
    head.push_str("\r\n");
    let addr = backend.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let half = body.len() / 2;
    stream.write_all(&body[..half]).await.expect("first half");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // SIGTERM arrives while the batch is on the wire.
    backend.trigger_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(backend.app.is_shutting_down());
    stream.write_all(&body[half..]).await.expect("second half");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let json = &answer[text.find("\r\n\r\n").expect("head end") + 4..];
    let response: PushBatchResponse = serde_json::from_slice(json).expect("a batch response");
    assert!(response
        .results
        .iter()
        .all(|r| r.outcome == Outcome::Accepted));
    backend.stopped().await.expect("the server stopped cleanly");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no longer accepting"
    );
    let kit_row = backend
        .store()
        .kit(&kit.kit_id)
        .await
        .expect("store")
        .expect("kit");
    assert_eq!(
        kit_row.head.map(|h| h.seq),
        Some(20),
        "the batch was committed"
    );
}
