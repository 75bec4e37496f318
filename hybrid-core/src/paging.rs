//! Pagination: one page type, one resumable token, and the one helper that turns a
//! page-fetching function into a lazy `'static` stream of items.
//!
//! Every list in hybrid has two forms: `list_x(options)` returns a [`BoxStream`] that
//! fetches pages only as the consumer pulls items, and `list_x_page(options, token)`
//! returns one [`Page`] whose [`Page::next`] token resumes the listing later (even in
//! another process: tokens serialize). Both sit on [`paginate`], or on
//! [`paginate_prefetch`] for listings that fetch the next page while the current one is
//! consumed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt, RemoteHandle};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// An opaque, serializable position in a listing: a marker, a next link or a
/// continuation token, depending on the backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(String);

impl PageToken {
    /// Wraps a backend's token.
    pub fn new(token: impl Into<String>) -> Self {
        PageToken(token.into())
    }

    /// The backend's token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the provider's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageToken>,
}

impl<T> Page<T> {
    /// A page with `items` and a `next` token.
    pub fn new(items: Vec<T>, next: Option<PageToken>) -> Self {
        Page { items, next }
    }

    /// The last page.
    pub fn last(items: Vec<T>) -> Self {
        Page { items, next: None }
    }

    /// Whether more pages follow.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Converts the items, keeping the token.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Filters and page size shared by every listing. Backends apply what their API can
/// filter on the server, and the rest on the client, so the result is the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListOptions {
    /// Only items with exactly this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only items carrying every one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Items per page requested from the service (the service may cap it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Backend-specific server-side filters, passed through as query parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
}

impl ListOptions {
    /// No filter, the service's page size.
    pub fn new() -> Self {
        ListOptions::default()
    }

    /// Only items named `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only items carrying `tag`.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Requests `size` items per page.
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Adds a backend-specific filter.
    pub fn with_filter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.insert(key.into(), value.into());
        self
    }

    /// Whether an item with `name` and `tags` passes the name and tag filters.
    pub fn matches(&self, name: &str, tags: &[String]) -> bool {
        self.name.as_deref().is_none_or(|n| n == name) && self.tags.iter().all(|t| tags.contains(t))
    }
}

enum State<F> {
    Fetch(F, Option<PageToken>),
    Done,
}

/// Turns `fetch` (token → page) into a lazy stream of items.
///
/// The first page is fetched on the first poll, each next page only when the previous
/// one is consumed. An error ends the stream after being yielded. A page whose `next`
/// token equals the token it was fetched with ends the stream with
/// [`ErrorKind::InvalidResponse`] instead of looping forever.
pub fn paginate<T, F, Fut>(fetch: F) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: FnMut(Option<PageToken>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    stream::unfold(State::Fetch(fetch, None), |state| async move {
        let State::Fetch(mut fetch, token) = state else {
            return None;
        };
        match fetch(token.clone()).await {
            Ok(page) => {
                let next = match page.next {
                    Some(next) if Some(&next) == token.as_ref() => {
                        let err = Error::new(
                            ErrorKind::InvalidResponse,
                            "pagination did not advance: the service returned the same page token again",
                        );
                        return Some((Err(err), State::Done));
                    }
                    Some(next) => State::Fetch(fetch, Some(next)),
                    None => State::Done,
                };
                Some((Ok(page.items), next))
            }
            Err(e) => Some((Err(e), State::Done)),
        }
    })
    .flat_map(|page: Result<Vec<T>>| match page {
        Ok(items) => stream::iter(items.into_iter().map(Ok)).left_stream(),
        Err(e) => stream::once(async move { Err(e) }).right_stream(),
    })
    .boxed()
}

