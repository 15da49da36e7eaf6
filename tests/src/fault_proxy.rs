//! A bounded TCP fault proxy on loopback, for the sync fault tests and benchmarks.
//!
//! [`FaultProxy`] listens on `127.0.0.1:<random port>` and forwards every accepted
//! connection to an upstream address (usually the backend under test), byte for byte, in
//! both directions. Its [`Faults`] can be changed at any time with
//! [`FaultProxy::set_faults`] and apply at once to new *and* already open connections:
//! a bandwidth limit, extra latency, a stall, TCP resets after a number of client→server
//! bytes, truncated responses and refused connections. [`FaultProxy::stats`] counts what
//! went through.
//!
//! # How it works
//!
//! The proxy runs on its own thread with its own single-threaded tokio runtime. Each
//! connection is two pipes (client→server "upstream", server→client "downstream"); each
//! pipe is a reader and a writer that pass at most [`PIPE_SLICES`] slices of at most
//! [`MAX_SLICE_BYTES`] through a bounded channel, so that latency can be added without
//! stopping the flow. Buffers are recycled, never more than [`PIPE_SLICES`] per pipe
//! exist, and at most [`MAX_CONNECTIONS`] connections are open at once: memory stays
//! bounded whatever the peers do. Dropping the proxy stops the listener and every
//! connection and joins the thread.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::time::Instant;

/// The most connections the proxy keeps open at once; further ones are reset at once
/// (and counted in [`Stats::resets`]).
pub const MAX_CONNECTIONS: usize = 64;

/// The largest slice a pipe reads and forwards in one step, in bytes. Under a bandwidth
/// limit slices are smaller (a fiftieth of a second's worth), so pacing stays smooth.
pub const MAX_SLICE_BYTES: usize = 16 * 1024;

/// How many slices one pipe (one direction of one connection) holds at most: the data
/// "in flight" while [`Faults::latency`] delays it.
pub const PIPE_SLICES: usize = 16;

/// The faults the proxy injects. [`Faults::default`] passes everything through
/// unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Bandwidth limit in bytes per second, shared by all connections and applied to each
    /// direction separately (each direction has its own token bucket, one slice deep).
    /// `None`: unlimited. `Some(0)` lets nothing through until changed.
    pub bandwidth_bytes_per_sec: Option<u64>,
    /// Extra one-way delay for data in each direction: every forwarded slice is written
    /// this long after it was read (and paced), in order.
    pub latency: Duration,
    /// While `true`, no bytes are forwarded in either direction; connections stay open.
    /// Setting it back to `false` resumes forwarding where it stopped.
    pub stall: bool,
    /// Reset a connection each time the client→server bytes of *all* connections, counted
    /// since this value was last changed, reach a multiple of N: the bytes up to the
    /// boundary are forwarded, the rest of that read is dropped, and both sides of that
    /// connection get a TCP RST. `None` or `Some(0)`: off.
    pub reset_every_upstream_bytes: Option<u64>,
    /// One shot: the connection whose client→server bytes bring the total (over all
    /// connections, counted from the [`FaultProxy::set_faults`] call that set this) to N
    /// forwards up to N and is then reset like with
    /// [`reset_every_upstream_bytes`](Self::reset_every_upstream_bytes); afterwards
    /// traffic passes. Every `set_faults` call with `Some(_)` arms it anew.
    pub reset_after_upstream_bytes: Option<u64>,
    /// On every connection, forward only the first N server→client bytes, then close the
    /// connection toward the client cleanly (FIN): a truncated HTTP response. Applies to
    /// open connections too (one that already got N bytes is closed at its next read).
    pub truncate_responses_after: Option<u64>,
    /// Accept new connections and reset them at once, like a backend that is down behind a
    /// reachable network. Open connections are not affected.
    pub refuse_connections: bool,
}

