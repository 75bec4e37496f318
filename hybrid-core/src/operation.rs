//! Long-running work: one [`Operation`] for Azure LROs, vSphere tasks and OpenStack
//! status polling.
//!
//! A backend hands out an `Operation<T>` built from a [`Poller`]; the caller awaits it
//! (`op.await` or [`Operation::wait`]) with a timeout, jittered exponential backoff, and
//! a progress callback. The first check happens at once; later checks back off from
//! [`WaitOptions::initial_delay`] to [`WaitOptions::max_delay`], or follow the delay
//! the service asked for ([`Progress::retry_after`]). Transient errors while polling
//! (those with [`Error::is_retryable`]) are retried until the deadline; others end the
//! wait. Failure states are typed errors (`OperationFailed`, `Cancelled`), and a
//! deadline that passes is [`ErrorKind::Timeout`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::error::{Error, ErrorKind, Result};

/// How far a pending operation has come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Percent done, where the service reports it (vSphere TaskInfo, Nova progress).
    pub percent: Option<u8>,
    /// The service's current state, for example `BUILD` or `running`.
    pub status: Option<String>,
    /// How long the service asked to wait before the next check (Azure `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Progress {
    /// Progress with a status.
    pub fn status(status: impl Into<String>) -> Self {
        Progress {
            status: Some(status.into()),
            ..Progress::default()
        }
    }

    /// Sets the percentage.
    pub fn with_percent(mut self, percent: u8) -> Self {
        self.percent = Some(percent.min(100));
        self
    }

    /// Sets the delay the service asked for.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}

/// The result of one check.
#[derive(Debug)]
pub enum PollResult<T> {
    /// Not done yet.
    Pending(Progress),
    /// Done, with the result.
    Ready(T),
}

/// One check of a long-running operation. Return `Err` with kind
/// [`ErrorKind::OperationFailed`] or [`ErrorKind::Cancelled`] for failure states.
#[async_trait]
pub trait Poller<T>: Send {
    /// Checks once.
    async fn poll(&mut self) -> Result<PollResult<T>>;
}

struct FnPoller<F>(F);

#[async_trait]
impl<T, F, Fut> Poller<T> for FnPoller<F>
where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = Result<PollResult<T>>> + Send,
    T: Send,
{
    async fn poll(&mut self) -> Result<PollResult<T>> {
        (self.0)().await
    }
}

/// Timeout and backoff of a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    /// Give up after this long.
    pub timeout: Duration,
    /// Delay after the first (immediate) check.
    pub initial_delay: Duration,
    /// Longest delay between checks.
    pub max_delay: Duration,
    /// Growth factor of the delay.
    pub multiplier: f64,
    /// Random spread of each delay, as a fraction (0.1 = ±10 %).
    pub jitter: f64,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30 * 60),
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(15),
            multiplier: 1.6,
            jitter: 0.1,
        }
    }
}

/// Jittered exponential backoff, reusable by any loop that polls.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    opts: WaitOptions,
    seed: u64,
}

impl Backoff {
    /// A backoff starting at `opts.initial_delay`.
    pub fn new(opts: WaitOptions) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(opts.initial_delay.as_nanos() as u64);
        Backoff {
            next: opts.initial_delay,
            opts,
            seed: h.finish() | 1,
        }
    }

    fn unit_random(&mut self) -> f64 {
        // xorshift64*: enough spread for jitter; not for anything else.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let v = self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next delay: the service's request when given, else the backoff step.
    pub fn next_delay(&mut self, requested: Option<Duration>) -> Duration {
        if let Some(r) = requested {
            return r;
        }
        let base = self.next.min(self.opts.max_delay);
        let grown = base.as_secs_f64() * self.opts.multiplier.max(1.0);
        self.next = Duration::from_secs_f64(grown.min(self.opts.max_delay.as_secs_f64()));
        let spread = self.opts.jitter.clamp(0.0, 1.0);
        let factor = 1.0 + spread * (2.0 * self.unit_random() - 1.0);
        Duration::from_secs_f64(base.as_secs_f64() * factor)
    }
}

enum Source<T> {
    Ready(T),
    Failed(Error),
    Poll(Box<dyn Poller<T>>),
}

