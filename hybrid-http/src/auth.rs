//! Tokens: where they come from ([`TokenSource`]), how they are cached and refreshed
//! ([`TokenCache`]), and how a request carries them ([`Authorizer`]).
//!
//! The cache refreshes a token a configurable skew before it expires, and is
//! single-flight: however many callers find the token missing or stale at once, exactly
//! one of them asks the source, the others wait for and share its result (a success or
//! the failure). On a `401` from a service the request path
//! [invalidates](Authorizer::invalidate) the token it used and retries once with a fresh
//! one; an invalidation names the token generation that failed, so that a burst of
//! `401`s answered with the old token causes one refresh, not one per request.
//!
//! Tokens are [`SecretString`]s: `Debug` of every type here hides them, they are put in
//! headers marked sensitive, and they never appear in errors or logs.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use hybrid_core::{Error, ErrorKind, Result};

/// A credential for service requests with its expiry.
#[derive(Clone)]
pub struct Token {
    secret: SecretString,
    expires_at: Option<Instant>,
}

impl Token {
    /// A token that does not expire (or whose expiry is unknown).
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Token {
            secret: secret.into(),
            expires_at: None,
        }
    }

    /// A token valid for `lifetime` from now (OAuth `expires_in`). A lifetime beyond
    /// what the clock can represent gives a token that does not expire (never a panic).
    pub fn expiring_in(secret: impl Into<SecretString>, lifetime: Duration) -> Self {
        // A lifetime past what the clock can represent (a service answering
        // `expires_in: 1e18`) means "does not expire in this process's lifetime".
        Token {
            secret: secret.into(),
            expires_at: Instant::now().checked_add(lifetime),
        }
    }

    /// A token valid until the wall-clock time `at` (Keystone `expires_at`). A time in
    /// the past gives a token that is already expired.
    pub fn expiring_at(secret: impl Into<SecretString>, at: SystemTime) -> Self {
        let lifetime = at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Token::expiring_in(secret, lifetime)
    }

    /// The secret.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires, on the tokio clock; `None` if it does not.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("secret", &crate::redact::REDACTED)
            .field(
                "expires_in",
                &self
                    .expires_at
                    .map(|e| e.saturating_duration_since(Instant::now())),
            )
            .finish()
    }
}

/// Where tokens come from: a Keystone `POST /v3/auth/tokens`, an Entra ID client
/// credentials grant, a vCenter session login.
///
/// Implementations send their request as an
/// [`auth_endpoint`](crate::RequestBuilder::auth_endpoint) so that error bodies are never
/// echoed.
#[async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// Obtains a fresh token.
    ///
    /// # Errors
    /// Whatever obtaining the token fails with, typically
    /// [`ErrorKind::Unauthenticated`] for rejected credentials.
    async fn fetch_token(&self) -> Result<Token>;
}

#[async_trait]
impl<S: TokenSource + ?Sized> TokenSource for Arc<S> {
    async fn fetch_token(&self) -> Result<Token> {
        (**self).fetch_token().await
    }
}

/// How a token is put on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenHeader {
    /// `Authorization: Bearer <token>` (Azure, OAuth).
    Bearer,
    /// The raw token in a header of its own, for example `X-Auth-Token` (OpenStack) or
    /// `vmware-api-session-id` (vSphere Automation).
    Raw(HeaderName),
}

impl TokenHeader {
    /// OpenStack's `X-Auth-Token`.
    pub fn x_auth_token() -> Self {
        TokenHeader::Raw(HeaderName::from_static("x-auth-token"))
    }

    fn render(&self, secret: &SecretString) -> Result<(HeaderName, HeaderValue)> {
        let (name, value) = match self {
            TokenHeader::Bearer => (
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {}", secret.expose_secret())),
            ),
            TokenHeader::Raw(name) => (name.clone(), HeaderValue::from_str(secret.expose_secret())),
        };
        // The parse error says nothing about the value, so it is safe to keep.
        let mut value = value.map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                "the token cannot be sent in an HTTP header",
            )
            .with_source(e)
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

/// A header that authorizes a request, with the token generation it came from.
#[derive(Clone)]
pub struct AuthHeader {
    /// The header name.
    pub name: HeaderName,
    /// The value, marked sensitive.
    pub value: HeaderValue,
    /// Which token this is, for [`Authorizer::invalidate`].
    pub generation: u64,
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthHeader")
            .field("name", &self.name)
            .field("value", &crate::redact::REDACTED)
            .field("generation", &self.generation)
            .finish()
    }
}

