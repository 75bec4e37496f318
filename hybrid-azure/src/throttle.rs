//! Slowing down before ARM throttles.
//!
//! ARM tells every caller how many requests it has left before it is throttled:
//! `x-ms-ratelimit-remaining-subscription-reads` (GET), `-writes` (PUT, PATCH, POST),
//! `-deletes` (DELETE), their `-subscription-global-` and `-tenant-` forms, and
//! `x-ms-ratelimit-remaining-resource` (`Microsoft.Compute/GetVM3Min;139,…`) with the
//! resource provider's own policies. [`Throttle`] reads them from every response and,
//! when the smallest remaining count of a request's class (reads, writes or deletes; the
//! subscription's counts and the target provider's) falls below
//! [`ThrottleOptions::low_watermark`], waits before sending the next request of that
//! class: nothing at the watermark, growing linearly to [`ThrottleOptions::max_delay`]
//! at zero. Counts older than [`ThrottleOptions::max_age`] are forgotten (ARM's
//! windows refill). A `429` that comes anyway is retried by `hybrid-http`, honouring
//! `Retry-After`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hybrid_http::header::HeaderMap;
use hybrid_http::Method;
use serde::Deserialize;
use tokio::time::Instant;

/// When and how much to slow down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleOptions {
    /// Whether to slow down at all. Default: true.
    pub enabled: bool,
    /// Below this many remaining requests, requests of the class are delayed. Default: 30.
    pub low_watermark: u64,
    /// The delay at zero remaining requests. Default: 10 s.
    #[serde(with = "millis")]
    pub max_delay: Duration,
    /// How long an observed count is trusted. Default: 60 s.
    #[serde(with = "millis")]
    pub max_age: Duration,
}

mod millis {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// A duration as milliseconds.
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

impl Default for ThrottleOptions {
    fn default() -> Self {
        ThrottleOptions {
            enabled: true,
            low_watermark: 30,
            max_delay: Duration::from_secs(10),
            max_age: Duration::from_secs(60),
        }
    }
}

impl ThrottleOptions {
    /// No slowing down.
    pub fn disabled() -> Self {
        ThrottleOptions {
            enabled: false,
            ..ThrottleOptions::default()
        }
    }

    /// The delay for `remaining` requests left: zero at or above the watermark, then
    /// linear up to `max_delay` at zero.
    pub fn delay_for(&self, remaining: u64) -> Duration {
        if !self.enabled || self.low_watermark == 0 || remaining >= self.low_watermark {
            return Duration::ZERO;
        }
        let missing = (self.low_watermark - remaining) as u128;
        let nanos = self.max_delay.as_nanos() * missing / self.low_watermark as u128;
        Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }
}

/// The class of a request, as ARM counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// GET and HEAD.
    Reads,
    /// PUT, PATCH and POST.
    Writes,
    /// DELETE.
    Deletes,
}

impl Class {
    /// The class of `method`.
    pub fn of(method: &Method) -> Class {
        match *method {
            Method::GET | Method::HEAD => Class::Reads,
            Method::DELETE => Class::Deletes,
            _ => Class::Writes,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Class::Reads => "reads",
            Class::Writes => "writes",
            Class::Deletes => "deletes",
        }
    }
}

/// What the throttle has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleStats {
    /// Requests that were delayed.
    pub slowdowns: u64,
    /// The delays added up.
    pub total_delay: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    remaining: u64,
    at: Instant,
}

/// Reads ARM's remaining-request headers and delays requests when few are left.
#[derive(Debug)]
pub struct Throttle {
    options: ThrottleOptions,
    /// (class, provider namespace or "" for the subscription) → last count.
    seen: Mutex<HashMap<(Class, String), Seen>>,
    slowdowns: AtomicU64,
    delayed_nanos: AtomicU64,
}

impl Throttle {
    /// A throttle with `options`.
    pub fn new(options: ThrottleOptions) -> Self {
        Throttle {
            options,
            seen: Mutex::new(HashMap::new()),
            slowdowns: AtomicU64::new(0),
            delayed_nanos: AtomicU64::new(0),
        }
    }

    /// The options.
    pub fn options(&self) -> &ThrottleOptions {
        &self.options
    }

    /// Delays so far.
    pub fn stats(&self) -> ThrottleStats {
        ThrottleStats {
            slowdowns: self.slowdowns.load(Ordering::Relaxed),
            total_delay: Duration::from_nanos(self.delayed_nanos.load(Ordering::Relaxed)),
        }
    }