/// Counters over the proxy's life (or since [`FaultProxy::reset_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted from clients, including refused and over-limit ones.
    pub connections: u64,
    /// Client→server bytes written to the upstream.
    pub upstream_bytes: u64,
    /// Server→client bytes written to clients.
    pub downstream_bytes: u64,
    /// Connections the proxy reset on purpose: by a reset fault, by
    /// [`Faults::refuse_connections`], or because [`MAX_CONNECTIONS`] were open.
    pub resets: u64,
    /// Connections open right now (a gauge, not cleared by [`FaultProxy::reset_stats`]).
    pub open_connections: u64,
}

/// A TCP proxy on `127.0.0.1` that forwards to an upstream and injects [`Faults`].
///
/// Dropping it stops the listener and all connections and joins its thread.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Binds `127.0.0.1:0` and starts forwarding connections to `upstream`, without
    /// faults.
    ///
    /// # Errors
    ///
    /// If the port cannot be bound, or the runtime or thread cannot be started.
    pub fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
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
        let shared = Arc::new(Shared::new(upstream));
        let (shutdown, shutdown_rx) = oneshot::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(accept_loop(listener, thread_shared, shutdown_rx));
                // Dropping the runtime drops every connection task and with it the sockets.
                drop(runtime);
            })?;
        Ok(FaultProxy {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy as an HTTP base URL: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults. They apply at once to new and open connections: a stalled
    /// connection resumes, a paced one is re-paced at the new rate.
    pub fn set_faults(&self, faults: Faults) {
        let mut control = self.shared.control();
        let old = self.shared.faults.borrow().clone();
        if old.bandwidth_bytes_per_sec != faults.bandwidth_bytes_per_sec {
            for pacer in &mut control.pacers {
                pacer.restart();
            }
        }
        if old.reset_every_upstream_bytes != faults.reset_every_upstream_bytes {
            control.every_count = 0;
        }
        control.after_remaining = faults.reset_after_upstream_bytes;
        // Sent under the control lock, so readers see faults and counters consistently.
        self.shared.faults.send_replace(faults);
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults.borrow().clone()
    }

    /// Sends new connections to `addr`; open connections keep their upstream. If the
    /// upstream cannot be reached, clients get a reset (not counted in [`Stats::resets`]).
    pub fn set_upstream(&self, addr: SocketAddr) {
        self.shared.control().upstream = addr;
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let counters = &self.shared.counters;
        Stats {
            connections: counters.connections.load(Ordering::SeqCst),
            upstream_bytes: counters.upstream_bytes.load(Ordering::SeqCst),
            downstream_bytes: counters.downstream_bytes.load(Ordering::SeqCst),
            resets: counters.resets.load(Ordering::SeqCst),
            open_connections: counters.open.load(Ordering::SeqCst),
        }
    }

    /// Sets the cumulative counters (all but [`Stats::open_connections`]) back to zero.
    /// The fault counters of the reset faults are not affected.
    pub fn reset_stats(&self) {
        let counters = &self.shared.counters;
        counters.connections.store(0, Ordering::SeqCst);
        counters.upstream_bytes.store(0, Ordering::SeqCst);
        counters.downstream_bytes.store(0, Ordering::SeqCst);
        counters.resets.store(0, Ordering::SeqCst);
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.control().upstream)
            .field("faults", &*self.shared.faults.borrow())
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Dropping the sender ends the accept loop; the thread then drops its runtime.
        drop(self.shutdown.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the proxy thread has nothing left to clean up here.
            let _ = thread.join();
        }
    }
}

/// State shared by the handle, the accept loop and the connection tasks.
struct Shared {
    /// The faults in force; receivers wake when they change (a stall lifted).
    faults: watch::Sender<Faults>,
    control: Mutex<Control>,
    counters: Counters,
}

/// Mutable state that has to change together with what it counts.
struct Control {
    upstream: SocketAddr,
    /// Token buckets: `[upstream, downstream]`.
    pacers: [Pacer; 2],
    /// Client→server bytes since `reset_every_upstream_bytes` was last changed.
    every_count: u64,
    /// Bytes left before the armed one-shot reset fires; `None` when not armed.
    after_remaining: Option<u64>,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    upstream_bytes: AtomicU64,
    downstream_bytes: AtomicU64,
    resets: AtomicU64,
    open: AtomicU64,
}

