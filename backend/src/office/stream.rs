//! Streamed response bodies in constant memory: a producer task writes chunks into a
//! bounded channel, the body reads them. When the channel is full the producer waits
//! (backpressure: at most [`DEPTH`] chunks are in flight, whatever the response's
//! size); when the client goes away, the next send fails and the producer stops. A
//! producer that hits an error sends it as the body's last item, so the connection is
//! cut instead of the response looking complete.

use std::io;

use axum::body::{Body, Bytes};
use tokio::sync::mpsc;

/// Chunks in flight between producer and connection.
pub const DEPTH: usize = 4;

/// The producer's end.
#[derive(Debug, Clone)]
pub struct Sink(mpsc::Sender<Result<Bytes, io::Error>>);

/// The client went away; stop producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

impl Sink {
    /// Sends a chunk (empty chunks are skipped).
    ///
    /// # Errors
    /// [`Gone`] when the body was dropped.
    pub async fn send(&self, bytes: impl Into<Bytes>) -> Result<(), Gone> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Ok(());
        }
        self.0.send(Ok(bytes)).await.map_err(|_| Gone)
    }

    /// Ends the body with an error: the client sees a broken transfer, never a short
    /// response that looks complete. `why` is for the log and must not carry case data.
    pub async fn fail(&self, why: &str) {
        tracing::warn!(reason = why, "streamed office response aborted");
        let _ = self.0.send(Err(io::Error::other(why.to_owned()))).await;
    }
}

/// A body fed by the returned [`Sink`].
pub fn channel() -> (Sink, Body) {
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(DEPTH);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (Sink(tx), Body::from_stream(stream))
}
