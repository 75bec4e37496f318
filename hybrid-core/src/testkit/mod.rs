//! The conformance suite: the executable contract every provider passes.
//!
//! Each behaviour in [`behaviours`] is a `pub async fn(&Harness) -> Check` over a
//! provider, gated on its capabilities (a behaviour whose capability is false checks
//! that it fails fast instead, or reports itself skipped with the reason). What a
//! behaviour creates is named with the harness's unique prefix and deleted again, even
//! when the behaviour fails.
//!
//! Run the whole suite from any crate's tests with one line:
//!
//! ```ignore
//! hybrid_core::conformance_tests!(my_harness().await);
//! ```
//!
//! which expands to one `#[tokio::test]` per behaviour (the calling crate needs
//! `tokio` with the `macros` and `rt-multi-thread` features as a dev-dependency).
//! Or call [`run_all`] and inspect the [`Report`].

pub mod behaviours;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::gate::gate;
use crate::provider::Provider;

/// What a behaviour concluded when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// Not applicable to this provider, with the reason (usually a false capability,
    /// whose fail-fast is checked by [`behaviours::unsupported_fails_fast`]).
    Skipped(String),
}

/// Why a behaviour failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure(format!("unexpected error: {e}"))
    }
}

/// The result of one behaviour.
pub type Check = Result<Outcome, Failure>;

type Counter = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A provider under test, with what the suite needs to know about it.
#[derive(Clone)]
pub struct Harness {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) requests: Option<Counter>,
    pub(crate) secrets: Vec<String>,
    pub(crate) texts: Vec<(String, String)>,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) import_url: Option<String>,
    pub(crate) missing_id: String,
    pub(crate) wait: Option<crate::operation::WaitOptions>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("provider", &self.provider.info())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

static RUN: AtomicU64 = AtomicU64::new(0);

impl Harness {
    /// A harness over `provider`, which is put behind the capability gate.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let prefix = format!(
            "hyb-ct-{:x}-{}",
            nanos ^ std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        );
        Harness {
            provider: gate(provider),
            requests: None,
            secrets: Vec::new(),
            texts: Vec::new(),
            prefix,
            timeout: Duration::from_secs(300),
            import_url: None,
            missing_id: "00000000-0000-4000-8000-00000000dead".to_owned(),
            wait: None,
        }
    }

    /// A harness over a mock, counting its requests.
    #[cfg(feature = "mock")]
    pub fn for_mock(mock: &crate::mock::MockProvider) -> Self {
        let m = mock.clone();
        let mut h = Harness::new(mock.provider())
            .with_request_counter(move || m.total_requests())
            .with_import_url("http://127.0.0.1:9/conformance.img")
            .with_wait_options(crate::operation::WaitOptions {
                timeout: Duration::from_secs(60),
                initial_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(50),
                ..crate::operation::WaitOptions::default()
            });
        h.texts
            .push(("mock provider (Debug)".into(), format!("{mock:?}")));
        h
    }

    /// Counts the requests the provider has made (HTTP requests, SOAP calls); the
    /// fail-fast behaviour asserts it does not move. Without one, that assertion is
    /// limited to the error.
    pub fn with_request_counter(mut self, f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.requests = Some(Arc::new(f));
        self
    }

    /// A secret configured into the provider (password, key, token) that must never
    /// appear in any Debug or Display output.
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Text to search for secrets too: typically `format!("{config:?}")`.
    pub fn with_text(mut self, label: impl Into<String>, text: impl Into<String>) -> Self {
        self.texts.push((label.into(), text.into()));
        self
    }

    /// The prefix of everything the suite creates.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The backoff and timeout of each wait, replacing the provider's own (which is
    /// kept, with [`Harness::with_timeout`] applied, when this is not set).
    pub fn with_wait_options(mut self, options: crate::operation::WaitOptions) -> Self {
        self.timeout = options.timeout;
        self.wait = Some(options);
        self
    }

    /// The timeout of each wait.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A URL the service can import an image from (URL import is skipped without one).
    pub fn with_import_url(mut self, url: impl Into<String>) -> Self {
        self.import_url = Some(url.into());
        self
    }

    /// An id that names nothing on this provider (default: a UUID no one uses).
    pub fn with_missing_id(mut self, id: impl Into<String>) -> Self {
        self.missing_id = id.into();
        self
    }

    /// The gated provider under test.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// The prefix of everything the suite creates.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn requests(&self) -> Option<u64> {
        self.requests.as_ref().map(|f| f())
    }

    pub(crate) fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }
}

/// The outcome of every behaviour.
#[derive(Debug)]
pub struct Report {
    /// `(behaviour, result)` in suite order.
    pub results: Vec<(&'static str, Check)>,
}

impl Report {
    /// The failed behaviours.
    pub fn failures(&self) -> Vec<(&'static str, &Failure)> {
        self.results
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|f| (*n, f)))
            .collect()
    }

    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in &self.results {
            match r {
                Ok(Outcome::Passed) => writeln!(f, "ok      {name}")?,
                Ok(Outcome::Skipped(why)) => writeln!(f, "skipped {name}: {why}")?,
                Err(e) => writeln!(f, "FAILED  {name}: {e}")?,
            }
        }
        Ok(())
    }
}

/// Runs every behaviour in order.
pub async fn run_all(h: &Harness) -> Report {
    let mut results = Vec::new();
    for name in behaviours::ALL {
        results.push((*name, behaviours::run(name, h).await));
    }
    Report { results }
}

/// Panics with the failure (for `#[test]`s), printing skips.
pub fn assert_passes(name: &str, check: Check) {
    match check {
        Ok(Outcome::Passed) => {}
        Ok(Outcome::Skipped(why)) => eprintln!("conformance {name}: skipped: {why}"),
        Err(f) => panic!("conformance behaviour {name} failed: {f}"),
    }
}

/// Expands to one `#[tokio::test]` per conformance behaviour, each building its
/// harness with the given expression (which may `.await`).
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::conformance_tests!(@each $harness;
            identity_and_check,
            unsupported_fails_fast,
            not_found,
            flavors,
            server_lifecycle,
            server_paging,
            wait_timeout,
            key_pairs,
            networks,
            security_groups,
            routers,
            floating_ips,
            volume_lifecycle,
            volume_attach,
            image_lifecycle,
            secrets_never_leak
        );
    };
    (@each $harness:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let harness: $crate::testkit::Harness = $harness;
                $crate::testkit::assert_passes(
                    stringify!($name),
                    $crate::testkit::behaviours::$name(&harness).await,
                );
            }
        )*
    };
}