impl Shared {
    fn new(upstream: SocketAddr) -> Shared {
        let (faults, _) = watch::channel(Faults::default());
        Shared {
            faults,
            control: Mutex::new(Control {
                upstream,
                pacers: [Pacer::default(), Pacer::default()],
                every_count: 0,
                after_remaining: None,
            }),
            counters: Counters::default(),
        }
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        // The state stays consistent even if a holder panicked: every update is one step.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides how many of `read` client→server bytes to forward and whether the
    /// connection is then reset, and counts the forwarded bytes toward the reset faults.
    fn plan_upstream(&self, read: usize) -> (usize, bool) {
        let mut control = self.control();
        let every = self
            .faults
            .borrow()
            .reset_every_upstream_bytes
            .filter(|&every| every > 0);
        let mut take = read as u64;
        let mut reset = false;
        if let Some(every) = every {
            let to_boundary = every - control.every_count % every;
            if to_boundary <= take {
                take = to_boundary;
                reset = true;
            }
        }
        if let Some(remaining) = control.after_remaining {
            if remaining <= take {
                take = remaining;
                reset = true;
            }
        }
        control.every_count += take;
        if let Some(remaining) = control.after_remaining {
            // Reaching zero fires the one shot; it is disarmed from then on.
            control.after_remaining = Some(remaining - take).filter(|&left| left > 0);
        }
        // `take` never exceeds `read`, so it fits.
        (usize::try_from(take).unwrap_or(read), reset)
    }

    fn count_forwarded(&self, direction: Direction, bytes: usize) {
        let counter = match direction {
            Direction::Up => &self.counters.upstream_bytes,
            Direction::Down => &self.counters.downstream_bytes,
        };
        counter.fetch_add(bytes as u64, Ordering::SeqCst);
    }
}

/// A token bucket one slice deep, kept as the time the link is next free (GCRA): a slice
/// of `n` bytes occupies the link for `n / rate` seconds and may be written when that time
/// is over. Being up to one slice's time late costs no credit, so timer jitter does not
/// slow a sustained transfer down.
#[derive(Default)]
struct Pacer {
    next_free: Option<Instant>,
    /// Changes whenever the rate changes, so waiters know to re-reserve.
    generation: u64,
}

impl Pacer {
    fn restart(&mut self) {
        self.next_free = None;
        self.generation += 1;
    }

    /// Reserves the link for `bytes` at `rate`; returns when they may be written.
    fn reserve(&mut self, now: Instant, bytes: usize, rate: u64) -> Instant {
        let burst = transfer_time(slice_len(Some(rate)), rate);
        let earliest = now.checked_sub(burst).unwrap_or(now);
        let start = match self.next_free {
            Some(next_free) if next_free > earliest => next_free,
            _ => earliest,
        };
        let end = start
            .checked_add(transfer_time(bytes, rate))
            .unwrap_or(start);
        self.next_free = Some(end);
        end
    }
}

fn transfer_time(bytes: usize, rate: u64) -> Duration {
    let nanos = (bytes as u128 * 1_000_000_000) / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Slice size: the whole buffer, or a fiftieth of a second at the bandwidth limit.
fn slice_len(rate: Option<u64>) -> usize {
    match rate {
        Some(rate) if rate > 0 => usize::try_from(rate / 50)
            .unwrap_or(MAX_SLICE_BYTES)
            .clamp(1, MAX_SLICE_BYTES),
        _ => MAX_SLICE_BYTES,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::Up => 0,
            Direction::Down => 1,
        }
    }
}

/// How a pipe or a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Clean end (EOF forwarded as FIN).
    Done,
    /// A reset fault fired: reset both sides.
    Reset,
    /// A peer failed (reset, broken pipe): pass the failure on by resetting both sides.
    Failed,
}

