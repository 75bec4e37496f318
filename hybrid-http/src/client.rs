//! The client, its request builder, and responses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;
use url::Url;

use hybrid_core::{ByteStream, Error, ErrorContext, ErrorKind, Result};

use crate::auth::{AuthHeader, Authorizer};
use crate::errors::{decode_json, decode_json_with, FailedResponse};
use crate::options::ClientOptions;
use crate::redact::{mark_sensitive, redact_url, RedactedHeaders};
use crate::retry::{is_idempotent_method, is_retryable_status_for, RetryPolicy};

const MAX_REDIRECTS: usize = 5;

struct ClientInner {
    http: reqwest::Client,
    options: ClientOptions,
    provider: Option<String>,
}

/// The HTTP client every backend uses: TLS, retries, auth, error mapping and tracing in
/// one place. Cheap to clone (an `Arc` inside).
///
/// ```no_run
/// # async fn demo() -> hybrid_core::Result<()> {
/// use hybrid_http::{ClientOptions, HttpClient};
/// #[derive(serde::Deserialize)]
/// struct Versions { versions: serde_json::Value }
///
/// let client = HttpClient::new(ClientOptions::new().with_ca_bundle("/etc/pki/corp-ca.pem"))?
///     .with_provider("openstack");
/// let v: Versions = client
///     .get("https://keystone.example:5000/v3")
///     .operation("check")
///     .send_json()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<ClientInner>,
}

impl HttpClient {
    /// A client with `options`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the proxy URL or user agent is invalid, the CA bundle
    /// cannot be read or holds no valid certificate, or the TLS setup fails.
    pub fn new(options: ClientOptions) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .tls_built_in_root_certs(options.builtin_roots)
            .redirect(same_origin_redirects());

        let ua = HeaderValue::from_str(&options.user_agent).map_err(|e| {
            Error::config("the user agent is not a valid header value").with_source(e)
        })?;
        builder = builder.user_agent(ua);

        match &options.proxy {
            Some(proxy) => {
                // Errors here never include the URL: it may hold credentials.
                let url = Url::parse(proxy)
                    .map_err(|e| Error::config("the proxy is not a valid URL").with_source(e))?;
                if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
                    return Err(Error::config(format!(
                        "the proxy URL has the unsupported scheme `{}`",
                        url.scheme()
                    )));
                }
                let proxy = reqwest::Proxy::all(url)
                    .map_err(|_| Error::config("the proxy URL is not usable"))?;
                builder = builder.proxy(proxy);
            }
            None if !options.use_env_proxy => builder = builder.no_proxy(),
            None => {}
        }

        let mut certs = Vec::new();
        if let Some(path) = &options.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(format!("cannot read the CA bundle {}", path.display()))
                    .with_source(e)
            })?;
            certs.extend(parse_pem_bundle(&pem, &path.display().to_string())?);
        }
        if let Some(pem) = &options.ca_pem {
            certs.extend(parse_pem_bundle(pem, "the CA certificates given as PEM")?);
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }

        if options.danger_accept_invalid_certs {
            tracing::warn!(
                target: "hybrid_http",
                "TLS certificate verification is DISABLED (danger_accept_invalid_certs): \
                 connections can be intercepted and credentials stolen; use a CA bundle instead"
            );
            builder = builder.danger_accept_invalid_certs(true);
        }

        let http = builder.build().map_err(|e| {
            Error::config("cannot set up the HTTP client (TLS or certificate error)")
                .with_source(e.without_url())
        })?;
        Ok(HttpClient {
            inner: Arc::new(ClientInner {
                http,
                options,
                provider: None,
            }),
        })
    }

    /// The same client (sharing its connections) naming `provider` in every error.
    pub fn with_provider(&self, provider: impl Into<String>) -> Self {
        HttpClient {
            inner: Arc::new(ClientInner {
                http: self.inner.http.clone(),
                options: self.inner.options.clone(),
                provider: Some(provider.into()),
            }),
        }
    }

    /// The options the client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// A request with `method` to `url` (an absolute URL; a parse error surfaces at send).
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        let url = Url::parse(url.as_ref()).map_err(|e| {
            // The URL itself may carry a secret in its query: do not echo it.
            Error::invalid_input("the request URL is not a valid absolute URL").with_source(e)
        });
        let mut context = ErrorContext::default();
        context.provider.clone_from(&self.inner.provider);
        RequestBuilder {
            client: self.clone(),
            method,
            url,
            headers: HeaderMap::new(),
            body: Body::Empty,
            idempotent: None,
            auth_endpoint: false,
            authorizer: None,
            context,
            timeout: None,
            deadline: None,
            retry: None,
            error: None,
            any_status: false,
        }
    }

    /// A `GET` request.
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `HEAD` request.
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A `POST` request (not idempotent unless marked).
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request.
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request (not idempotent unless marked).
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request.
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.inner.provider)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

