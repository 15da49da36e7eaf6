//! The fault proxy against real loopback sockets: each fault measured or observed.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener as StdListener, TcpStream as StdStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{FaultProxy, Faults, MAX_CONNECTIONS};

const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// An upstream on a std thread that runs `serve` for every connection; `received`
/// counts the bytes `serve` reports having read.
struct Upstream {
    addr: std::net::SocketAddr,
    received: Arc<AtomicU64>,
}

impl Upstream {
    fn start(serve: fn(StdStream, &AtomicU64)) -> Upstream {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().expect("upstream address");
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let counter = Arc::clone(&counter);
                thread::spawn(move || serve(stream, &counter));
            }
        });
        Upstream { addr, received }
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }

    /// Waits (up to 3 s) until `received` reaches `at_least`, then returns it.
    fn received_settled(&self, at_least: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.received() < at_least && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        // Give anything beyond the expectation a chance to show up.
        thread::sleep(Duration::from_millis(100));
        self.received()
    }
}

/// Echoes everything back until EOF or an error.
fn echo(mut stream: StdStream, received: &AtomicU64) {
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                received.fetch_add(n as u64, Ordering::SeqCst);
                if stream.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// Reads until EOF, then answers with the byte count (8 bytes, big endian).
fn sink(mut stream: StdStream, received: &AtomicU64) {
    let mut buf = [0u8; 16384];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n as u64;
                received.fetch_add(n as u64, Ordering::SeqCst);
            }
            Err(_) => return,
        }
    }
    let _ = stream.write_all(&total.to_be_bytes());
}

/// Waits for one byte of request, answers with 10 000 bytes, then waits for EOF.
fn big_response(mut stream: StdStream, received: &AtomicU64) {
    let mut buf = [0u8; 1024];
    match stream.read(&mut buf) {
        Ok(n) if n > 0 => received.fetch_add(n as u64, Ordering::SeqCst),
        _ => return,
    };
    let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    if stream.write_all(&body).is_err() {
        return;
    }
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn connect(proxy: &FaultProxy) -> StdStream {
    let stream = StdStream::connect(proxy.addr()).expect("connect to the proxy");
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .expect("write timeout");
    stream
}

fn round_trip(stream: &mut StdStream, data: &[u8]) {
    stream.write_all(data).expect("write through the proxy");
    let mut back = vec![0u8; data.len()];
    stream
        .read_exact(&mut back)
        .expect("echo through the proxy");
    assert_eq!(back, data);
}

/// Reads until the connection fails; returns the error kind (EOF is a failure of
/// the test).
fn read_until_error(stream: &mut StdStream) -> ErrorKind {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!("clean EOF where a reset was expected"),
            Ok(_) => {}
            Err(error) => return error.kind(),
        }
    }
}

fn assert_reset(kind: ErrorKind) {
    assert!(
        matches!(
            kind,
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
        "expected a connection reset, got {kind:?}"
    );
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

#[test]
fn passes_through_both_directions_and_counts() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    assert_eq!(
        proxy.url(),
        format!("http://127.0.0.1:{}", proxy.addr().port())
    );
    let mut client = connect(&proxy);
    let data = pattern(200_000);
    let writer = {
        let mut client = client.try_clone().expect("clone client");
        let data = data.clone();
        thread::spawn(move || client.write_all(&data).expect("write 200 KB"))
    };
    let mut back = vec![0u8; data.len()];
    client.read_exact(&mut back).expect("read the echo");
    writer.join().expect("writer thread");
    assert!(back == data, "echo differs from what was sent");
    client.shutdown(Shutdown::Write).expect("half-close");
    let mut rest = Vec::new();
    client
        .read_to_end(&mut rest)
        .expect("clean EOF after half-close");
    assert!(rest.is_empty());

    let stats = proxy.stats();
    assert_eq!(stats.connections, 1);
    assert_eq!(stats.upstream_bytes, 200_000);
    assert_eq!(stats.downstream_bytes, 200_000);
    assert_eq!(stats.resets, 0);
    proxy.reset_stats();
    assert_eq!(proxy.stats().upstream_bytes, 0);
}

#[test]
fn bandwidth_limit_paces_a_sustained_transfer() {
    let upstream = Upstream::start(sink);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    proxy.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(200_000),
        ..Faults::default()
    });
    let mut client = connect(&proxy);
    let started = Instant::now();
    client.write_all(&pattern(400_000)).expect("write 400 KB");
    client.shutdown(Shutdown::Write).expect("half-close");
    let mut count = [0u8; 8];
    client.read_exact(&mut count).expect("the sink's count");
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(u64::from_be_bytes(count), 400_000);
    assert!(
        (1.7..=2.3).contains(&elapsed),
        "400 KB at 200 KB/s took {elapsed:.3} s, expected 2 s ± 15 %"
    );
}