/// What a pipe's reader hands its writer.
enum Msg {
    /// `buf[..len]`, to be written at `due` (or later, while stalled).
    Data {
        buf: Vec<u8>,
        len: usize,
        due: Instant,
    },
    /// The source ended, or the response was truncated: close the write side (FIN).
    Finish,
    /// A reset fault fired after the data before this message.
    Reset,
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let client = match accepted {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of file descriptors or an aborted handshake: try again shortly.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.counters.connections.fetch_add(1, Ordering::SeqCst);
        let refuse = shared.faults.borrow().refuse_connections;
        if refuse {
            reset_on_purpose(&shared, client);
            continue;
        }
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            reset_on_purpose(&shared, client);
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(client, &shared).await;
        });
    }
}

/// Counts the connection as open while alive (also when its task is dropped).
struct OpenGuard<'a>(&'a Counters);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(mut client: TcpStream, shared: &Shared) {
    shared.counters.open.fetch_add(1, Ordering::SeqCst);
    let _open = OpenGuard(&shared.counters);
    let upstream = shared.control().upstream;
    let mut server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(_) => {
            // Upstream down: the client sees a reset, as from a dead backend.
            hard_close(client);
            return;
        }
    };
    // Small writes must not wait for Nagle: latency and pacing are the proxy's business.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    match relay(&mut client, &mut server, shared).await {
        Outcome::Done => {}
        Outcome::Reset => {
            shared.counters.resets.fetch_add(1, Ordering::SeqCst);
            hard_close(client);
            hard_close(server);
        }
        Outcome::Failed => {
            hard_close(client);
            hard_close(server);
        }
    }
}

fn reset_on_purpose(shared: &Shared, stream: TcpStream) {
    shared.counters.resets.fetch_add(1, Ordering::SeqCst);
    hard_close(stream);
}