fn parse_pem_bundle(pem: &[u8], what: &str) -> Result<Vec<reqwest::Certificate>> {
    let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
        Error::config(format!("{what} is not a valid PEM certificate bundle")).with_source(e)
    })?;
    if certs.is_empty() {
        return Err(Error::config(format!("{what} holds no PEM certificate")));
    }
    Ok(certs)
}

/// Follows redirects only within the same scheme, host and port, so that credentials in
/// headers never reach another server; other redirects are handed to the caller.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if crate::pagination::same_origin(first, attempt.url()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

enum Body {
    Empty,
    Bytes(Bytes),
    Stream(Option<ByteStream>),
}

impl Body {
    fn replayable(&self) -> bool {
        !matches!(self, Body::Stream(_))
    }
}

/// A request being built; [`send`](RequestBuilder::send) runs it with retries, auth,
/// error mapping and tracing.
///
/// Builder errors (an invalid URL or header) are kept and reported by `send` as
/// [`ErrorKind::InvalidInput`].
#[must_use = "a request does nothing until sent"]
pub struct RequestBuilder {
    client: HttpClient,
    method: Method,
    url: Result<Url>,
    headers: HeaderMap,
    body: Body,
    idempotent: Option<bool>,
    auth_endpoint: bool,
    authorizer: Option<Arc<dyn Authorizer>>,
    context: ErrorContext,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry: Option<RetryPolicy>,
    error: Option<Error>,
    /// Return the final response whatever its status ([`RequestBuilder::send_raw`]).
    any_status: bool,
}