    /// The smallest fresh remaining count for a request of `class` to `namespace`.
    pub fn remaining(&self, class: Class, namespace: &str) -> Option<u64> {
        let now = Instant::now();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        [String::new(), namespace.to_ascii_lowercase()]
            .iter()
            .filter_map(|ns| seen.get(&(class, ns.clone())))
            .filter(|s| now.saturating_duration_since(s.at) <= self.options.max_age)
            .map(|s| s.remaining)
            .min()
    }

    /// The delay the next request of `class` to `namespace` waits.
    pub fn delay(&self, class: Class, namespace: &str) -> Duration {
        match self.remaining(class, namespace) {
            Some(r) => self.options.delay_for(r),
            None => Duration::ZERO,
        }
    }

    /// Waits as long as the counts ask before a request of `class` to `namespace`.
    pub async fn before(&self, class: Class, namespace: &str) {
        let delay = self.delay(class, namespace);
        if delay.is_zero() {
            return;
        }
        self.slowdowns.fetch_add(1, Ordering::Relaxed);
        self.delayed_nanos.fetch_add(
            delay.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
        tracing::info!(
            target: "hybrid_azure::throttle",
            class = class.suffix(),
            namespace,
            delay_ms = delay.as_millis() as u64,
            "few ARM requests left; slowing down"
        );
        tokio::time::sleep(delay).await;
    }

    /// Records the counts of a response to a request of `class` to `namespace`.
    pub fn observe(&self, class: Class, namespace: &str, headers: &HeaderMap) {
        let num = |name: &str| -> Option<u64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let sub = [
            format!("x-ms-ratelimit-remaining-subscription-{}", class.suffix()),
            format!(
                "x-ms-ratelimit-remaining-subscription-global-{}",
                class.suffix()
            ),
            format!("x-ms-ratelimit-remaining-tenant-{}", class.suffix()),
        ]
        .iter()
        .filter_map(|h| num(h))
        .min();
        let resource = headers
            .get_all("x-ms-ratelimit-remaining-resource")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|entry| entry.rsplit_once(';'))
            .filter_map(|(_, n)| n.trim().parse::<u64>().ok())
            .min();
        if sub.is_none() && resource.is_none() {
            return;
        }
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = sub {
            seen.insert(
                (class, String::new()),
                Seen {
                    remaining: r,
                    at: now,
                },
            );
        }
        if let Some(r) = resource {
            seen.insert(
                (class, namespace.to_ascii_lowercase()),
                Seen {
                    remaining: r,
                    at: now,
                },
            );
        }
    }
}

/// The provider namespace a request path targets (`Microsoft.Compute`), or `""`.
pub fn namespace_of(path: &str) -> &str {
    let mut parts = path.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("providers") {
            return parts.next().unwrap_or("");
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_http::header::HeaderValue;

    #[test]
    fn delay_grows_linearly_below_the_watermark() {
        let o = ThrottleOptions {
            low_watermark: 10,
            max_delay: Duration::from_millis(1000),
            ..ThrottleOptions::default()
        };
        assert_eq!(o.delay_for(10), Duration::ZERO);
        assert_eq!(o.delay_for(500), Duration::ZERO);
        assert_eq!(o.delay_for(5), Duration::from_millis(500));
        assert_eq!(o.delay_for(0), Duration::from_millis(1000));
        assert_eq!(ThrottleOptions::disabled().delay_for(0), Duration::ZERO);
    }

    #[test]
    fn reads_subscription_and_resource_counts() {
        let t = Throttle::new(ThrottleOptions {
            low_watermark: 100,
            max_delay: Duration::from_millis(100),
            ..ThrottleOptions::default()
        });
        let mut h = HeaderMap::new();
        h.insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            HeaderValue::from_static("11999"),
        );
        h.insert(
            "x-ms-ratelimit-remaining-resource",
            HeaderValue::from_static(
                "Microsoft.Compute/GetVM3Min;40,Microsoft.Compute/GetVM30Min;699",
            ),
        );
        t.observe(Class::Reads, "Microsoft.Compute", &h);
        assert_eq!(t.remaining(Class::Reads, "microsoft.compute"), Some(40));
        assert_eq!(t.remaining(Class::Reads, "Microsoft.Network"), Some(11999));
        assert_eq!(t.remaining(Class::Writes, "Microsoft.Compute"), None);
        assert_eq!(
            t.delay(Class::Reads, "Microsoft.Compute"),
            Duration::from_millis(60)
        );
        assert_eq!(t.delay(Class::Reads, "Microsoft.Network"), Duration::ZERO);
        assert_eq!(
            namespace_of(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/x"
            ),
            "Microsoft.Compute"
        );
        assert_eq!(namespace_of("/subscriptions/s/resourcegroups/g"), "");
    }
}