/// Runs a page fetch in the background (for [`paginate_prefetch`]): given the fetch as
/// a `'static` future, it spawns it on an executor and returns `None`, or hands it back
/// (`Some`) when it cannot spawn (for example outside any runtime); a future handed back
/// is then polled together with the stream.
pub type Spawn =
    Arc<dyn Fn(BoxFuture<'static, ()>) -> Option<BoxFuture<'static, ()>> + Send + Sync>;

/// As [`paginate`], but fetches the next page while the consumer takes the items of the
/// current one: the fetch of page *k + 1* starts as soon as page *k* arrives, so its
/// round trip and decoding overlap with the consumer's work instead of following it.
///
/// - At most one page is fetched ahead; the next fetch starts only when the page
///   ahead has been taken up.
/// - The first page is fetched on the first poll, as with [`paginate`].
/// - Dropping the stream cancels the fetch in flight (the future is dropped at its next
///   poll; a request already sent is abandoned).
/// - A consumer that stops early (`take`, a `find` that returns on the first match) may
///   cause one request more than [`paginate`] would make.
/// - Errors end the stream after the items before them, and a repeated page token ends
///   it with [`ErrorKind::InvalidResponse`], as with [`paginate`].
///
/// With `spawn`, each fetch runs on its own task (on another thread of a multi-threaded
/// runtime, so decoding runs in parallel with the consumer). Without it, or when `spawn`
/// hands the future back, the fetch runs on the consumer's task: it is polled once when
/// it starts (so that its request goes out and the service works on it while the
/// consumer takes the current page), then only once the current page is used up, when
/// its answer is read and decoded: one page of decoded items in memory at a time, and
/// no memory handed between threads.
pub fn paginate_prefetch<T, F, Fut>(fetch: F, spawn: Option<Spawn>) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: FnMut(Option<PageToken>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    Prefetching {
        fetch,
        spawn,
        items: Vec::new().into_iter(),
        ahead: None,
        started: false,
    }
    .boxed()
}

/// A page being fetched: the token it was asked with, the handle to its result, and its
/// future when it was not spawned.
struct Ahead<T> {
    token: Option<PageToken>,
    result: RemoteHandle<Result<Page<T>>>,
    local: Option<BoxFuture<'static, ()>>,
}

impl<T> Ahead<T> {
    /// Polls the fetch when it runs here rather than on its own task.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if let Some(f) = &mut self.local {
            if f.as_mut().poll(cx).is_ready() {
                self.local = None;
            }
        }
    }
}

struct Prefetching<T, F> {
    fetch: F,
    spawn: Option<Spawn>,
    items: std::vec::IntoIter<T>,
    ahead: Option<Ahead<T>>,
    started: bool,
}

impl<T, F> Unpin for Prefetching<T, F> {}

impl<T, F, Fut> Prefetching<T, F>
where
    T: Send + 'static,
    F: FnMut(Option<PageToken>) -> Fut,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    fn start(&mut self, token: Option<PageToken>, cx: &mut Context<'_>) {
        let (remote, result) = (self.fetch)(token.clone()).remote_handle();
        let remote: BoxFuture<'static, ()> = Box::pin(remote);
        let local = match &self.spawn {
            Some(spawn) => spawn(remote),
            None => Some(remote),
        };
        let mut ahead = Ahead {
            token,
            result,
            local,
        };
        // One poll starts a fetch that runs here: its request goes out now, while the
        // consumer takes the current page.
        ahead.drive(cx);
        self.ahead = Some(ahead);
    }
}

impl<T, F, Fut> Stream for Prefetching<T, F>
where
    T: Send + 'static,
    F: FnMut(Option<PageToken>) -> Fut,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.items.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            let Some(ahead) = &mut this.ahead else {
                if this.started {
                    return Poll::Ready(None);
                }
                this.started = true;
                this.start(None, cx);
                continue;
            };
            ahead.drive(cx);
            let page = match Pin::new(&mut ahead.result).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            let token = ahead.token.take();
            this.ahead = None;
            let page = match page {
                Ok(page) => page,
                Err(e) => return Poll::Ready(Some(Err(e))),
            };
            match page.next {
                Some(next) if Some(&next) == token.as_ref() => {
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "pagination did not advance: the service returned the same page token again",
                    ))));
                }
                Some(next) => this.start(Some(next), cx),
                None => {}
            }
            this.items = page.items.into_iter();
        }
    }
}

