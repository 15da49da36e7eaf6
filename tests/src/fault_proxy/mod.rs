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

mod pipe;
use pipe::*;

#[cfg(test)]
mod tests;