#[test]
fn latency_delays_each_direction() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let mut client = connect(&proxy);
    round_trip(&mut client, b"warm");
    proxy.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let started = Instant::now();
    round_trip(&mut client, b"ping");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1000),
        "round trip with 150 ms each way took {elapsed:?}"
    );
}

#[test]
fn stall_blocks_open_connections_then_resumes() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let mut client = connect(&proxy);
    round_trip(&mut client, b"before");
    proxy.set_faults(Faults {
        stall: true,
        ..Faults::default()
    });
    client.write_all(b"during").expect("write while stalled");
    client
        .set_read_timeout(Some(Duration::from_millis(400)))
        .expect("short read timeout");
    let mut buf = [0u8; 6];
    let error = client
        .read(&mut buf)
        .expect_err("nothing may arrive while stalled");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );
    assert_eq!(upstream.received(), 6, "stalled bytes reached the upstream");

    proxy.set_faults(Faults::default());
    client
        .set_read_timeout(Some(IO_TIMEOUT))
        .expect("read timeout");
    client.read_exact(&mut buf).expect("echo after the stall");
    assert_eq!(&buf, b"during");
    assert_eq!(upstream.received(), 12);
}

#[test]
fn reset_every_upstream_bytes_counts_over_all_connections() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    proxy.set_faults(Faults {
        reset_every_upstream_bytes: Some(1000),
        ..Faults::default()
    });
    // 600 bytes: below the boundary, passes.
    let mut first = connect(&proxy);
    round_trip(&mut first, &pattern(600));
    // 600 more cross 1000 after 400: that connection is reset.
    let mut second = connect(&proxy);
    second.write_all(&pattern(600)).expect("write 600 bytes");
    assert_reset(read_until_error(&mut second));
    assert_eq!(upstream.received_settled(1000), 1000);
    assert_eq!(proxy.stats().resets, 1);
    assert_eq!(proxy.stats().upstream_bytes, 1000);
    // The first connection is untouched; the next boundary is at 2000.
    round_trip(&mut first, &pattern(900));
    let mut third = connect(&proxy);
    third.write_all(&pattern(300)).expect("write 300 bytes");
    assert_reset(read_until_error(&mut third));
    assert_eq!(upstream.received_settled(2000), 2000);
    assert_eq!(proxy.stats().resets, 2);
}

#[test]
fn reset_after_upstream_bytes_fires_once() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let mut warm = connect(&proxy);
    round_trip(&mut warm, &pattern(700));
    // Counted from here, not from the proxy's start.
    proxy.set_faults(Faults {
        reset_after_upstream_bytes: Some(500),
        ..Faults::default()
    });
    let mut first = connect(&proxy);
    first.write_all(&pattern(800)).expect("write 800 bytes");
    assert_reset(read_until_error(&mut first));
    assert_eq!(upstream.received_settled(1200), 1200);
    let mut second = connect(&proxy);
    round_trip(&mut second, &pattern(800));
    assert_eq!(proxy.stats().resets, 1);
}

