//! Seeded, deterministic fault injection.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// One injected fault: which operation, what error, how often, how slow.
///
/// Faults are checked in the order they were added; their latencies add up, and the
/// first one that fires an error wins. With the same seed and the same sequence of
/// requests, the same requests fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// The operation it applies to (for example `create_server`); `None` for all.
    pub operation: Option<String>,
    /// The error to return; `None` for latency only.
    pub kind: Option<ErrorKind>,
    /// Chance of firing per matching request, 0–1.
    pub probability: f64,
    /// Fire at most this many times; `None` for no limit.
    pub count: Option<u64>,
    /// Latency added to every matching request, in milliseconds.
    pub latency_ms: u64,
    /// Retry-After carried by the error, in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// HTTP status carried by the error (as a real backend's would).
    pub http_status: Option<u16>,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            operation: None,
            kind: None,
            probability: 1.0,
            count: None,
            latency_ms: 0,
            retry_after_ms: None,
            http_status: None,
        }
    }
}

impl Fault {
    /// Every matching request fails with `kind`.
    pub fn error(kind: ErrorKind) -> Self {
        Fault {
            kind: Some(kind),
            ..Fault::default()
        }
    }

    /// Every matching request is slowed by `latency`.
    pub fn latency(latency: Duration) -> Self {
        Fault {
            latency_ms: latency.as_millis() as u64,
            ..Fault::default()
        }
    }

    /// Every matching request is throttled (HTTP 429) with a Retry-After.
    pub fn throttle(retry_after: Duration) -> Self {
        Fault {
            kind: Some(ErrorKind::RateLimited),
            retry_after_ms: Some(retry_after.as_millis() as u64),
            http_status: Some(429),
            ..Fault::default()
        }
    }

    /// Applies only to `operation`.
    pub fn on(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Fires with probability `p` (0–1).
    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    /// Adds latency.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency_ms = latency.as_millis() as u64;
        self
    }

    /// Sets the HTTP status the error carries.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(Error::config(format!(
                "fault probability must be between 0 and 1, got {}",
                self.probability
            )));
        }
        Ok(())
    }

    fn matches(&self, op: &str) -> bool {
        self.operation.as_deref().is_none_or(|o| o == op)
    }

    fn make_error(&self, kind: ErrorKind, op: &str) -> Error {
        let mut e = Error::new(kind, format!("injected fault on {op}"));
        if let Some(s) = self.http_status.or(match kind {
            ErrorKind::RateLimited => Some(429),
            ErrorKind::Unavailable => Some(503),
            ErrorKind::Unauthenticated => Some(401),
            _ => None,
        }) {
            e = e.with_http_status(s);
        }
        if let Some(ms) = self.retry_after_ms {
            e = e.with_retry_after(Duration::from_millis(ms));
        }
        e
    }
}

/// splitmix64: small, fast, and the same sequence for the same seed everywhere.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug)]
pub(crate) struct FaultState {
    rng: SplitMix64,
    faults: Vec<(Fault, u64)>,
}

impl FaultState {
    pub(crate) fn new(seed: u64, faults: Vec<Fault>) -> Self {
        FaultState {
            rng: SplitMix64(seed),
            faults: faults.into_iter().map(|f| (f, 0)).collect(),
        }
    }

    pub(crate) fn push(&mut self, f: Fault) {
        self.faults.push((f, 0));
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// The latency to add and the error to return for one request to `op`.
    pub(crate) fn decide(&mut self, op: &str) -> (Duration, Option<Error>) {
        let mut latency = 0u64;
        let mut error = None;
        for (fault, fired) in &mut self.faults {
            if !fault.matches(op) {
                continue;
            }
            latency += fault.latency_ms;
            let Some(kind) = fault.kind else { continue };
            if error.is_some() || fault.count.is_some_and(|c| *fired >= c) {
                continue;
            }
            let fire = fault.probability >= 1.0
                || (fault.probability > 0.0 && self.rng.next_f64() < fault.probability);
            if fire {
                *fired += 1;
                error = Some(fault.make_error(kind, op));
            }
        }
        (Duration::from_millis(latency), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_failures() {
        let run = |seed| {
            let mut s = FaultState::new(
                seed,
                vec![Fault::error(ErrorKind::Unavailable).with_probability(0.3)],
            );
            (0..200)
                .map(|_| s.decide("x").1.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let fired = run(7).iter().filter(|b| **b).count();
        assert!((30..90).contains(&fired), "{fired}");
    }

    #[test]
    fn count_limits_and_operation_filter() {
        let mut s = FaultState::new(
            1,
            vec![Fault::throttle(Duration::from_secs(2))
                .on("create_server")
                .times(2)],
        );
        assert!(s.decide("get_server").1.is_none());
        let e = s.decide("create_server").1.unwrap();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(e.http_status(), Some(429));
        assert!(s.decide("create_server").1.is_some());
        assert!(s.decide("create_server").1.is_none());
    }

    #[test]
    fn latencies_add_up() {
        let mut s = FaultState::new(
            1,
            vec![
                Fault::latency(Duration::from_millis(5)),
                Fault::latency(Duration::from_millis(7)).on("a"),
            ],
        );
        assert_eq!(s.decide("a").0, Duration::from_millis(12));
        assert_eq!(s.decide("b").0, Duration::from_millis(5));
    }

    #[test]
    fn bad_probability_is_a_config_error() {
        let e = Fault::error(ErrorKind::Other)
            .with_probability(1.5)
            .validate()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }
}