impl RequestBuilder {
    fn fail(mut self, err: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(err);
        }
        self
    }

    /// Adds a header. Headers that look like credentials are marked sensitive.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: std::error::Error + Send + Sync + 'static,
        V: TryInto<HeaderValue>,
        V::Error: std::error::Error + Send + Sync + 'static,
    {
        let name = match name.try_into() {
            Ok(n) => n,
            Err(e) => return self.fail(Error::invalid_input("invalid header name").with_source(e)),
        };
        match value.try_into() {
            Ok(mut v) => {
                if crate::redact::is_sensitive_header(name.as_str()) {
                    v.set_sensitive(true);
                }
                self.headers.append(name, v);
                self
            }
            Err(e) => {
                let msg = format!("invalid value for header {name}");
                self.fail(Error::invalid_input(msg).with_source(e))
            }
        }
    }

    /// Adds every header of `headers`.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        let mut headers = headers;
        mark_sensitive(&mut headers);
        for (name, value) in headers {
            if let Some(name) = name {
                self.headers.append(name, value);
            }
        }
        self
    }

    /// Adds a header carrying a secret (an API key, a password); it is marked sensitive
    /// and never logged.
    pub fn secret_header<K>(mut self, name: K, value: &SecretString) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: std::error::Error + Send + Sync + 'static,
    {
        let name = match name.try_into() {
            Ok(n) => n,
            Err(e) => return self.fail(Error::invalid_input("invalid header name").with_source(e)),
        };
        match HeaderValue::from_str(value.expose_secret()) {
            Ok(mut v) => {
                v.set_sensitive(true);
                self.headers.insert(name, v);
                self
            }
            Err(_) => {
                let msg = format!("the secret for header {name} is not a valid header value");
                self.fail(Error::invalid_input(msg))
            }
        }
    }

    /// Appends a query parameter.
    pub fn query(mut self, key: &str, value: impl AsRef<str>) -> Self {
        if let Ok(url) = &mut self.url {
            url.query_pairs_mut().append_pair(key, value.as_ref());
        }
        self
    }

    /// Appends query parameters; `None` values are skipped.
    pub fn query_pairs<'a, I, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, Option<V>)>,
        V: AsRef<str>,
    {
        for (k, v) in pairs {
            if let Some(v) = v {
                self = self.query(k, v);
            }
        }
        self
    }

    /// Sends `value` as a JSON body (`Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                self.body = Body::Bytes(body.into());
                self
            }
            Err(e) => self.fail(
                Error::invalid_input("the request body cannot be serialized as JSON")
                    .with_source(e),
            ),
        }
    }

    /// Sends `body` as it is, with `content_type`.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = Body::Bytes(body.into());
        self
    }

    /// Streams the body (an image upload), with its length when known. A streamed
    /// request is sent once: it is never retried, not even after a `401`, and the
    /// client's request timeout and total deadline do not apply to it unless set with
    /// [`timeout`](Self::timeout) or [`deadline`](Self::deadline).
    pub fn body_stream(
        mut self,
        stream: ByteStream,
        length: Option<u64>,
        content_type: &'static str,
    ) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(len) = length {
            self.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        self.body = Body::Stream(Some(stream));
        self
    }

    /// Marks the request idempotent (or not), overriding the method's default: a `POST`
    /// marked idempotent is retried like a `GET`.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Marks the request as going to an authentication endpoint: error and decoding
    /// failures then never include anything from the response body.
    pub fn auth_endpoint(mut self, auth_endpoint: bool) -> Self {
        self.auth_endpoint = auth_endpoint;
        self
    }

    /// Authorizes the request with `authorizer` (usually a [`TokenCache`](crate::TokenCache)).
    /// On a `401` the token is invalidated and the request sent once more with a new one.
    pub fn auth(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// Names the library operation (for example `create_server`) in errors and traces.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.context.operation = Some(operation.into());
        self
    }

    /// Names the resource concerned in errors.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.context.resource = Some(resource.into());
        self
    }

    /// Sets provider, region, operation and resource from `context` where given.
    pub fn context(mut self, context: &ErrorContext) -> Self {
        let mut merged = context.clone();
        if merged.provider.is_none() {
            merged.provider = self.context.provider.take();
        }
        self.context = merged;
        self
    }

    /// Sets the per-attempt timeout (overrides [`ClientOptions::request_timeout`]).
    /// Unless [`deadline`](Self::deadline) is also set, a timeout longer than the retry
    /// policy's total deadline extends that deadline to the timeout, so the attempt can
    /// use all of it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the total deadline over all attempts (overrides
    /// [`RetryPolicy::total_deadline`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the retry policy of this request.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sends the request and decodes a JSON response (`Accept: application/json` is
    /// added unless set).
    ///
    /// # Errors
    /// As [`send`](Self::send), plus [`ErrorKind::InvalidResponse`] (with the serde
    /// error as source) when the body is not the expected JSON.
    pub async fn send_json<T: DeserializeOwned>(mut self) -> Result<T> {
        if !self.headers.contains_key(ACCEPT) {
            self.headers
                .insert(ACCEPT, HeaderValue::from_static("application/json"));
        }
        self.send().await?.json().await
    }

    /// Sends the request like [`send`](Self::send), but returns the final response
    /// whatever its status, for services whose error bodies the caller maps itself
    /// (vSphere's vAPI errors carry their kind in the body, not the status).
    ///
    /// Everything else is as for `send`: a `429`, and a retryable status (408, 5xx) of
    /// an idempotent request, is retried while attempts remain and only the last answer is
    /// returned; a `401` with an [`auth`](Self::auth) authorizer invalidates the token and
    /// is retried once; redirects are followed only within the same origin.
    ///
    /// # Errors
    /// - [`ErrorKind::Transport`] when no connection could be made or it broke.
    /// - [`ErrorKind::Timeout`] when an attempt or the total deadline ran out (also when
    ///   a retryable status would be retried after the deadline: then the mapped error of
    ///   that status is returned, as `send` does).
    /// - [`ErrorKind::InvalidInput`] for a malformed URL, header or body.
    /// - The authorizer's error when no token could be obtained.
    pub async fn send_raw(mut self) -> Result<Response> {
        self.any_status = true;
        self.send().await
    }

    /// Sends the request, retrying as the [retry rules](crate::retry) allow, and returns
    /// the response when its status is below 400. Redirects are followed only within
    /// the same origin; others are returned as they are.
    ///
    /// # Errors
    /// - The mapped service error for a status of 400 or more (kind from the status and
    ///   the service's code, message from the body unless this is an auth endpoint,
    ///   HTTP status, request id, `Retry-After`).
    /// - [`ErrorKind::Transport`] when no connection could be made or it broke.
    /// - [`ErrorKind::Timeout`] when an attempt or the total deadline ran out.
    /// - [`ErrorKind::InvalidInput`] for a malformed URL, header or body.
    /// - The authorizer's error when no token could be obtained.
    pub async fn send(mut self) -> Result<Response> {
        let context = self.context.clone();
        if let Some(e) = self.error.take() {
            return Err(e.with_context_defaults(&context));
        }
        let url = match std::mem::replace(&mut self.url, Err(Error::new(ErrorKind::Other, "taken")))
        {
            Ok(u) => u,
            Err(e) => return Err(e.with_context_defaults(&context)),
        };
        if !matches!(url.scheme(), "http" | "https") {
            let e = Error::invalid_input(format!("unsupported URL scheme `{}`", url.scheme()));
            return Err(e.with_context_defaults(&context));
        }
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        };
        let span = tracing::info_span!(
            target: "hybrid_http",
            "http.request",
            method = %self.method,
            host = %host,
            path = %url.path(),
            operation = Empty,
            attempt = Empty,
            status = Empty,
            request_id = Empty,
        );
        if let Some(op) = &context.operation {
            span.record("operation", tracing::field::display(op));
        }
        let exec = Exec { req: self, url };
        exec.run()
            .instrument(span)
            .await
            .map_err(|e| e.with_context_defaults(&context))
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &self.url.as_ref().map(redact_url).ok())
            .field("headers", &RedactedHeaders(&self.headers))
            .field("idempotent", &self.idempotent)
            .field("auth_endpoint", &self.auth_endpoint)
            .field("authorizer", &self.authorizer)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed.