pub(crate) type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// Long-running work that can be awaited: a resource being built, a task, an LRO.
///
/// Awaiting it (`op.await`, or [`wait`](Operation::wait)) polls until done.
#[must_use = "an Operation does nothing unless awaited"]
pub struct Operation<T> {
    description: String,
    resource: Option<String>,
    source: Source<T>,
    options: WaitOptions,
    on_progress: Option<ProgressFn>,
}

impl<T> fmt::Debug for Operation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("description", &self.description)
            .field("resource", &self.resource)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Operation<T> {
    /// An operation that is already done.
    pub fn ready(description: impl Into<String>, value: T) -> Self {
        Operation::with_source(description.into(), Source::Ready(value))
    }

    /// An operation that already failed.
    pub fn failed(description: impl Into<String>, error: Error) -> Self {
        Operation::with_source(description.into(), Source::Failed(error))
    }

    /// An operation driven by `poller`.
    pub fn from_poller(description: impl Into<String>, poller: impl Poller<T> + 'static) -> Self {
        Operation::with_source(description.into(), Source::Poll(Box::new(poller)))
    }

    /// An operation driven by a closure that checks once per call.
    pub fn from_fn<F, Fut>(description: impl Into<String>, check: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<PollResult<T>>> + Send + 'static,
    {
        Operation::from_poller(description, FnPoller(check))
    }

    fn with_source(description: String, source: Source<T>) -> Self {
        Operation {
            description,
            resource: None,
            source,
            options: WaitOptions::default(),
            on_progress: None,
        }
    }

    /// Names the resource concerned (an id known before the work ends).
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Sets the total timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// Sets every wait option.
    pub fn with_options(mut self, options: WaitOptions) -> Self {
        self.options = options;
        self
    }

    /// Calls `f` with each pending check's progress.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// What the operation does, for example `create server web-1`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The resource concerned, when known.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The wait options in force.
    pub fn options(&self) -> &WaitOptions {
        &self.options
    }

    /// Converts the result when it arrives.
    pub fn map<U: Send + 'static>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Operation<U> {
        let Operation {
            description,
            resource,
            source,
            options,
            on_progress,
        } = self;
        let source = match source {
            Source::Ready(v) => Source::Ready(f(v)),
            Source::Failed(e) => Source::Failed(e),
            Source::Poll(p) => Source::Poll(Box::new(MapPoller {
                inner: p,
                f: Some(f),
            })),
        };
        Operation {
            description,
            resource,
            source,
            options,
            on_progress,
        }
    }

    /// Waits until the operation ends, the deadline passes, or a check fails.
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] when the deadline passes; the poller's error (for example
    /// [`ErrorKind::OperationFailed`]) when the work fails or a check fails for good.
    pub async fn wait(self) -> Result<T> {
        let Operation {
            description,
            resource,
            source,
            options,
            mut on_progress,
        } = self;
        let mut poller = match source {
            Source::Ready(v) => return Ok(v),
            Source::Failed(e) => return Err(e),
            Source::Poll(p) => p,
        };
        poll_until_done(
            &description,
            resource,
            options,
            on_progress.as_mut(),
            poller.as_mut(),
        )
        .await
    }
}

/// The one polling loop: checks at once, then backs off (or waits what the service
/// asked for), retries transient errors, and ends in `Timeout` at the deadline.
/// [`Operation::wait`] and the `*Ext` waiters both run on it.
pub(crate) async fn poll_until_done<T>(
    description: &str,
    resource: Option<String>,
    options: WaitOptions,
    mut on_progress: Option<&mut ProgressFn>,
    poller: &mut (dyn Poller<T> + '_),
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut backoff = Backoff::new(options);
    let mut last_status: Option<String> = None;
    let mut checks = 0u32;
    loop {
        checks += 1;
        let requested = match tokio::time::timeout_at(deadline, poller.poll()).await {
            Err(_) => break,
            Ok(Ok(PollResult::Ready(v))) => {
                tracing::debug!(operation = %description, checks, "operation done");
                return Ok(v);
            }
            Ok(Ok(PollResult::Pending(p))) => {
                tracing::trace!(operation = %description, status = ?p.status, percent = ?p.percent, "operation pending");
                if let Some(cb) = on_progress.as_mut() {
                    cb(&p);
                }
                last_status = p.status.clone().or(last_status);
                p.retry_after
            }
            Ok(Err(e)) if e.is_retryable() && e.kind() != ErrorKind::Timeout => {
                tracing::debug!(operation = %description, error = %e, "transient error while polling; retrying");
                e.retry_after()
            }
            Ok(Err(e)) => return Err(e),
        };
        let delay = backoff.next_delay(requested);
        let now = tokio::time::Instant::now();
        if now + delay >= deadline {
            tokio::time::sleep_until(deadline).await;
            break;
        }
        tokio::time::sleep(delay).await;
    }
    let mut msg = format!(
        "timed out after {:?} waiting for {description}",
        options.timeout
    );
    if let Some(s) = last_status {
        msg.push_str(&format!(" (last status {s})"));
    }
    let mut err = Error::new(ErrorKind::Timeout, msg);
    if let Some(r) = resource {
        err = err.with_resource(r);
    }
    Err(err)
}

struct MapPoller<T, F> {
    inner: Box<dyn Poller<T>>,
    f: Option<F>,
}

#[async_trait]
impl<T, U, F> Poller<U> for MapPoller<T, F>
where
    T: Send + 'static,
    U: Send,
    F: FnOnce(T) -> U + Send,
{
    async fn poll(&mut self) -> Result<PollResult<U>> {
        match self.inner.poll().await? {
            PollResult::Pending(p) => Ok(PollResult::Pending(p)),
            PollResult::Ready(v) => {
                let f = self.f.take().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Other,
                        "operation polled again after it completed",
                    )
                })?;
                Ok(PollResult::Ready(f(v)))
            }
        }
    }
}