/// Closes with a TCP RST: `SO_LINGER` zero, then drop.
fn hard_close(stream: TcpStream) {
    // If the option cannot be set the socket still closes, only with a FIN.
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Forwards both directions until both ended cleanly, or one was reset or failed.
async fn relay(client: &mut TcpStream, server: &mut TcpStream, shared: &Shared) -> Outcome {
    let (client_read, client_write) = client.split();
    let (server_read, server_write) = server.split();
    let up = pipe(Direction::Up, client_read, server_write, shared);
    let down = pipe(Direction::Down, server_read, client_write, shared);
    tokio::pin!(up, down);
    tokio::select! {
        outcome = &mut up => if outcome == Outcome::Done { down.await } else { outcome },
        outcome = &mut down => if outcome == Outcome::Done { up.await } else { outcome },
    }
}

/// One direction of a connection: a reader and a writer joined by a bounded channel.
async fn pipe(
    direction: Direction,
    mut source: ReadHalf<'_>,
    mut sink: WriteHalf<'_>,
    shared: &Shared,
) -> Outcome {
    let (message_tx, mut message_rx) = mpsc::channel(PIPE_SLICES + 1);
    let (free_tx, mut free_rx) = mpsc::channel(PIPE_SLICES);
    let reader = read_side(direction, &mut source, message_tx, &mut free_rx, shared);
    let writer = write_side(direction, &mut sink, &mut message_rx, &free_tx, shared);
    tokio::pin!(reader, writer);
    tokio::select! {
        outcome = &mut writer => outcome,
        read = &mut reader => match read {
            // The reader's last message is queued; the writer finishes the pipe.
            Ok(()) => writer.await,
            Err(_) => Outcome::Failed,
        },
    }
}

async fn read_side(
    direction: Direction,
    source: &mut ReadHalf<'_>,
    out: mpsc::Sender<Msg>,
    free: &mut mpsc::Receiver<Vec<u8>>,
    shared: &Shared,
) -> io::Result<()> {
    let mut faults = shared.faults.subscribe();
    let mut buffers = 0usize;
    // Server→client bytes of this connection, for truncation.
    let mut sent_down = 0u64;
    loop {
        let mut buf = match free.try_recv() {
            Ok(buf) => buf,
            Err(_) if buffers < PIPE_SLICES => {
                buffers += 1;
                vec![0; MAX_SLICE_BYTES]
            }
            Err(_) => match free.recv().await {
                Some(buf) => buf,
                None => return Ok(()),
            },
        };
        let slice = slice_len(faults.borrow().bandwidth_bytes_per_sec);
        let read = source.read(&mut buf[..slice]).await?;
        if read == 0 {
            let _ = out.send(Msg::Finish).await;
            return Ok(());
        }
        wait_unstalled(&mut faults).await;
        let (take, last) = match direction {
            Direction::Up => {
                let (take, reset) = shared.plan_upstream(read);
                (take, reset.then_some(Msg::Reset))
            }
            Direction::Down => {
                let limit = faults.borrow().truncate_responses_after;
                let mut take = read;
                let mut finish = None;
                if let Some(limit) = limit {
                    let left = limit.saturating_sub(sent_down);
                    if left <= read as u64 {
                        take = usize::try_from(left).unwrap_or(read);
                        finish = Some(Msg::Finish);
                    }
                }
                sent_down += take as u64;
                (take, finish)
            }
        };
        if take > 0 {
            pace(shared, direction, take, &mut faults).await;
            let due = Instant::now() + faults.borrow().latency;
            let data = Msg::Data {
                buf,
                len: take,
                due,
            };
            if out.send(data).await.is_err() {
                return Ok(());
            }
        } else {
            buffers -= 1;
        }
        if let Some(last) = last {
            let _ = out.send(last).await;
            return Ok(());
        }
    }
}

async fn write_side(
    direction: Direction,
    sink: &mut WriteHalf<'_>,
    messages: &mut mpsc::Receiver<Msg>,
    free: &mpsc::Sender<Vec<u8>>,
    shared: &Shared,
) -> Outcome {
    let mut faults = shared.faults.subscribe();
    while let Some(message) = messages.recv().await {
        match message {
            Msg::Data { buf, len, due } => {
                tokio::time::sleep_until(due).await;
                wait_unstalled(&mut faults).await;
                if sink.write_all(&buf[..len]).await.is_err() {
                    return Outcome::Failed;
                }
                shared.count_forwarded(direction, len);
                // Never full: no more buffers exist than the channel holds.
                let _ = free.try_send(buf);
            }
            Msg::Finish => {
                wait_unstalled(&mut faults).await;
                return match sink.shutdown().await {
                    Ok(()) => Outcome::Done,
                    Err(_) => Outcome::Failed,
                };
            }
            Msg::Reset => return Outcome::Reset,
        }
    }
    Outcome::Done
}

/// Returns once [`Faults::stall`] is off.
async fn wait_unstalled(faults: &mut watch::Receiver<Faults>) {
    loop {
        let stalled = faults.borrow_and_update().stall;
        if !stalled {
            return;
        }
        if faults.changed().await.is_err() {
            // The proxy is going away; its runtime drops this task.
            std::future::pending::<()>().await;
        }
    }
}

/// Waits until `bytes` may pass in `direction` under the bandwidth limit in force; a
/// changed limit re-reserves at the new rate.
async fn pace(
    shared: &Shared,
    direction: Direction,
    bytes: usize,
    faults: &mut watch::Receiver<Faults>,
) {
    'reserve: loop {
        let (due, generation) = {
            let mut control = shared.control();
            let rate = shared.faults.borrow().bandwidth_bytes_per_sec;
            let pacer = &mut control.pacers[direction.index()];
            match rate {
                None => return,
                Some(0) => (None, pacer.generation),
                Some(rate) => (
                    Some(pacer.reserve(Instant::now(), bytes, rate)),
                    pacer.generation,
                ),
            }
        };
        loop {
            let sleep = async {
                match due {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = sleep => return,
                changed = faults.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                    if shared.control().pacers[direction.index()].generation != generation {
                        continue 'reserve;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