/// What a request uses to authorize itself; object-safe, implemented by [`TokenCache`].
#[async_trait]
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The header for the next request.
    ///
    /// # Errors
    /// When no token can be obtained.
    async fn authorize(&self) -> Result<AuthHeader>;

    /// Forgets the token of `generation` after the service rejected it (a no-op if a
    /// newer token is cached already).
    async fn invalidate(&self, generation: u64);
}

struct Cached {
    token: Token,
    refresh_at: Option<Instant>,
    generation: u64,
}

struct State {
    cached: Option<Cached>,
    /// The failure of the last fetch, shared with the callers that waited for it.
    last_failure: Option<Arc<Error>>,
}

/// A cache in front of a [`TokenSource`]: refreshes before expiry, single-flight,
/// invalidated on `401`.
///
/// ```
/// use std::time::Duration;
/// use hybrid_http::{Token, TokenCache, TokenHeader, TokenSource};
///
/// struct Static;
/// #[hybrid_http::async_trait]
/// impl TokenSource for Static {
///     async fn fetch_token(&self) -> hybrid_core::Result<Token> {
///         Ok(Token::expiring_in("t0ken".to_string(), Duration::from_secs(3600)))
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let cache = TokenCache::new(Static)
///     .with_refresh_skew(Duration::from_secs(120))
///     .with_header(TokenHeader::x_auth_token());
/// let token = cache.token().await.unwrap();
/// assert!(!format!("{token:?} {cache:?}").contains("t0ken"));
/// # });
/// # fn tokio_test_block_on(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
pub struct TokenCache<S> {
    source: S,
    skew: Duration,
    header: TokenHeader,
    state: Mutex<State>,
    /// Completed fetches so far (written under the lock, read before queueing for it):
    /// a caller that waited for a fetch shares its outcome.
    fetches: AtomicU64,
}

/// The default refresh skew: tokens are renewed 60 s before they expire.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

impl<S: TokenSource> TokenCache<S> {
    /// A cache over `source`, sending tokens as `Authorization: Bearer`, refreshing
    /// [`DEFAULT_REFRESH_SKEW`] before expiry.
    pub fn new(source: S) -> Self {
        TokenCache {
            source,
            skew: DEFAULT_REFRESH_SKEW,
            header: TokenHeader::Bearer,
            state: Mutex::new(State {
                cached: None,
                last_failure: None,
            }),
            fetches: AtomicU64::new(0),
        }
    }

    /// Renews tokens `skew` before they expire (at most half their lifetime before).
    pub fn with_refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Sets how the token is put on requests.
    pub fn with_header(mut self, header: TokenHeader) -> Self {
        self.header = header;
        self
    }

    /// The token source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// A valid token, fetched if none is cached or the cached one is due for renewal.
    ///
    /// # Errors
    /// The source's error (shared with every caller that waited for the same fetch).
    pub async fn token(&self) -> Result<Token> {
        self.current().await.map(|(token, _)| token)
    }

    async fn current(&self) -> Result<(Token, u64)> {
        // Read the fetch count before queueing: if a fetch completes while we wait, we
        // take its outcome instead of starting another one.
        let seen = self.fetches.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(c) = &state.cached {
            if c.refresh_at.is_none_or(|at| Instant::now() < at) {
                return Ok((c.token.clone(), c.generation));
            }
        }
        if self.fetches.load(Ordering::Acquire) != seen {
            if let Some(failure) = &state.last_failure {
                return Err(shared_error(failure));
            }
        }
        tracing::debug!(target: "hybrid_http::auth", "fetching a new token");
        let fetched = self.source.fetch_token().await;
        let generation = self.fetches.fetch_add(1, Ordering::AcqRel) + 1;
        match fetched {
            Ok(token) => {
                let now = Instant::now();
                let refresh_at = token.expires_at.map(|exp| {
                    let lifetime = exp.saturating_duration_since(now);
                    exp.checked_sub(self.skew.min(lifetime / 2)).unwrap_or(now)
                });
                state.cached = Some(Cached {
                    token: token.clone(),
                    refresh_at,
                    generation,
                });
                state.last_failure = None;
                Ok((token, generation))
            }
            Err(e) => {
                let e = Arc::new(e);
                state.cached = None;
                state.last_failure = Some(e.clone());
                Err(shared_error(&e))
            }
        }
    }