enum Failure {
    Status {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    Transport(reqwest::Error),
    AttemptTimeout(Duration),
    Deadline(Duration),
}

struct Exec {
    req: RequestBuilder,
    url: Url,
}

impl Exec {
    async fn run(mut self) -> Result<Response> {
        let client = self.req.client.clone();
        let opts = &client.inner.options;
        let policy = self.req.retry.clone().unwrap_or_else(|| opts.retry.clone());
        let streaming = !self.req.body.replayable();
        let attempt_timeout = match (self.req.timeout, streaming) {
            (Some(t), _) => Some(t),
            (None, false) => Some(opts.request_timeout),
            (None, true) => None,
        };
        // A request's own attempt timeout longer than the policy's total deadline (a
        // large upload, a slow report) extends the deadline to one whole attempt.
        let total = match (self.req.deadline, streaming) {
            (Some(d), _) => Some(d),
            (None, false) => Some(match self.req.timeout {
                Some(t) => policy.total_deadline.max(t),
                None => policy.total_deadline,
            }),
            (None, true) => None,
        };
        let start = Instant::now();
        let deadline = total.map(|d| start + d);
        let idempotent = self
            .req
            .idempotent
            .unwrap_or_else(|| is_idempotent_method(&self.req.method));
        let mut backoff = policy.backoff();
        let mut attempt: u32 = 0; // sends so far
        let mut counted: u32 = 0; // sends that count against max_attempts
        let mut auth_retried = false;

        loop {
            attempt += 1;
            counted += 1;
            tracing::Span::current().record("attempt", attempt);
            let attempt_end = match (attempt_timeout, deadline) {
                (Some(t), Some(d)) => Some((Instant::now() + t).min(d)),
                (Some(t), None) => Some(Instant::now() + t),
                (None, d) => d,
            };

            let auth = match &self.req.authorizer {
                Some(a) => Some(
                    with_deadline(attempt_end, a.authorize())
                        .await
                        .unwrap_or_else(|| {
                            Err(Error::new(
                                ErrorKind::Timeout,
                                "timed out while obtaining a token",
                            ))
                        })?,
                ),
                None => None,
            };
            let request = self.build_request(auth.as_ref())?;
            tracing::debug!(target: "hybrid_http", attempt, "sending request");
            tracing::trace!(target: "hybrid_http", headers = %RedactedHeaders(request.headers()), "request headers");

            let sent = Instant::now();
            let failure = match with_deadline(attempt_end, client.inner.http.execute(request)).await
            {
                None => match deadline {
                    Some(d) if Instant::now() >= d => Failure::Deadline(total.unwrap_or_default()),
                    _ => Failure::AttemptTimeout(attempt_timeout.unwrap_or_default()),
                },
                Some(Err(e)) => Failure::Transport(e),
                Some(Ok(mut resp)) => {
                    let status = resp.status();
                    mark_sensitive(resp.headers_mut());
                    let request_id = crate::errors::request_id(resp.headers());
                    let span = tracing::Span::current();
                    span.record("status", status.as_u16());
                    if let Some(id) = &request_id {
                        span.record("request_id", tracing::field::display(id));
                    }
                    tracing::debug!(
                        target: "hybrid_http",
                        status = status.as_u16(),
                        elapsed_ms = sent.elapsed().as_millis() as u64,
                        "response received"
                    );
                    tracing::trace!(target: "hybrid_http", headers = %RedactedHeaders(resp.headers()), "response headers");
                    if status.as_u16() < 400 {
                        return Ok(Response {
                            inner: resp,
                            method: self.req.method.clone(),
                            url: self.url.clone(),
                            request_id,
                            auth_endpoint: self.req.auth_endpoint,
                            body_deadline: attempt_end,
                            max_body: opts.max_body,
                            context: self.req.context.clone(),
                        });
                    }
                    if status == StatusCode::UNAUTHORIZED && !auth_retried && !streaming {
                        if let (Some(a), Some(used)) = (&self.req.authorizer, &auth) {
                            auth_retried = true;
                            counted -= 1;
                            a.invalidate(used.generation).await;
                            tracing::debug!(target: "hybrid_http", "401: token invalidated, retrying with a new one");
                            continue;
                        }
                    }
                    if self.req.any_status {
                        let retry_now = !streaming
                            && is_retryable_status_for(status, idempotent)
                            && counted < policy.max_attempts;
                        if !retry_now {
                            return Ok(Response {
                                inner: resp,
                                method: self.req.method.clone(),
                                url: self.url.clone(),
                                request_id,
                                auth_endpoint: self.req.auth_endpoint,
                                body_deadline: attempt_end,
                                max_body: opts.max_body,
                                context: self.req.context.clone(),
                            });
                        }
                    }
                    let limit = opts.max_error_body;
                    let body = with_deadline(attempt_end, read_bounded(&mut resp, limit))
                        .await
                        .unwrap_or_default();
                    Failure::Status {
                        status,
                        headers: resp.headers().clone(),
                        body,
                    }
                }
            };

            let (retryable, requested) = match &failure {
                Failure::Transport(e) if e.is_connect() => {
                    (!streaming && !is_certificate_error(e), None)
                }
                Failure::Transport(_) | Failure::AttemptTimeout(_) => {
                    (idempotent && !streaming, None)
                }
                Failure::Deadline(_) => (false, None),
                Failure::Status {
                    status, headers, ..
                } => (
                    !streaming && is_retryable_status_for(*status, idempotent),
                    crate::retry::retry_after(headers, std::time::SystemTime::now()),
                ),
            };
            if !retryable || counted >= policy.max_attempts {
                return Err(self.to_error(failure, attempt, idempotent));
            }
            let delay = backoff.next_delay(requested);
            if let Some(d) = deadline {
                if Instant::now() + delay >= d {
                    tracing::debug!(
                        target: "hybrid_http",
                        delay_ms = delay.as_millis() as u64,
                        "the next attempt would start after the deadline; giving up"
                    );
                    return Err(self.to_error(failure, attempt, idempotent));
                }
            }
            tracing::info!(
                target: "hybrid_http",
                attempt,
                delay_ms = delay.as_millis() as u64,
                reason = %failure_reason(&failure),
                "retrying request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn build_request(&mut self, auth: Option<&AuthHeader>) -> Result<reqwest::Request> {
        let mut rb = self
            .req
            .client
            .inner
            .http
            .request(self.req.method.clone(), self.url.clone())
            .headers(self.req.headers.clone());
        if let Some(h) = auth {
            rb = rb.header(h.name.clone(), h.value.clone());
        }
        rb = match &mut self.req.body {
            Body::Empty => rb,
            Body::Bytes(b) => rb.body(b.clone()),
            Body::Stream(s) => match s.take() {
                Some(stream) => rb.body(reqwest::Body::wrap_stream(stream)),
                None => {
                    return Err(Error::new(
                        ErrorKind::Other,
                        "a streamed request body cannot be sent twice",
                    ));
                }
            },
        };
        rb.build().map_err(|e| {
            Error::invalid_input("the request cannot be built").with_source(e.without_url())
        })
    }

    fn to_error(&self, failure: Failure, attempts: u32, idempotent: bool) -> Error {
        let target = format!("{} {}", self.req.method, redact_url(&self.url));
        let note = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        match failure {
            Failure::Status {
                status,
                headers,
                body,
            } => {
                let f = FailedResponse {
                    method: &self.req.method,
                    url: &self.url,
                    status,
                    headers: &headers,
                    body: &body,
                    auth_endpoint: self.req.auth_endpoint,
                };
                let mut e = f.to_error_with_note(&note);
                if !idempotent && status.is_server_error() {
                    // The request may have been carried out: retrying it blindly is unsafe.
                    e = e.with_retryable(false);
                }
                e
            }
            Failure::Transport(e) => {
                let connect = e.is_connect();
                if connect && is_certificate_error(&e) {
                    let msg = format!(
                        "{target}: the server's TLS certificate is not trusted (add its issuing CA with a CA bundle){note}"
                    );
                    return Error::new(ErrorKind::Transport, msg)
                        .with_source(e.without_url())
                        .with_retryable(false);
                }
                let (kind, what) = if e.is_timeout() {
                    (ErrorKind::Timeout, "timed out")
                } else if connect {
                    (ErrorKind::Transport, "could not connect")
                } else {
                    (ErrorKind::Transport, "connection failed")
                };
                let err = Error::new(kind, format!("{target}: {what}{note}"))
                    .with_source(e.without_url());
                if connect || idempotent {
                    err
                } else {
                    err.with_retryable(false)
                }
            }
            Failure::AttemptTimeout(t) => {
                let err = Error::new(
                    ErrorKind::Timeout,
                    format!("{target}: no response within {t:?}{note}"),
                );
                err.with_retryable(idempotent)
            }
            Failure::Deadline(t) => {
                let err = Error::new(
                    ErrorKind::Timeout,
                    format!("{target}: total deadline of {t:?} exceeded{note}"),
                );
                err.with_retryable(idempotent)
            }
        }
    }
}

fn failure_reason(f: &Failure) -> String {
    match f {
        Failure::Status { status, .. } => format!("HTTP {}", status.as_u16()),
        Failure::Transport(e) if e.is_connect() => "connect error".to_owned(),
        Failure::Transport(_) => "connection error".to_owned(),
        Failure::AttemptTimeout(_) => "attempt timed out".to_owned(),
        Failure::Deadline(_) => "deadline".to_owned(),
    }
}

/// Whether a connect error is a failed certificate check: deterministic, so never
/// retried. The TLS stack reports it as an I/O error whose text names the certificate.
fn is_certificate_error(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some()
            && s.to_string().to_ascii_lowercase().contains("certificate")
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Runs `fut` until `deadline` (if any); `None` when the deadline passed first.
async fn with_deadline<F: std::future::Future>(
    deadline: Option<Instant>,
    fut: F,
) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// Reads at most `limit` bytes of the body; the rest is never read.
async fn read_bounded(resp: &mut reqwest::Response, limit: usize) -> Bytes {
    let mut buf = Vec::new();
    while buf.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(limit - buf.len());
                buf.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    buf.into()
}

/// A response: with a status below 400 from [`RequestBuilder::send`], with any status
/// from [`RequestBuilder::send_raw`].
pub struct Response {
    inner: reqwest::Response,
    method: Method,
    url: Url,
    request_id: Option<String>,
    auth_endpoint: bool,
    body_deadline: Option<Instant>,
    max_body: usize,
    context: ErrorContext,
}

impl Response {
    /// The error context of the request (provider, operation, resource), for errors a
    /// caller raises about this response.
    pub fn context(&self) -> &ErrorContext {
        &self.context
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers (credential headers such as `X-Subject-Token` are marked sensitive).
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// A header as text, when present and printable.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// A header holding a credential (for example Keystone's `X-Subject-Token`), as a
    /// secret.
    pub fn secret_header(&self, name: &str) -> Option<SecretString> {
        self.header_str(name)
            .map(|v| SecretString::from(v.to_owned()))
    }

    /// The service's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The URL of the request (after same-origin redirects, the final one).
    pub fn url(&self) -> &Url {
        self.inner.url()
    }

    /// The body length announced by the service.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    fn body_ctx(&self) -> BodyCtx {
        BodyCtx {
            target: format!("{} {}", self.method, redact_url(&self.url)),
            status: self.status().as_u16(),
            request_id: self.request_id.clone(),
            context: self.context.clone(),
        }
    }

    /// The whole body.
    ///
    /// # Errors
    /// [`ErrorKind::Transport`] when reading fails, [`ErrorKind::Timeout`] when the
    /// request's timeout passes first.
    pub async fn bytes(self) -> Result<Bytes> {
        let ctx = self.body_ctx();
        let limit = self.max_body;
        let too_big = || {
            ctx.annotate(Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "{}: the response body is larger than the {limit}-byte limit (ClientOptions::max_body)",
                    ctx.target
                ),
            ))
        };
        if self
            .inner
            .content_length()
            .is_some_and(|n| n > limit as u64)
        {
            return Err(too_big());
        }
        let mut inner = self.inner;
        let read = async {
            // Sized once from the announced length (bounded by the limit), instead of
            // growing by doubling and copying.
            let announced = inner.content_length().unwrap_or(0).min(limit as u64) as usize;
            let mut buf = bytes::BytesMut::with_capacity(announced);
            while let Some(chunk) = inner.chunk().await? {
                if buf.len() + chunk.len() > limit {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Some(buf.freeze()))
        };
        match with_deadline(self.body_deadline, read).await {
            Some(Ok(Some(b))) => Ok(b),
            Some(Ok(None)) => Err(too_big()),
            Some(Err(e)) => Err(ctx.read_error(e)),
            None => Err(ctx.annotate(Error::new(
                ErrorKind::Timeout,
                format!("{}: the response body did not arrive in time", ctx.target),
            ))),
        }
    }

    /// The body as text (UTF-8, invalid sequences replaced).
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes).
    pub async fn text(self) -> Result<String> {
        let b = self.bytes().await?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Decodes the JSON body.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), plus [`ErrorKind::InvalidResponse`] with the serde
    /// error as source when the body is not the expected JSON (for an auth endpoint the
    /// source says where decoding failed but never quotes the body).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let method = self.method.clone();
        let url = self.url.clone();
        let auth = self.auth_endpoint;
        let ctx = self.body_ctx();
        let body = self.bytes().await?;
        decode_json(&body, &method, &url, auth).map_err(|e| ctx.annotate(e))
    }

