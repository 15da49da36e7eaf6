//! A fake captive portal on loopback, for the sync tests of networks that answer but are
//! not the backend.
//!
//! Hotel and train Wi-Fi often intercept every HTTP request until the user has logged in,
//! and answer all of them with `200 OK` and an HTML login page. [`CaptivePortal`] does
//! exactly that on `127.0.0.1:<random port>`: any method, any path, any body gets the same
//! German "WLAN-Anmeldung" page (a `HEAD` request only its headers), so the kit's sync
//! engine can be checked to treat such answers as "backend unreachable" and not as
//! success or as a protocol error of the backend.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The page every request gets.
pub const LOGIN_PAGE: &str = r#"<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WLAN-Anmeldung</title>
</head>
<body>
<h1>WLAN-Anmeldung</h1>
<p>Willkommen im kostenlosen WLAN. Bitte melden Sie sich an, um das Internet zu nutzen.</p>
<form method="post" action="/login">
<label><input type="checkbox" name="agb" required> Ich akzeptiere die Nutzungsbedingungen.</label>
<button type="submit">Jetzt verbinden</button>
</form>
</body>
</html>
"#;

/// How much of a request body the portal reads (and discards) before answering; the
/// rest is left to the connection's fate, as with a real portal.
const MAX_DRAINED_BODY: usize = 1024 * 1024;

/// A captive portal on `127.0.0.1` answering every request with `200 OK` and
/// [`LOGIN_PAGE`]. Dropping it stops the server and its connections.
pub struct CaptivePortal {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CaptivePortal {
    /// Binds `127.0.0.1:0` and starts answering on its own thread and runtime.
    ///
    /// # Errors
    ///
    /// If the port cannot be bound, or the runtime or thread cannot be started.
    pub fn start() -> io::Result<CaptivePortal> {
        Self::start_with_status(200)
    }

    /// As [`CaptivePortal::start`], answering with `status` instead of 200 — a proxy's
    /// HTML error page (e.g. 413 from a reverse proxy's body limit).
    ///
    /// # Errors
    ///
    /// As [`CaptivePortal::start`]; an invalid status code.
    pub fn start_with_status(status: u16) -> io::Result<CaptivePortal> {
        let status = axum::http::StatusCode::from_u16(status)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let requests = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .fallback(login_page)
            .with_state((Arc::clone(&requests), status));
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("captive-portal-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = shutdown_rx => {}
                        // Serving only ends on an error; the portal then stops answering,
                        // which the test using it will notice.
                        _ = async move { axum::serve(listener, app).await } => {}
                    }
                });
                // Dropping the runtime drops every open connection.
                drop(runtime);
            })?;
        Ok(CaptivePortal {
            addr,
            requests,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address the portal listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The portal as an HTTP base URL: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests the portal has answered (or is answering).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for CaptivePortal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptivePortal")
            .field("addr", &self.addr)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Drop for CaptivePortal {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the portal thread has nothing left to clean up here.
            let _ = thread.join();
        }
    }
}

/// Answers anything with the login page, after reading (at most
/// [`MAX_DRAINED_BODY`] of) the request body so that clients can finish sending it.
async fn login_page(
    State((requests, status)): State<(Arc<AtomicU64>, axum::http::StatusCode)>,
    body: Body,
) -> impl IntoResponse {
    requests.fetch_add(1, Ordering::SeqCst);
    drain(body).await;
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        LOGIN_PAGE,
    )
}

async fn drain(mut body: Body) {
    let mut drained = 0usize;
    while drained < MAX_DRAINED_BODY {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                drained += frame.data_ref().map_or(0, |data| data.len());
            }
            Some(Err(_)) | None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use super::{CaptivePortal, LOGIN_PAGE};

    /// A parsed HTTP/1.1 response: status, headers (names lower-cased), body.
    struct Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Response {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        }
    }

    /// Sends `request` (which should ask for `Connection: close`) and reads the whole
    /// response.
    fn exchange(portal: &CaptivePortal, request: &[u8]) -> Response {
        let mut stream = TcpStream::connect(portal.addr()).expect("connect to the portal");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream.write_all(request).expect("send the request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the response");
        let split = raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("end of the response head");
        let head = std::str::from_utf8(&raw[..split]).expect("an ASCII response head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .expect("a status code")
            .parse()
            .expect("a numeric status code");
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a header line");
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        Response {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    fn assert_login_page(response: &Response) {
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let body = std::str::from_utf8(&response.body).expect("a UTF-8 page");
        assert_eq!(body, LOGIN_PAGE);
        assert!(body.contains("WLAN-Anmeldung"));
    }

    #[test]
    fn post_records_with_json_gets_the_login_page() {
        let portal = CaptivePortal::start().expect("start the portal");
        let body = br#"{"records":["eyJhbGciOiJFZERTQSJ9"]}"#;
        let mut request = format!(
            "POST /v1/records HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            portal.addr(),
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        assert_login_page(&exchange(&portal, &request));
        assert_eq!(portal.requests(), 1);
    }

    #[test]
    fn get_state_gets_the_login_page() {
        let portal = CaptivePortal::start().expect("start the portal");
        let request = format!(
            "GET /v1/state HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            portal.addr()
        );
        assert_login_page(&exchange(&portal, request.as_bytes()));
        assert_login_page(&exchange(&portal, request.as_bytes()));
        assert_eq!(portal.requests(), 2);
        assert_eq!(portal.url(), format!("http://{}", portal.addr()));
    }

    #[test]
    fn head_gets_headers_only() {
        let portal = CaptivePortal::start().expect("start the portal");
        let request = format!(
            "HEAD /generate_204 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            portal.addr()
        );
        let response = exchange(&portal, request.as_bytes());
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(response.body.is_empty(), "HEAD got a body");
        assert_eq!(portal.requests(), 1);
    }

    #[test]
    fn drop_stops_the_portal() {
        let portal = CaptivePortal::start().expect("start the portal");
        let addr = portal.addr();
        drop(portal);
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "the portal still accepts connections"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn works_from_inside_a_tokio_runtime() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let portal = CaptivePortal::start().expect("start the portal");
        let mut stream = tokio::net::TcpStream::connect(portal.addr())
            .await
            .expect("connect to the portal");
        stream
            .write_all(b"GET /v1/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("send the request");
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
            .await
            .expect("response in time")
            .expect("response");
        assert!(raw.starts_with(b"HTTP/1.1 200 OK\r\n"));
        // Dropping inside a runtime must neither panic nor hang.
        drop(portal);
    }
}