    /// Forgets the cached token, whatever it is; the next call fetches a new one.
    pub async fn clear(&self) {
        self.state.lock().await.cached = None;
    }

    /// Whether a token is cached and not yet due for renewal.
    pub async fn is_fresh(&self) -> bool {
        let state = self.state.lock().await;
        state
            .cached
            .as_ref()
            .is_some_and(|c| c.refresh_at.is_none_or(|at| Instant::now() < at))
    }
}

/// A copy of a failure that several callers share; the original is its source.
fn shared_error(e: &Arc<Error>) -> Error {
    let mut copy = Error::new(e.kind(), e.message().to_owned())
        .with_context_defaults(e.context())
        .with_retryable(e.is_retryable());
    if let Some(s) = e.http_status() {
        copy = copy.with_http_status(s);
    }
    if let Some(id) = e.request_id() {
        copy = copy.with_request_id(id);
    }
    if let Some(after) = e.retry_after() {
        copy = copy.with_retry_after(after);
    }
    copy.with_source(SharedCause(e.clone()))
}

/// The original of a shared failure.
struct SharedCause(Arc<Error>);

impl fmt::Debug for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

#[async_trait]
impl<S: TokenSource> Authorizer for TokenCache<S> {
    async fn authorize(&self) -> Result<AuthHeader> {
        let (token, generation) = self.current().await?;
        let (name, value) = self.header.render(token.secret())?;
        Ok(AuthHeader {
            name,
            value,
            generation,
        })
    }

    async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            tracing::debug!(target: "hybrid_http::auth", generation, "token rejected by the service; invalidated");
            state.cached = None;
        }
    }
}