    /// Decodes the JSON body with the caller's own decoder, which may borrow from the
    /// body while it runs (for example
    /// [`split_listing`](crate::pagination::split_listing), to keep each listed item as
    /// its text without parsing it twice).
    ///
    /// # Errors
    /// As [`json`](Self::json).
    pub async fn json_with<T>(
        self,
        decode: impl FnOnce(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T> {
        let method = self.method.clone();
        let url = self.url.clone();
        let auth = self.auth_endpoint;
        let ctx = self.body_ctx();
        let body = self.bytes().await?;
        decode_json_with(&body, &method, &url, auth, decode).map_err(|e| ctx.annotate(e))
    }

    /// The body as a stream of chunks (an image download). Only the client's read
    /// timeout applies between chunks; there is no overall limit.
    pub fn bytes_stream(self) -> ByteStream {
        let ctx = self.body_ctx();
        self.inner
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| ctx.read_error(e)))
            .boxed()
    }
}

/// What errors about a response body say.
struct BodyCtx {
    target: String,
    status: u16,
    request_id: Option<String>,
    context: ErrorContext,
}

impl BodyCtx {
    fn annotate(&self, mut e: Error) -> Error {
        e = e
            .with_http_status(self.status)
            .with_context_defaults(&self.context);
        if let Some(id) = &self.request_id {
            e = e.with_request_id(id.clone());
        }
        e
    }

    fn read_error(&self, e: reqwest::Error) -> Error {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        self.annotate(Error::new(
            kind,
            format!("{}: reading the response body failed", self.target),
        ))
        .with_source(e.without_url())
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status())
            .field("url", &redact_url(&self.url))
            .field("request_id", &self.request_id)
            .field("headers", &RedactedHeaders(self.headers()))
            .finish_non_exhaustive()
    }
}