/// A stream that yields one error and ends: what a list returns when it cannot start
/// (for example an unsupported capability), with no I/O.
pub fn error_stream<T: Send + 'static>(err: Error) -> BoxStream<'static, Result<T>> {
    stream::once(async move { Err(err) }).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn pages(
        total: usize,
        size: usize,
        calls: Arc<AtomicUsize>,
    ) -> BoxStream<'static, Result<usize>> {
        paginate(move |token: Option<PageToken>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let start: usize = token.map(|t| t.as_str().parse().unwrap()).unwrap_or(0);
                let end = (start + size).min(total);
                let next = (end < total).then(|| PageToken::new(end.to_string()));
                Ok(Page::new((start..end).collect(), next))
            }
        })
    }

    #[tokio::test]
    async fn yields_every_item_in_order() {
        let calls = Arc::new(AtomicUsize::new(0));
        let all: Vec<usize> = pages(10, 3, calls.clone()).try_collect().await.unwrap();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn fetches_lazily() {
        let calls = Arc::new(AtomicUsize::new(0));
        let s = pages(100, 10, calls.clone());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing fetched before the first poll"
        );
        let first: Vec<_> = s.take(5).try_collect().await.unwrap();
        assert_eq!(first, vec![0, 1, 2, 3, 4]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn error_ends_stream_after_yield() {
        let mut n = 0;
        let s = paginate(move |_t: Option<PageToken>| {
            n += 1;
            let n = n;
            async move {
                if n == 1 {
                    Ok(Page::new(vec![1], Some(PageToken::new("a"))))
                } else {
                    Err(Error::new(ErrorKind::Unavailable, "down"))
                }
            }
        });
        let items: Vec<Result<i32>> = s.collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(*items[0].as_ref().unwrap(), 1);
        assert_eq!(
            items[1].as_ref().unwrap_err().kind(),
            ErrorKind::Unavailable
        );
    }

    #[tokio::test]
    async fn repeated_token_is_an_error_not_a_loop() {
        let s = paginate(|_t: Option<PageToken>| async {
            Ok(Page::new(vec![1], Some(PageToken::new("same"))))
        });
        let items: Vec<Result<i32>> = s.collect().await;
        // The repeated page's items are not yielded again: the stream ends in the error.
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1].as_ref().unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }

    /// Pages of `size` out of `total`, counting calls and recording which fetches were
    /// dropped before finishing.
    fn prefetching(
        total: usize,
        size: usize,
        calls: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
        spawn: Option<Spawn>,
    ) -> BoxStream<'static, Result<usize>> {
        prefetching_slow(total, size, calls, dropped, spawn, 20)
    }

    fn prefetching_slow(
        total: usize,
        size: usize,
        calls: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
        spawn: Option<Spawn>,
        delay_ms: u64,
    ) -> BoxStream<'static, Result<usize>> {
        struct CountDrop(Arc<AtomicUsize>, bool);
        impl Drop for CountDrop {
            fn drop(&mut self) {
                if !self.1 {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        paginate_prefetch(
            move |token: Option<PageToken>| {
                let calls = calls.clone();
                let dropped = dropped.clone();
                async move {
                    let mut guard = CountDrop(dropped, false);
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    // Every page after the first takes a while, so that it is still in
                    // flight while the consumer works.
                    if n > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                    }
                    let start: usize = token.map(|t| t.as_str().parse().unwrap()).unwrap_or(0);
                    let end = (start + size).min(total);
                    let next = (end < total).then(|| PageToken::new(end.to_string()));
                    guard.1 = true;
                    Ok(Page::new((start..end).collect(), next))
                }
            },
            spawn,
        )
    }

    fn tokio_spawn() -> Spawn {
        Arc::new(|f| {
            tokio::spawn(f);
            None
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefetch_yields_every_item_in_order_spawned_or_local() {
        for spawn in [Some(tokio_spawn()), None] {
            let calls = Arc::new(AtomicUsize::new(0));
            let dropped = Arc::new(AtomicUsize::new(0));
            let all: Vec<usize> = prefetching(10, 3, calls.clone(), dropped.clone(), spawn)
                .try_collect()
                .await
                .unwrap();
            assert_eq!(all, (0..10).collect::<Vec<_>>());
            assert_eq!(
                calls.load(Ordering::SeqCst),
                4,
                "no fetch past the last page"
            );
            assert_eq!(dropped.load(Ordering::SeqCst), 0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefetch_fetches_one_page_ahead_and_no_more() {
        let calls = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut s = prefetching(100, 10, calls.clone(), dropped.clone(), Some(tokio_spawn()));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing before the first poll"
        );
        assert_eq!(s.next().await.unwrap().unwrap(), 0);
        // Page 2 is on its way while page 1 is consumed; page 3 is not.
        eventually(&calls, 2).await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        for want in 1..10 {
            assert_eq!(s.next().await.unwrap().unwrap(), want);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "still one page ahead");
        assert_eq!(s.next().await.unwrap().unwrap(), 10);
        eventually(&calls, 3).await;
    }

    /// Waits (up to 10 s, for a loaded machine) until the counter reaches `want`.
    async fn eventually(calls: &AtomicUsize, want: usize) {
        for _ in 0..1000 {
            if calls.load(Ordering::SeqCst) == want {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{} calls, {want} expected", calls.load(Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_stream_cancels_the_fetch_in_flight() {
        for spawn in [Some(tokio_spawn()), None] {
            let calls = Arc::new(AtomicUsize::new(0));
            let dropped = Arc::new(AtomicUsize::new(0));
            // The second page takes 10 s: it is still in flight when the stream goes.
            let mut s = prefetching_slow(100, 10, calls.clone(), dropped.clone(), spawn, 10_000);
            assert_eq!(s.next().await.unwrap().unwrap(), 0);
            assert_eq!(s.next().await.unwrap().unwrap(), 1);
            eventually(&calls, 2).await;
            drop(s);
            // "The second page's fetch was dropped unfinished".
            eventually(&dropped, 1).await;
            assert_eq!(calls.load(Ordering::SeqCst), 2);
        }
    }

    /// Three pages that each take 100 ms to fetch, consumed by a consumer that works
    /// 100 ms on each page: on tokio's paused clock, sequential paging takes 600 ms and
    /// prefetching overlaps each fetch after the first with the work on the page before.
    async fn overlapped(spawn: Option<Spawn>, prefetch: bool) -> std::time::Duration {
        let fetch = |token: Option<PageToken>| async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let n: usize = token.map(|t| t.as_str().parse().unwrap()).unwrap_or(0);
            Ok(Page::new(
                vec![n],
                (n < 2).then(|| PageToken::new((n + 1).to_string())),
            ))
        };
        let mut s = if prefetch {
            paginate_prefetch(fetch, spawn)
        } else {
            paginate(fetch)
        };
        let t0 = tokio::time::Instant::now();
        let mut seen = Vec::new();
        while let Some(item) = s.next().await {
            seen.push(item.unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(seen, vec![0, 1, 2]);
        t0.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn prefetch_overlaps_the_round_trip_with_the_consumer() {
        let ms = |d: std::time::Duration| d.as_millis();
        assert_eq!(ms(overlapped(None, false).await), 600);
        assert_eq!(ms(overlapped(None, true).await), 400);
        assert_eq!(ms(overlapped(Some(tokio_spawn()), true).await), 400);
    }

    #[test]
    fn prefetch_works_without_a_runtime_when_the_spawner_declines() {
        let declines: Spawn = Arc::new(Some);
        let mut n = 0;
        let s = paginate_prefetch(
            move |token: Option<PageToken>| {
                n += 1;
                let n = n;
                async move {
                    assert_eq!(token.is_some(), n > 1);
                    Ok(Page::new(
                        vec![n],
                        (n < 3).then(|| PageToken::new(n.to_string())),
                    ))
                }
            },
            Some(declines),
        );
        // No runtime and no executor: the pages are ready at once, so polling with a
        // waker that does nothing is enough.
        let mut s = s;
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut all = Vec::new();
        for _ in 0..100 {
            match s.poll_next_unpin(&mut cx) {
                Poll::Ready(Some(item)) => all.push(item.unwrap()),
                Poll::Ready(None) => break,
                Poll::Pending => {}
            }
        }
        assert_eq!(all, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn prefetch_errors_and_repeated_tokens_end_the_stream() {
        let mut n = 0;
        let s = paginate_prefetch(
            move |_t: Option<PageToken>| {
                n += 1;
                let n = n;
                async move {
                    if n == 1 {
                        Ok(Page::new(vec![1, 2], Some(PageToken::new("a"))))
                    } else {
                        Err(Error::new(ErrorKind::Unavailable, "down"))
                    }
                }
            },
            None,
        );
        let items: Vec<Result<i32>> = s.collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(*items[1].as_ref().unwrap(), 2);
        assert_eq!(
            items[2].as_ref().unwrap_err().kind(),
            ErrorKind::Unavailable
        );

        let s = paginate_prefetch(
            |_t: Option<PageToken>| async { Ok(Page::new(vec![1], Some(PageToken::new("same")))) },
            None,
        );
        let items: Vec<Result<i32>> = s.collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1].as_ref().unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }

    #[test]
    fn list_options_matching() {
        let o = ListOptions::new().with_name("web").with_tag("prod");
        assert!(o.matches("web", &["prod".into(), "x".into()]));
        assert!(!o.matches("web", &[]));
        assert!(!o.matches("db", &["prod".into()]));
        assert!(ListOptions::new().matches("any", &[]));
    }
}