#[test]
fn truncate_responses_after_delivers_exactly_n_bytes_then_eof() {
    let upstream = Upstream::start(big_response);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    proxy.set_faults(Faults {
        truncate_responses_after: Some(1234),
        ..Faults::default()
    });
    let mut client = connect(&proxy);
    client
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .expect("request");
    let mut response = Vec::new();
    client
        .read_to_end(&mut response)
        .expect("a clean EOF after the truncated response");
    assert_eq!(response.len(), 1234);
    let expected: Vec<u8> = (0..1234u32).map(|i| (i % 251) as u8).collect();
    assert!(
        response == expected,
        "truncated response has the wrong bytes"
    );
    assert_eq!(proxy.stats().resets, 0);

    proxy.set_faults(Faults::default());
    let mut whole = connect(&proxy);
    whole.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("request");
    let mut buf = vec![0u8; 10_000];
    whole.read_exact(&mut buf).expect("the whole response");
}

#[test]
fn refuse_connections_resets_new_connections_only() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let mut open = connect(&proxy);
    round_trip(&mut open, b"hello");
    proxy.set_faults(Faults {
        refuse_connections: true,
        ..Faults::default()
    });
    let mut refused = connect(&proxy);
    assert_reset(read_until_error(&mut refused));
    round_trip(&mut open, b"still open");
    assert_eq!(proxy.stats().connections, 2);
    assert_eq!(proxy.stats().resets, 1);

    proxy.set_faults(Faults::default());
    round_trip(&mut connect(&proxy), b"accepted again");
}

#[test]
fn set_upstream_applies_to_new_connections() {
    let first = Upstream::start(echo);
    let second = Upstream::start(echo);
    let proxy = FaultProxy::start(first.addr).expect("start proxy");
    let mut old = connect(&proxy);
    round_trip(&mut old, b"one");
    proxy.set_upstream(second.addr);
    round_trip(&mut connect(&proxy), b"two!");
    round_trip(&mut old, b"three");
    assert_eq!(first.received(), 8);
    assert_eq!(second.received(), 4);
}

#[test]
fn connections_beyond_the_limit_are_reset() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let mut open: Vec<StdStream> = (0..MAX_CONNECTIONS)
        .map(|_| {
            let mut client = connect(&proxy);
            round_trip(&mut client, b"x");
            client
        })
        .collect();
    assert_eq!(proxy.stats().open_connections, MAX_CONNECTIONS as u64);
    let mut over = connect(&proxy);
    assert_reset(read_until_error(&mut over));
    assert_eq!(proxy.stats().resets, 1);

    // Closing one frees a place.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(3);
    while proxy.stats().open_connections >= MAX_CONNECTIONS as u64 {
        assert!(Instant::now() < deadline, "closed connection still counted");
        thread::sleep(Duration::from_millis(5));
    }
    round_trip(&mut connect(&proxy), b"y");
}

#[test]
fn drop_closes_listener_and_connections() {
    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    let addr = proxy.addr();
    let mut client = connect(&proxy);
    round_trip(&mut client, b"hi");
    drop(proxy);
    let mut buf = [0u8; 1];
    assert!(
        !matches!(client.read(&mut buf), Ok(n) if n > 0),
        "data after the proxy was dropped"
    );
    assert!(
        StdStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "the listener survived the drop"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn works_from_inside_a_tokio_runtime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let upstream = Upstream::start(echo);
    let proxy = FaultProxy::start(upstream.addr).expect("start proxy");
    proxy.set_faults(Faults {
        latency: Duration::from_millis(20),
        ..Faults::default()
    });
    let mut client = tokio::net::TcpStream::connect(proxy.addr())
        .await
        .expect("connect to the proxy");
    client.write_all(b"async").await.expect("write");
    let mut back = [0u8; 5];
    tokio::time::timeout(IO_TIMEOUT, client.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("echo");
    assert_eq!(&back, b"async");
    // Dropping inside a runtime must neither panic nor hang.
    drop(proxy);
}
