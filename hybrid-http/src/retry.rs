//! When and how long to wait before sending a request again.
//!
//! The rules, applied by [`RequestBuilder::send`](crate::RequestBuilder::send):
//! - A connect error (nothing reached the server) is always retried, except a failed TLS
//!   certificate check, which a retry cannot fix.
//! - `429 Too Many Requests` is retried for every request, a `POST` included: the
//!   service refused it before acting on it (RFC 6585 §4; ARM and Keystone throttle
//!   this way), so sending it again cannot run it twice.
//! - `408` and `5xx` (except `501` and `505`), timeouts and connections lost after
//!   the request was sent are retried only for idempotent requests: `GET`, `HEAD`, `PUT`,
//!   `DELETE`, `OPTIONS`, `TRACE`, or any request marked
//!   [`idempotent`](crate::RequestBuilder::idempotent). A `POST` that may have reached
//!   the server is never sent twice otherwise.
//! - The delay is the service's when it asked for one (`x-ms-retry-after-ms`,
//!   `retry-after-ms`, `Retry-After` in seconds or as an HTTP date), else jittered
//!   exponential backoff.
//! - A streamed request body is sent once, whatever the answer.
//! - No attempt starts after the total deadline, and a requested delay that ends past it
//!   ends the retries with the error at once.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

/// Retries, backoff and the total deadline of a request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries). Default: 4.
    pub max_attempts: u32,
    /// The first backoff delay. Default: 200 ms.
    #[serde(with = "crate::options::duration")]
    pub initial_backoff: Duration,
    /// The longest backoff delay. Default: 10 s.
    #[serde(with = "crate::options::duration")]
    pub max_backoff: Duration,
    /// Growth of the delay per attempt. Default: 2.
    pub multiplier: f64,
    /// Random spread of each backoff delay, as a fraction (0.2 = ±20 %). Default: 0.2.
    pub jitter: f64,
    /// Time from the first attempt after which no attempt starts and the running one is
    /// abandoned. Default: 120 s.
    #[serde(with = "crate::options::duration")]
    pub total_deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: 0.2,
            total_deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The defaults: 4 attempts, 200 ms doubling to 10 s with ±20 % jitter, 120 s in total.
    pub fn new() -> Self {
        RetryPolicy::default()
    }

    /// A policy that never retries (one attempt).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts in total (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first and the longest backoff delay.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the growth factor of the delay.
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the jitter fraction (clamped to 0..=1).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Sets the total deadline.
    pub fn with_total_deadline(mut self, deadline: Duration) -> Self {
        self.total_deadline = deadline;
        self
    }

    /// The backoff schedule of this policy, for callers that repeat something
    /// themselves (a poll, a re-login) on the same delays as the requests.
    pub fn backoff(&self) -> hybrid_core::operation::Backoff {
        hybrid_core::operation::Backoff::new(hybrid_core::WaitOptions {
            timeout: self.total_deadline,
            initial_delay: self.initial_backoff,
            max_delay: self.max_backoff,
            multiplier: self.multiplier,
            jitter: self.jitter,
        })
    }
}

/// Whether `method` is idempotent by definition (RFC 9110 §9.2.2).
pub fn is_idempotent_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Whether a response with `status` is retried for a request that is (or is not)
/// idempotent: `429` always (the service refused the request without acting on it),
/// the others of [`is_retryable_status`] only when `idempotent`.
pub fn is_retryable_status_for(status: StatusCode, idempotent: bool) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || (idempotent && is_retryable_status(status))
}

/// Whether a response with `status` is worth retrying for an idempotent request:
/// `408`, `429`, and `5xx` except `501 Not Implemented` and `505 HTTP Version Not Supported`.
pub fn is_retryable_status(status: StatusCode) -> bool {
    match status.as_u16() {
        408 | 429 => true,
        501 | 505 => false,
        s => (500..600).contains(&s),
    }
}

/// The delay a response asks for: `x-ms-retry-after-ms` or `retry-after-ms` (milliseconds),
/// else `Retry-After` as delay-seconds or as an HTTP date (relative to `now`; a date in
/// the past means no delay). Unparseable values are ignored.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// use std::time::{Duration, SystemTime};
/// let mut h = HeaderMap::new();
/// h.insert("retry-after", HeaderValue::from_static("3"));
/// assert_eq!(hybrid_http::retry::retry_after(&h, SystemTime::now()), Some(Duration::from_secs(3)));
/// h.insert("x-ms-retry-after-ms", HeaderValue::from_static("1500"));
/// assert_eq!(hybrid_http::retry::retry_after(&h, SystemTime::now()), Some(Duration::from_millis(1500)));
/// ```
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for name in ["x-ms-retry-after-ms", "retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(42))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "9"), ("retry-after-ms", "250")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[("x-ms-retry-after-ms", "12"), ("retry-after-ms", "250")]),
                now
            ),
            Some(Duration::from_millis(12))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")]), now), None);
        assert_eq!(
            retry_after(
                &headers(&[("x-ms-retry-after-ms", "x"), ("retry-after", "2")]),
                now
            ),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses_and_methods() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 501, 505] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert!(is_idempotent_method(&m));
        }
        assert!(!is_idempotent_method(&Method::POST));
        assert!(!is_idempotent_method(&Method::PATCH));
    }

    #[test]
    fn policy_builders() {
        let p = RetryPolicy::new()
            .with_max_attempts(0)
            .with_backoff(Duration::from_secs(2), Duration::from_secs(1))
            .with_jitter(7.0);
        assert_eq!(p.max_attempts, 1);
        assert_eq!(p.max_backoff, Duration::from_secs(2));
        assert_eq!(p.jitter, 1.0);
        assert_eq!(RetryPolicy::none().max_attempts, 1);
        let mut b = RetryPolicy::new().with_jitter(0.0).backoff();
        assert_eq!(b.next_delay(None), Duration::from_millis(200));
        assert_eq!(b.next_delay(None), Duration::from_millis(400));
    }
}
