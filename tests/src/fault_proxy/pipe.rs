//! One proxied connection: two pipes (reader and writer each), pacing, latency, stalls,
//! resets and truncation applied slice by slice.

use super::*;

/// A token bucket one slice deep, kept as the time the link is next free (GCRA): a slice
/// of `n` bytes occupies the link for `n / rate` seconds and may be written when that time
/// is over. Being up to one slice's time late costs no credit, so timer jitter does not
/// slow a sustained transfer down.
#[derive(Default)]
pub(super) struct Pacer {
    next_free: Option<Instant>,
    /// Changes whenever the rate changes, so waiters know to re-reserve.
    generation: u64,
}

impl Pacer {
    pub(super) fn restart(&mut self) {
        self.next_free = None;
        self.generation += 1;
    }

    /// Reserves the link for `bytes` at `rate`; returns when they may be written.
    pub(super) fn reserve(&mut self, now: Instant, bytes: usize, rate: u64) -> Instant {
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

pub(super) fn transfer_time(bytes: usize, rate: u64) -> Duration {
    let nanos = (bytes as u128 * 1_000_000_000) / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Slice size: the whole buffer, or a fiftieth of a second at the bandwidth limit.
pub(super) fn slice_len(rate: Option<u64>) -> usize {
    match rate {
        Some(rate) if rate > 0 => usize::try_from(rate / 50)
            .unwrap_or(MAX_SLICE_BYTES)
            .clamp(1, MAX_SLICE_BYTES),
        _ => MAX_SLICE_BYTES,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
}

impl Direction {
    pub(super) fn index(self) -> usize {
        match self {
            Direction::Up => 0,
            Direction::Down => 1,
        }
    }
}

/// How a pipe or a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Clean end (EOF forwarded as FIN).
    Done,
    /// A reset fault fired: reset both sides.
    Reset,
    /// A peer failed (reset, broken pipe): pass the failure on by resetting both sides.
    Failed,
}

/// What a pipe's reader hands its writer.
pub(super) enum Msg {
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

pub(super) async fn accept_loop(
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
pub(super) struct OpenGuard<'a>(&'a Counters);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) async fn serve_connection(mut client: TcpStream, shared: &Shared) {
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

pub(super) fn reset_on_purpose(shared: &Shared, stream: TcpStream) {
    shared.counters.resets.fetch_add(1, Ordering::SeqCst);
    hard_close(stream);
}

/// Closes with a TCP RST: `SO_LINGER` zero, then drop.
pub(super) fn hard_close(stream: TcpStream) {
    // If the option cannot be set the socket still closes, only with a FIN.
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Forwards both directions until both ended cleanly, or one was reset or failed.
pub(super) async fn relay(
    client: &mut TcpStream,
    server: &mut TcpStream,
    shared: &Shared,
) -> Outcome {
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
pub(super) async fn pipe(
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

pub(super) async fn read_side(
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

pub(super) async fn write_side(
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
pub(super) async fn wait_unstalled(faults: &mut watch::Receiver<Faults>) {
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
pub(super) async fn pace(
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
