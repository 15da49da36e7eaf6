//! One sync run: the lock, the handshake, the phases in order, and the one place where
//! requests are retried (§6.9). Phases live in `push`, `upload` and `changes`.

use std::time::{Duration, Instant};

use sync_protocol::api::{KitStanding, KitState, ProblemCode};

use super::changes::Pass;
use super::lock::SyncLock;
use super::plan::Blocked;
use super::retry::{classify, Backoff, Verdict};
use super::{CancelToken, Phase, SyncEvent, SyncOptions, SyncReport, CLOCK_SKEW_WARNING_SECS};
use crate::kit::Session;
use crate::net::{Backend, RawResponse, RequestSigner, SignedRequest};
use crate::KitError;

/// Why one attempt of a request did not succeed.
pub(crate) enum Failure {
    /// Try again after backing off.
    Retry {
        reason: String,
        at_least: Option<Duration>,
    },
    /// The kit's clock is off; correct and retry once at once.
    Skew(Option<chrono::DateTime<chrono::Utc>>),
    /// Give up on this request.
    Fatal(KitError),
}

impl Failure {
    /// The failure a non-success answer means by default (§6.9).
    pub(crate) fn of(response: &RawResponse) -> Self {
        let problem = response.problem();
        let detail = problem.as_ref().map_or_else(
            || format!("HTTP {}", response.status),
            |p| format!("{}: {}", p.title, p.detail),
        );
        let retryable_problem = problem
            .as_ref()
            .is_some_and(|p| p.code.retryable() || (p.code == ProblemCode::Unknown && p.retryable));
        match classify(
            response.status,
            problem.as_ref(),
            response.retry_after.as_deref(),
        ) {
            Verdict::ClockSkew { server_time } => Self::Skew(server_time),
            Verdict::Retry { at_least } => Self::Retry {
                reason: detail,
                at_least,
            },
            Verdict::Permanent if retryable_problem => Self::Retry {
                reason: detail,
                at_least: None,
            },
            Verdict::Permanent => Self::Fatal(KitError::Backend {
                status: response.status,
                detail,
                problem: problem.map(Box::new),
            }),
        }
    }
}

/// A 2xx body that must parse as `T`; anything else (a portal's HTML) is retried.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    response: &RawResponse,
    what: &str,
) -> Result<T, Failure> {
    if !(200..300).contains(&response.status) {
        return Err(Failure::of(response));
    }
    serde_json::from_slice(&response.body).map_err(|e| Failure::Retry {
        reason: format!(
            "{what}: HTTP {} but not a Fieldkit answer (captive portal or proxy?): {e}",
            response.status
        ),
        at_least: None,
    })
}

/// One request as the executor sends it (re-signed on every attempt).
pub(crate) struct Request {
    pub method: reqwest::Method,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

impl Request {
    pub(crate) fn get(path: impl Into<String>, timeout: Duration) -> Self {
        Self {
            method: reqwest::Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout,
        }
    }
}

/// What the retry loop tells its owner while it works.
pub(crate) trait CallEvents {
    /// A request failed and is retried after the event's delay.
    fn retrying(&mut self, event: SyncEvent);
    /// The backend's clock, learnt from a `clock-skew` refusal: the signer is corrected
    /// before the retry.
    fn server_time(&mut self, server_time: chrono::DateTime<chrono::Utc>) -> Result<(), KitError>;
}

/// The one retry loop of §6.9, with its backoff state: the run's thread has one, and so
/// has each upload worker (each signs its own requests and backs off on its own).
pub(crate) struct Caller {
    pub backend: Backend,
    pub signer: RequestSigner,
    pub options: SyncOptions,
    pub cancel: CancelToken,
    backoff: Backoff,
    failing_since: Option<Instant>,
}

impl Caller {
    pub(crate) fn new(
        backend: Backend,
        signer: RequestSigner,
        options: SyncOptions,
        cancel: CancelToken,
    ) -> Self {
        Self {
            backend,
            signer,
            backoff: Backoff::new(options.backoff),
            options,
            cancel,
            failing_since: None,
        }
    }

