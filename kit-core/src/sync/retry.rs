//! When to retry and how long to wait (PROTOCOL.md §6.9). The exponential schedule
//! (`base · 2^attempt`, capped) comes from `backon`; full jitter on top of it is ours
//! because `backon`'s jitter *adds* up to one delay instead of drawing the whole delay
//! uniformly from `[0, schedule)`, and full jitter is what spreads a fleet of kits that
//! all reconnect when a backend comes back. `Retry-After` is a lower bound.

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use rand_core::RngCore as _;
use sync_protocol::api::{Problem, ProblemCode};

/// How one failed request is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Retry after backing off, waiting at least `at_least`.
    Retry {
        /// From `Retry-After`.
        at_least: Option<Duration>,
    },
    /// The kit's clock is off: correct it from the server time and retry once.
    ClockSkew {
        /// The backend's clock from the problem.
        server_time: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Permanent for this request.
    Permanent,
}

/// The verdict for an HTTP error status and its problem body (§6.9). The backend's
/// load answers — 408 `request-timeout`, 429 `rate-limited` or `quota-exceeded`, 503
/// `unavailable` — are retried after `Retry-After`, never taken as a rejection; so is
/// any problem that says it is `retryable`.
pub fn classify(status: u16, problem: Option<&Problem>, retry_after: Option<&str>) -> Verdict {
    let at_least = retry_after.and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    if let Some(p) = problem {
        if p.code == ProblemCode::ClockSkew {
            return Verdict::ClockSkew {
                server_time: p.server_time,
            };
        }
    }
    match status {
        408 | 429 | 500..=599 => Verdict::Retry { at_least },
        _ if problem.is_some_and(|p| p.retryable) => Verdict::Retry { at_least },
        _ => Verdict::Permanent,
    }
}

/// `Retry-After` as delay seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
}

/// Backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The first ceiling (§6.9: 1 s).
    pub base: Duration,
    /// The largest ceiling (§6.9: 5 min).
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
        }
    }
}

/// The retry state of one sync: the attempt counter resets after every success.
pub struct Backoff {
    policy: BackoffPolicy,
    schedule: backon::ExponentialBackoff,
    attempt: u32,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            schedule: Self::schedule(policy),
            attempt: 0,
        }
    }

    fn schedule(policy: BackoffPolicy) -> backon::ExponentialBackoff {
        ExponentialBuilder::default()
            .with_min_delay(policy.base)
            .with_max_delay(policy.cap)
            .with_factor(2.0)
            .without_max_times()
            .build()
    }

    /// Retries since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.schedule = Self::schedule(self.policy);
        self.attempt = 0;
    }

    /// The wait before the next retry: uniform in `[0, min(cap, base · 2^attempt))`, at
    /// least `at_least` — but never more than the cap, whatever a `Retry-After` asks.
    pub fn next_delay(&mut self, at_least: Option<Duration>) -> Duration {
        let ceiling = self.schedule.next().unwrap_or(self.policy.cap);
        self.attempt += 1;
        let ceiling_ms = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let jittered = Duration::from_millis(rand_core::OsRng.next_u64() % ceiling_ms);
        jittered
            .max(at_least.unwrap_or_default())
            .min(self.policy.cap.max(ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(code: ProblemCode, status: u16) -> Problem {
        Problem::new(code, status, "t", "d")
    }

    #[test]
    fn network_like_statuses_retry_and_other_4xx_are_permanent() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                classify(status, None, None),
                Verdict::Retry { at_least: None },
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 409, 413, 415, 422, 460] {
            assert_eq!(classify(status, None, None), Verdict::Permanent, "{status}");
        }
    }

    #[test]
    fn clock_skew_is_its_own_verdict_and_retry_after_is_honoured() {
        let mut skew = problem(ProblemCode::ClockSkew, 401);
        let t = chrono::Utc::now();
        skew.server_time = Some(t);
        assert_eq!(
            classify(401, Some(&skew), None),
            Verdict::ClockSkew {
                server_time: Some(t)
            }
        );
        assert_eq!(
            classify(
                429,
                Some(&problem(ProblemCode::RateLimited, 429)),
                Some("7")
            ),
            Verdict::Retry {
                at_least: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn load_answers_and_quotas_are_retried_after_retry_after_never_rejections() {
        for (status, code) in [
            (408, ProblemCode::RequestTimeout),
            (429, ProblemCode::RateLimited),
            (429, ProblemCode::QuotaExceeded),
            (503, ProblemCode::Unavailable),
        ] {
            let p = problem(code, status);
            assert!(p.retryable, "{code:?} is retryable");
            assert_eq!(
                classify(status, Some(&p), Some("30")),
                Verdict::Retry {
                    at_least: Some(Duration::from_secs(30))
                },
                "{status} {code:?}"
            );
        }
        // A problem that says it is retryable is retried whatever its status.
        let mut newer = problem(ProblemCode::Unknown, 425);
        newer.retryable = true;
        assert_eq!(
            classify(425, Some(&newer), None),
            Verdict::Retry { at_least: None }
        );
        // A problem that is not retryable, with a status that is not, stays permanent.
        assert_eq!(
            classify(
                403,
                Some(&problem(ProblemCode::KitRevoked, 403)),
                Some("30")
            ),
            Verdict::Permanent
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T14:00:00Z")
            .expect("date")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 14:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 13:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn delays_are_full_jitter_under_a_doubling_capped_ceiling() {
        let policy = BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(800),
        };
        let mut backoff = Backoff::new(policy);
        let ceilings = [100, 200, 400, 800, 800, 800];
        for (attempt, ceiling) in ceilings.into_iter().enumerate() {
            let d = backoff.next_delay(None);
            assert!(
                d < Duration::from_millis(ceiling),
                "attempt {attempt}: {d:?}"
            );
        }
        assert_eq!(backoff.attempt(), 6);
        backoff.reset();
        assert_eq!(backoff.attempt(), 0);
        assert!(backoff.next_delay(None) < Duration::from_millis(100));
        // Retry-After is a lower bound, up to the cap.
        let policy = BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
        };
        let mut backoff = Backoff::new(policy);
        assert!(backoff.next_delay(Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert_eq!(
            backoff.next_delay(Some(Duration::from_secs(86_400))),
            Duration::from_secs(5),
            "a day-long Retry-After is capped"
        );
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut samples: Vec<Duration> = (0..50)
            .map(|_| {
                Backoff::new(BackoffPolicy {
                    base: Duration::from_secs(10),
                    cap: Duration::from_secs(10),
                })
                .next_delay(None)
            })
            .collect();
        samples.sort();
        samples.dedup();
        assert!(samples.len() > 40, "50 draws should rarely repeat");
        assert!(
            samples[0] < Duration::from_secs(3)
                && samples[samples.len() - 1] > Duration::from_secs(7)
        );
    }
}
