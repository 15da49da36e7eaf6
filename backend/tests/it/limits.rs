//! The HTTP layer's limits against slow and hostile clients, over real loopback
//! connections with short configured timeouts: an unsigned body is refused before it is
//! read, header trickles and silent connections are cut off, a stalled body gets 408, a
//! body that does not match its signed digest is refused without using up the nonce,
//! connections beyond the cap get 503 and a kit's requests beyond its share 429 — each
//! a Problem with `Retry-After` where retrying makes sense.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use fieldkit_backend::config::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::{Backend, Db};

fn short() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(1),
        body_idle_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(4),
        max_connections: 64,
        max_requests_per_kit: 2,
        ..Limits::default()
    }
}

async fn connect(backend: &Backend) -> TcpStream {
    let addr = backend.base_url.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// The request line and headers of `req`, with `Content-Length: length`.
async fn head_of(req: Request<Body>, length: usize) -> (String, Vec<u8>) {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n",
        parts.method, parts.uri
    );
    for (name, value) in &parts.headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().expect("ascii")));
    }
    head.push_str("\r\n");
    (head, body.to_vec())
}

/// Reads until the server closes the connection or `within` passes; returns what
/// arrived and whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    loop {
        let mut buf = [0u8; 4096];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

fn status_of(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok())
}

#[tokio::test]
async fn an_unsigned_body_is_refused_before_it_is_read() {
    let backend = Backend::serve_limited(&Db::Sqlite, short()).await;
    let mut stream = connect(&backend).await;
    let length = 8 * 1024 * 1024 - 1;
    let head = format!(
        "POST /v1/records HTTP/1.1\r\nHost: x\r\nFieldkit-Protocol: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{\"envelopes\":["
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert_eq!(status_of(&answer), Some(401), "{answer}");
    assert!(answer.contains("bad-request-signature"), "{answer}");
    assert!(closed, "the connection is closed with its body unread");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no waiting for the body"
    );
}

#[tokio::test]
async fn header_trickles_and_silent_connections_are_cut_off_after_the_header_timeout() {
    let backend = Backend::serve_limited(&Db::Sqlite, short()).await;
    let silent = tokio::spawn({
        let mut stream = connect(&backend).await;
        async move {
            let started = Instant::now();
            let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(4)).await;
            (started.elapsed(), answer, closed)
        }
    });
    let mut trickle = connect(&backend).await;
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut cut = false;
    for i in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if trickle
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
    }
    let (_, closed) = read_until_closed(&mut trickle, Duration::from_secs(3)).await;
    assert!(cut || closed, "the trickle is cut off");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "within the header timeout (1 s) plus slack: {:?}",
        started.elapsed()
    );
    let (waited, answer, closed) = silent.await.expect("task");
    assert!(closed && answer.is_empty(), "{answer}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Honest requests still work.
    let mut honest = connect(&backend).await;
    honest
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let (answer, _) = read_until_closed(&mut honest, Duration::from_secs(3)).await;
    assert_eq!(status_of(&answer), Some(200), "{answer}");
    assert!(
        !answer.to_lowercase().contains("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn a_signed_body_that_stalls_gets_408_and_the_kit_may_retry() {
    for db in crate::support::databases("a_signed_body_that_stalls_gets_408") {
        let backend = Backend::serve_limited(&db, short()).await;
        let kit = backend.kit().await;
        let body = br#"{"envelopes":[]}"#.to_vec();
        let (head, body) = head_of(kit.signed("POST", "/v1/records", body), 16).await;
        let mut stream = connect(&backend).await;
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(&body[..4]).await.expect("write");
        let started = Instant::now();
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(status_of(&answer), Some(408), "{}: {answer}", db.name());
        assert!(answer.contains("request-timeout"), "{answer}");
        assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("\"retryable\":true"), "{answer}");
        assert!(closed, "the connection is closed after the 408");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "body idle timeout"
        );
    }
}

#[tokio::test]
async fn a_body_unlike_its_signed_digest_is_refused_and_leaves_the_nonce_unused() {
    for db in crate::support::databases("a_body_unlike_its_signed_digest") {
        let backend = Backend::serve_limited(&db, short()).await;
        let kit = backend.kit().await;
        let body = br#"{"envelopes":[]}"#.to_vec();
        let (head, body) = head_of(kit.signed("POST", "/v1/records", body), 16).await;
        let mut forged = body.clone();
        forged[2] = b'E';
        let mut stream = connect(&backend).await;
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(&forged).await.expect("write");
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
        assert_eq!(status_of(&answer), Some(401), "{answer}");
        assert!(answer.contains("bad-request-signature"), "{answer}");
        // The honest body under the same signature is not taken for a replay: the
        // nonce was only looked up, not used, by the refused request.
        let mut stream = connect(&backend).await;
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(&body).await.expect("write");
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
        assert_eq!(status_of(&answer), Some(400), "an empty batch: {answer}");
        assert!(answer.contains("malformed-request"), "{answer}");
        // Now it is used.
        let mut stream = connect(&backend).await;
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(&body).await.expect("write");
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
        assert!(answer.contains("\"code\":\"replay\""), "{answer}");
    }
}

#[tokio::test]
async fn connections_beyond_the_cap_get_503_with_retry_after() {
    let backend = Backend::serve_limited(
        &Db::Sqlite,
        Limits {
            max_connections: 2,
            header_read_timeout: Duration::from_secs(3),
            ..short()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&backend).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .expect("write");
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect(&backend).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut third, Duration::from_secs(2)).await;
    assert_eq!(status_of(&answer), Some(503), "{answer}");
    assert!(answer.contains("\"code\":\"unavailable\""), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(closed, "the connection over the cap is closed");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut later = connect(&backend).await;
    later
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let (answer, _) = read_until_closed(&mut later, Duration::from_secs(2)).await;
    assert_eq!(status_of(&answer), Some(200), "slots come back: {answer}");
}

#[tokio::test]
async fn a_kit_beyond_its_requests_in_flight_gets_429_and_others_are_served() {
    let backend = Backend::serve_limited(
        &Db::Sqlite,
        Limits {
            max_requests_per_kit: 1,
            body_idle_timeout: Duration::from_secs(3),
            ..short()
        },
    )
    .await;
    let kit = backend.kit().await;
    let other = backend.kit().await;
    let (head, body) = head_of(
        kit.signed("POST", "/v1/records", br#"{"envelopes":[]}"#.to_vec()),
        16,
    )
    .await;
    let mut slow = connect(&backend).await;
    slow.write_all(head.as_bytes()).await.expect("write");
    slow.write_all(&body[..2]).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await;
    assert_eq!(busy.status.as_u16(), 429, "{busy:?}");
    assert_eq!(busy.code(), "rate-limited");
    assert!(busy.problem().retryable);
    assert_eq!(busy.header("retry-after"), Some("1"));
    let served = backend
        .send(other.signed("GET", "/v1/state", Vec::new()))
        .await;
    assert_eq!(served.status.as_u16(), 200, "another kit is not held up");
    slow.write_all(&body[2..]).await.expect("write");
    let (answer, _) = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert_eq!(status_of(&answer), Some(400), "{answer}");
    let again = backend
        .send(kit.signed("GET", "/v1/state", Vec::new()))
        .await;
    assert_eq!(again.status.as_u16(), 200, "the slot came back");
}