    /// Sends `request` until `interpret` accepts an answer, retrying per §6.9.
    pub(crate) fn call<T>(
        &mut self,
        request: &Request,
        events: &mut dyn CallEvents,
        mut interpret: impl FnMut(&RawResponse) -> Result<T, Failure>,
    ) -> Result<T, KitError> {
        let mut skew_corrected = false;
        loop {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            let headers: Vec<(&str, String)> = request
                .headers
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect();
            let failure = match self.backend.send_signed(
                &self.signer,
                SignedRequest {
                    method: request.method.clone(),
                    path: &request.path,
                    headers: &headers,
                    body: request.body.clone(),
                    timeout: Some(request.timeout),
                    cancel: Some(&self.cancel),
                },
            ) {
                Err(KitError::Network(reason)) => Failure::Retry {
                    reason,
                    at_least: None,
                },
                Err(other) => return Err(other),
                Ok(response) => match interpret(&response) {
                    Ok(value) => {
                        self.backoff.reset();
                        self.failing_since = None;
                        return Ok(value);
                    }
                    Err(failure) => failure,
                },
            };
            let (reason, at_least) = match failure {
                Failure::Fatal(e) => return Err(e),
                Failure::Skew(server_time) if !skew_corrected => {
                    skew_corrected = true;
                    if let Some(t) = server_time {
                        events.server_time(t)?;
                    }
                    continue;
                }
                Failure::Skew(_) => ("clock skew persists".to_owned(), None),
                Failure::Retry { reason, at_least } => (reason, at_least),
            };
            let since = *self.failing_since.get_or_insert_with(Instant::now);
            if let Some(limit) = self.options.give_up_after {
                if since.elapsed() >= limit {
                    return Err(KitError::Network(format!(
                        "gave up after {} s without success: {reason}",
                        since.elapsed().as_secs()
                    )));
                }
            }
            let mut delay = self.backoff.next_delay(at_least);
            if let Some(limit) = self.options.give_up_after {
                // Wake for one last attempt when the budget runs out, not after it.
                delay = delay.min(limit.saturating_sub(since.elapsed()));
            }
            events.retrying(SyncEvent::Retrying {
                attempt: self.backoff.attempt(),
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason,
            });
            if !self.cancel.sleep(delay) {
                return Err(KitError::Cancelled);
            }
        }
    }
}

/// The state of one run.
pub(crate) struct Run<'a> {
    pub session: &'a mut Session,
    pub options: &'a SyncOptions,
    pub cancel: &'a CancelToken,
    pub events: &'a mut dyn FnMut(&SyncEvent),
    pub report: SyncReport,
    pub(crate) caller: Caller,
    skew_warned: bool,
}

/// The run's own side of the retry loop: events go to the caller's sink, a learnt clock
/// offset into the store.
struct RunEvents<'r> {
    session: &'r mut Session,
    events: &'r mut dyn FnMut(&SyncEvent),
    report: &'r mut SyncReport,
    skew_warned: &'r mut bool,
    signer: RequestSigner,
}

impl CallEvents for RunEvents<'_> {
    fn retrying(&mut self, event: SyncEvent) {
        self.report.retries += 1;
        (self.events)(&event);
    }

    fn server_time(&mut self, server_time: chrono::DateTime<chrono::Utc>) -> Result<(), KitError> {
        let skew = (chrono::Utc::now() - server_time).num_seconds();
        self.signer.set_skew_secs(skew);
        self.session.store_clock_skew(skew)?;
        self.report.clock_skew_secs = skew;
        if skew.abs() > CLOCK_SKEW_WARNING_SECS && !*self.skew_warned {
            *self.skew_warned = true;
            (self.events)(&SyncEvent::ClockSkew { skew_secs: skew });
        }
        Ok(())
    }
}