impl<S> fmt::Debug for TokenCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TokenCache");
        d.field("skew", &self.skew).field("header", &self.header);
        match self.state.try_lock() {
            Ok(state) => {
                d.field("cached", &state.cached.as_ref().map(|c| &c.token));
                d.field("fetches", &self.fetches.load(Ordering::Relaxed));
            }
            Err(_) => {
                d.field("cached", &"<busy>");
            }
        }
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
        lifetime: Option<Duration>,
        fail: bool,
    }

    #[async_trait]
    impl TokenSource for Counting {
        async fn fetch_token(&self) -> Result<Token> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.fail {
                return Err(
                    Error::new(ErrorKind::Unauthenticated, "bad credentials").with_http_status(401)
                );
            }
            let secret = format!("secret-token-{n}");
            Ok(match self.lifetime {
                Some(l) => Token::expiring_in(secret, l),
                None => Token::new(secret),
            })
        }
    }

    fn counting(lifetime: Option<Duration>) -> Arc<TokenCache<Counting>> {
        Arc::new(TokenCache::new(Counting {
            lifetime,
            ..Counting::default()
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_before_expiry_with_skew() {
        let cache = Arc::new(
            TokenCache::new(Counting {
                lifetime: Some(Duration::from_secs(600)),
                ..Counting::default()
            })
            .with_refresh_skew(Duration::from_secs(100)),
        );
        let t1 = cache.token().await.unwrap();
        assert_eq!(t1.secret().expose_secret(), "secret-token-1");
        tokio::time::advance(Duration::from_secs(480)).await;
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "secret-token-1"
        );
        assert!(cache.is_fresh().await);
        tokio::time::advance(Duration::from_secs(30)).await; // 510 s: inside the 100 s skew
        assert!(!cache.is_fresh().await);
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "secret-token-2"
        );
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn short_lived_tokens_use_half_their_lifetime() {
        let cache = TokenCache::new(Counting {
            lifetime: Some(Duration::from_secs(20)),
            ..Counting::default()
        });
        cache.token().await.unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        cache.token().await.unwrap();
        assert_eq!(
            cache.source().calls.load(Ordering::SeqCst),
            1,
            "a 20 s token is not refetched at once"
        );
        tokio::time::advance(Duration::from_secs(6)).await;
        cache.token().await.unwrap();
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn hundred_callers_after_expiry_make_one_fetch() {
        let cache = counting(Some(Duration::from_secs(300)));
        cache.token().await.unwrap();
        tokio::time::advance(Duration::from_secs(301)).await;
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.authorize().await.map(|h| h.generation) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 2);
        }
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_is_shared_by_waiting_callers() {
        let cache = Arc::new(TokenCache::new(Counting {
            fail: true,
            ..Counting::default()
        }));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.token().await })
            })
            .collect();
        for t in tasks {
            let e = t.await.unwrap().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unauthenticated);
            assert_eq!(e.http_status(), Some(401));
        }
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 1);
        // A later caller tries again.
        assert!(cache.token().await.is_err());
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn invalidation_is_per_generation() {
        let cache = counting(None);
        let h1 = cache.authorize().await.unwrap();
        cache.invalidate(h1.generation).await;
        let h2 = cache.authorize().await.unwrap();
        assert_ne!(h1.generation, h2.generation);
        // A late 401 for the old token leaves the new one alone.
        cache.invalidate(h1.generation).await;
        let h3 = cache.authorize().await.unwrap();
        assert_eq!(h2.generation, h3.generation);
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 2);
        cache.clear().await;
        assert!(!cache.is_fresh().await);
    }

    #[tokio::test(start_paused = true)]
    async fn headers_and_debug_never_show_secrets() {
        let bearer = counting(None);
        let h = bearer.authorize().await.unwrap();
        assert_eq!(h.name, AUTHORIZATION);
        assert!(h.value.is_sensitive());
        assert_eq!(h.value.to_str().unwrap(), "Bearer secret-token-1");
        let raw = TokenCache::new(Counting::default()).with_header(TokenHeader::x_auth_token());
        let h = raw.authorize().await.unwrap();
        assert_eq!(h.name.as_str(), "x-auth-token");
        assert_eq!(h.value.to_str().unwrap(), "secret-token-1");
        let token = raw.token().await.unwrap();
        let shown = format!(
            "{h:?} {raw:?} {token:?} {:?}",
            Token::new("secret-token-x".to_string())
        );
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[tokio::test]
    async fn a_lifetime_beyond_the_clock_never_expires_and_does_not_panic() {
        let t = Token::expiring_in("x".to_string(), Duration::MAX);
        assert_eq!(t.expires_at(), None);
        let t = Token::expiring_at(
            "x".to_string(),
            SystemTime::now() + Duration::from_secs(u64::MAX / 4),
        );
        let far = Instant::now() + Duration::from_secs(1 << 40);
        assert!(t.expires_at().is_none_or(|at| at > far), "{t:?}");
    }

    #[tokio::test]
    async fn expiring_at_wall_clock() {
        let t = Token::expiring_at(
            "x".to_string(),
            SystemTime::now() + Duration::from_secs(100),
        );
        let left = t
            .expires_at()
            .unwrap()
            .saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(98) && left <= Duration::from_secs(100));
        let past = Token::expiring_at(
            "x".to_string(),
            SystemTime::now() - Duration::from_secs(100),
        );
        assert!(past.expires_at().unwrap() <= Instant::now());
    }

    #[tokio::test]
    async fn invalid_token_characters_are_an_error_without_the_token() {
        struct Bad;
        #[async_trait]
        impl TokenSource for Bad {
            async fn fetch_token(&self) -> Result<Token> {
                Ok(Token::new("line\nbreak-secret".to_string()))
            }
        }
        let e = TokenCache::new(Bad).authorize().await.unwrap_err();
        assert!(!format!("{e} {e:?}").contains("break-secret"));
    }
}
