//! Prometheus metrics (`GET /metrics`), kept per [`crate::state::AppState`] rather than
//! in a global registry so that tests can run several servers in one process. Labels
//! carry outcomes, problem codes, route templates and statuses — never ids or data.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    outcome: String,
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: String,
}

/// The backend's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    records: Family<RecordLabels, Counter>,
    batch_seconds: Histogram,
    upload_bytes: Counter,
    requests: Family<RequestLabels, Counter>,
    queues_blocked: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "fieldkit_records",
            "Pushed record envelopes by outcome and problem code (reason)",
            records.clone(),
        );
        let batch_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "fieldkit_batch_duration_seconds",
            "Time to verify, store and answer one POST /v1/records batch",
            batch_seconds.clone(),
        );
        let upload_bytes = Counter::default();
        registry.register(
            "fieldkit_upload_bytes",
            "Attachment ciphertext bytes accepted by tus PATCH requests",
            upload_bytes.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "fieldkit_http_requests",
            "HTTP requests by route template and status",
            requests.clone(),
        );
        let queues_blocked = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "fieldkit_kit_queue_blocked",
            "Kits that newly reported their queue stopped at a record the backend misses, \
             by reason (PROTOCOL.md §6.5 blocked); IT staff must act on each",
            queues_blocked.clone(),
        );
        Self {
            registry,
            records,
            batch_seconds,
            upload_bytes,
            requests,
            queues_blocked,
        }
    }

    /// Counts one record outcome; `reason` is the problem code or `none`.
    pub fn record(&self, outcome: &str, reason: &str) {
        self.records
            .get_or_create(&RecordLabels {
                outcome: outcome.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Observes one batch's duration.
    pub fn batch(&self, seconds: f64) {
        self.batch_seconds.observe(seconds);
    }

    /// Counts uploaded bytes.
    pub fn upload_bytes(&self, n: u64) {
        self.upload_bytes.inc_by(n);
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts a kit that newly reports its queue stopped, by reason.
    pub fn kit_queue_blocked(&self, reason: &str) {
        self.queues_blocked
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