impl Run<'_> {
    pub(crate) fn emit(&mut self, event: SyncEvent) {
        (self.events)(&event);
    }

    fn run_events(&mut self) -> (RunEvents<'_>, &mut Caller) {
        (
            RunEvents {
                session: self.session,
                events: self.events,
                report: &mut self.report,
                skew_warned: &mut self.skew_warned,
                signer: self.caller.signer.clone(),
            },
            &mut self.caller,
        )
    }

    /// Sends `request` until `interpret` accepts an answer, retrying per §6.9.
    pub(crate) fn call<T>(
        &mut self,
        request: &Request,
        interpret: impl FnMut(&RawResponse) -> Result<T, Failure>,
    ) -> Result<T, KitError> {
        let (mut events, caller) = self.run_events();
        caller.call(request, &mut events, interpret)
    }

    /// Learns the clock offset from a server time (§8.3) and warns once per run when it
    /// is above 5 minutes.
    pub(crate) fn observe_server_time(
        &mut self,
        server_time: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), KitError> {
        let (mut events, _) = self.run_events();
        events.server_time(server_time)
    }

    /// `GET /v1/state`. A revoked kit learns it here (403 `kit-revoked`).
    fn handshake(&mut self) -> Result<Option<KitState>, KitError> {
        self.emit(SyncEvent::Phase {
            phase: Phase::Handshake,
        });
        let request = Request::get("/v1/state", self.options.request_timeout);
        let state = self.call(&request, |response| {
            if response.status == 403
                && response
                    .problem()
                    .is_some_and(|p| p.code == ProblemCode::KitRevoked)
            {
                return Ok(None);
            }
            json_body::<KitState>(response, "state").map(Some)
        })?;
        match &state {
            Some(s) => {
                self.observe_server_time(s.server_time)?;
                self.report.standing = Some(s.standing);
            }
            None => self.report.standing = Some(KitStanding::Revoked),
        }
        Ok(state)
    }
}

/// Runs one sync of `session` against `backend`: handshake, push, upload, changes. Every
/// step is idempotent, so after any failure — a cut link, a killed process — the next
/// run simply continues. Events go to `events` as they happen.
///
/// # Errors
/// [`KitError::SyncInProgress`] when another sync of this kit runs;
/// [`KitError::Cancelled`]; [`KitError::Network`] after `give_up_after` without
/// success; [`KitError::Backend`] for a permanent refusal that stops the run
/// (`unknown-kit`, `unsupported-protocol-version`, …); store errors.
pub fn sync(
    session: &mut Session,
    backend: &Backend,
    options: &SyncOptions,
    cancel: &CancelToken,
    events: &mut dyn FnMut(&SyncEvent),
) -> Result<SyncReport, KitError> {
    let kit_id = session.require_enrolment()?.kit_id;
    let _lock = SyncLock::acquire(&session.home)?;
    let signer = session.request_signer()?;
    let mut run = Run {
        session,
        options,
        cancel,
        events,
        report: SyncReport::default(),
        caller: Caller::new(backend.clone(), signer, options.clone(), cancel.clone()),
        skew_warned: false,
    };
    let state = run.handshake()?;
    if let Some(state) = &state {
        if state.kit_id != kit_id {
            return Err(KitError::Conflict(
                "the backend answered for another kit".into(),
            ));
        }
    }
    match state.as_ref().map(|s| s.standing) {
        Some(KitStanding::Quarantined) => run.block(Blocked::Quarantined)?,
        None | Some(KitStanding::Revoked) => run.block(Blocked::Revoked)?,
        Some(KitStanding::Active) => {}
    }
    let mut first_error = None;
    if let Some(state) = state.as_ref().filter(|s| s.standing == KitStanding::Active) {
        let head = state.head.as_ref().map_or(0, |h| h.seq);
        let offsets = state
            .pending_uploads
            .iter()
            .map(|u| (u.attachment_id.to_string(), u.offset))
            .collect();
        // Rollovers first, so that receipts signed by a new server key verify.
        let catalog_version = state.catalog_version.clone();
        first_error = run
            .changes(catalog_version.as_deref(), Pass::BeforeSend)
            .and_then(|()| run.push(head))
            .and_then(|()| run.upload(&offsets))
            .err();
    }
    match first_error {
        Some(e @ (KitError::Cancelled | KitError::Network(_))) => return Err(e),
        // Decisions, catalogs and a wipe order still come home when sending failed
        // for another reason (e.g. a quarantine learnt mid-run).
        _ => {
            let catalog_version = state.as_ref().and_then(|s| s.catalog_version.clone());
            run.changes(catalog_version.as_deref(), Pass::Final)?;
        }
    }
    if let Some(e) = first_error {
        if !run.report.wiped {
            return Err(e);
        }
    }
    if run.report.wiped {
        return Ok(run.report);
    }
    let server_now = chrono::Utc::now() - chrono::Duration::seconds(run.report.clock_skew_secs);
    run.session
        .store_last_sync(&crate::kit::sync_protocol_time(server_now))?;
    run.report.pending = run.session.pending_count()?;
    run.report.uploads_open = run.session.uploads_open_count()?;
    Ok(run.report)
}
