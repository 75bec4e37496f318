//! Pagination: one page type, one resumable token, and the one helper that turns a
//! page-fetching function into a lazy `'static` stream of items.
//!
//! Every list in hybrid has two forms: `list_x(options)` returns a [`BoxStream`] that
//! fetches pages only as the consumer pulls items, and `list_x_page(options, token)`
//! returns one [`Page`] whose [`Page::next`] token resumes the listing later (even in
//! another process: tokens serialize). Both sit on [`paginate`].

use std::collections::BTreeMap;
use std::future::Future;

use futures::stream::{self, BoxStream, StreamExt};
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

    #[test]
    fn list_options_matching() {
        let o = ListOptions::new().with_name("web").with_tag("prod");
        assert!(o.matches("web", &["prod".into(), "x".into()]));
        assert!(!o.matches("web", &[]));
        assert!(!o.matches("db", &["prod".into()]));
        assert!(ListOptions::new().matches("any", &[]));
    }
}