impl<T: Send + 'static> IntoFuture for Operation<T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test(start_paused = true)]
    async fn ready_after_three_checks_with_progress() {
        let mut n = 0u8;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let start = tokio::time::Instant::now();
        let v = Operation::from_fn("count", move || {
            n += 1;
            let n = n;
            async move {
                Ok(if n < 3 {
                    PollResult::Pending(Progress::status("BUILD").with_percent(n * 30))
                } else {
                    PollResult::Ready(n)
                })
            }
        })
        .on_progress(move |p| seen2.lock().unwrap().push(p.percent))
        .await
        .unwrap();
        assert_eq!(v, 3);
        assert_eq!(*seen.lock().unwrap(), vec![Some(30), Some(60)]);
        // first check at once, then ~250 ms, then ~400 ms (±10 %)
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(585) && waited <= Duration::from_millis(715),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_last_status() {
        let op = Operation::<()>::from_fn("build server s1", || async {
            Ok(PollResult::Pending(Progress::status("BUILD")))
        })
        .with_resource("s1")
        .with_timeout(Duration::from_secs(5));
        let start = tokio::time::Instant::now();
        let err = op.wait().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("last status BUILD"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_and_retries_transient_errors() {
        let mut n = 0;
        let start = tokio::time::Instant::now();
        let v = Operation::from_fn("lro", move || {
            n += 1;
            let n = n;
            async move {
                match n {
                    1 => Ok(PollResult::Pending(
                        Progress::default().with_retry_after(Duration::from_secs(7)),
                    )),
                    2 => Err(Error::new(ErrorKind::Unavailable, "503")),
                    _ => Ok(PollResult::Ready("done")),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(v, "done");
        assert!(start.elapsed() >= Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn failure_is_typed_and_immediate() {
        let err = Operation::<()>::from_fn("task", || async {
            Err(Error::new(
                ErrorKind::OperationFailed,
                "task failed: disk full",
            ))
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OperationFailed);
    }

    #[tokio::test]
    async fn map_and_ready() {
        let v = Operation::ready("x", 2).map(|v| v * 10).await.unwrap();
        assert_eq!(v, 20);
        let polled = Operation::from_fn("y", || async { Ok(PollResult::Ready(4)) })
            .map(|v| v + 1)
            .await
            .unwrap();
        assert_eq!(polled, 5);
    }

    #[test]
    fn backoff_grows_to_cap_with_jitter() {
        let opts = WaitOptions {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(4),
            multiplier: 2.0,
            jitter: 0.0,
            ..WaitOptions::default()
        };
        let mut b = Backoff::new(opts);
        let d: Vec<_> = (0..5).map(|_| b.next_delay(None).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 4, 4]);
        assert_eq!(
            b.next_delay(Some(Duration::from_secs(9))),
            Duration::from_secs(9)
        );
        let mut j = Backoff::new(WaitOptions::default());
        for _ in 0..100 {
            let d = j.next_delay(None);
            assert!(d <= Duration::from_secs_f64(15.0 * 1.1));
        }
    }
}
