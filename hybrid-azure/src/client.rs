//! The ARM client: every request to Azure Resource Manager goes through
//! [`ArmClient::execute`].
//!
//! It adds the bearer token (from the [`TokenCache`](hybrid_http::TokenCache) in front
//! of the credential), an `x-ms-correlation-request-id` of its own for each request,
//! the operation name for errors and traces, and waits first when the
//! [`Throttle`] says few requests are left. `hybrid-http` sends it: retries (`429` for
//! every request, `5xx` for idempotent ones, `Retry-After` and `x-ms-retry-after-ms`
//! honoured),
//! one token refresh on `401`, error mapping. Errors are then refined for ARM
//! ([`crate::error`]). Listing follows `nextLink` only on the ARM origin.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use hybrid_core::model::RawJson;
use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::header::HeaderMap;
use hybrid_http::pagination::{next_link, resolve_next_link, same_origin, split_listing};
use hybrid_http::{Authorizer, HttpClient, Method, Url};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use crate::ids::{segments_url, ResourceId, Scope};
use crate::throttle::{namespace_of, Class, Throttle, ThrottleOptions, ThrottleStats};

/// The header carrying hybrid's correlation id on every ARM request.
pub const CORRELATION_HEADER: &str = "x-ms-correlation-request-id";

struct Inner {
    http: HttpClient,
    auth: Arc<dyn Authorizer>,
    endpoint: Url,
    scope: Scope,
    throttle: Throttle,
    sent: AtomicU64,
}

/// An authenticated client of one ARM endpoint in one [`Scope`]. Cheap to clone.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("scope", &self.inner.scope)
            .field("auth", &self.inner.auth)
            .field("throttle", &self.inner.throttle.stats())
            .finish_non_exhaustive()
    }
}

/// A response of ARM (status below 400), read whole: ARM documents are small.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The URL of the request.
    pub url: Url,
    /// `x-ms-request-id`.
    pub request_id: Option<String>,
}

impl ArmResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Whether the body is empty (or only whitespace).
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as a JSON document.
    ///
    /// # Errors
    /// `InvalidResponse` when it is not JSON.
    pub fn value(&self) -> Result<Value> {
        self.json()
    }

    /// The body decoded as `T`.
    ///
    /// # Errors
    /// `InvalidResponse` (with the serde error as source) when it does not decode.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let mut err = Error::invalid_response(
                format!(
                    "the response to {} is not the expected JSON",
                    hybrid_http::redact::redact_url(&self.url)
                ),
                e,
            )
            .with_http_status(self.status);
            if let Some(id) = &self.request_id {
                err = err.with_request_id(id.clone());
            }
            err
        })
    }
}

/// Decodes an ARM document `v` as `T`.
///
/// # Errors
/// `InvalidResponse` naming `what`.
pub fn decode<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    T::deserialize(v)
        .map_err(|e| Error::invalid_response(format!("{what} is not the expected JSON"), e))
}

/// One page of an ARM listing: the raw items (parsed documents, or with
/// [`ArmClient::list_page_raw`] each item's JSON text) and the next link.
#[derive(Debug, Clone)]
pub struct RawPage<T = Value> {
    /// The `value` items.
    pub items: Vec<T>,
    /// The next page's URL (same origin as ARM, checked).
    pub next: Option<Url>,
}

impl ArmClient {
    /// A client of the ARM `endpoint` for `scope`, authorizing with `auth`.
    pub fn new(
        http: HttpClient,
        auth: Arc<dyn Authorizer>,
        endpoint: Url,
        scope: Scope,
        throttle: ThrottleOptions,
    ) -> Self {
        ArmClient {
            inner: Arc::new(Inner {
                http,
                auth,
                endpoint,
                scope,
                throttle: Throttle::new(throttle),
                sent: AtomicU64::new(0),
            }),
        }
    }

    /// The ARM endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The subscription, resource group and location.
    pub fn scope(&self) -> &Scope {
        &self.inner.scope
    }

    /// The authorizer (token cache).
    pub fn authorizer(&self) -> &Arc<dyn Authorizer> {
        &self.inner.auth
    }

    /// The throttle's record.
    pub fn throttle_stats(&self) -> ThrottleStats {
        self.inner.throttle.stats()
    }

    /// The throttle.
    pub fn throttle(&self) -> &Throttle {
        &self.inner.throttle
    }

    /// Requests sent so far (each call of [`execute`](Self::execute), retries by
    /// `hybrid-http` not counted).
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    /// `{endpoint}/{segments…}?api-version={api_version}`.
    pub fn url(&self, segments: &[&str], api_version: &str) -> Url {
        let mut u = segments_url(&self.inner.endpoint, segments);
        u.query_pairs_mut().append_pair("api-version", api_version);
        u
    }

    /// The URL of `id` with `api-version`.
    pub fn resource_url(&self, id: &ResourceId, api_version: &str) -> Url {
        let mut u = id.url(&self.inner.endpoint);
        u.query_pairs_mut().append_pair("api-version", api_version);
        u
    }

    /// The URL of a resource type's collection in the scope's resource group:
    /// `/subscriptions/{s}/resourceGroups/{g}/providers/{namespace}/{ty}`.
    pub fn group_collection_url(&self, namespace: &str, ty: &str, api_version: &str) -> Url {
        let s = &self.inner.scope;
        self.url(
            &[
                "subscriptions",
                &s.subscription_id,
                "resourceGroups",
                &s.resource_group,
                "providers",
                namespace,
                ty,
            ],
            api_version,
        )
    }

    /// An id in the scope's resource group.
    ///
    /// # Errors
    /// `InvalidInput` for a name that cannot be part of an id.
    pub fn group_id(&self, namespace: &str, chain: &[(&str, &str)]) -> Result<ResourceId> {
        let s = &self.inner.scope;
        ResourceId::new(
            &s.subscription_id,
            Some(&s.resource_group),
            namespace,
            chain,
        )
    }

    /// Whether `url` is on the ARM endpoint's origin (where the token may go).
    pub fn on_origin(&self, url: &Url) -> bool {
        same_origin(&self.inner.endpoint, url)
    }

    /// Sends one request: throttle, token, correlation id, `hybrid-http`'s retries and
    /// error mapping, ARM's error refinement. `idempotent` overrides the method's
    /// default (ARM actions such as `start` converge and may be retried).
    ///
    /// # Errors
    /// The mapped ARM error (kind, message with the ARM code, HTTP status,
    /// `x-ms-request-id`, correlation id, `Retry-After`); `InvalidInput` for a URL off
    /// the ARM origin (no token is sent elsewhere); transport and timeout errors.
    pub async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
        idempotent: Option<bool>,
    ) -> Result<ArmResponse> {
        self.execute_with(method, url, body, operation, idempotent, &[])
            .await
    }

    /// As [`execute`](Self::execute), with extra request headers (`If-Match`).
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn execute_with(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
        idempotent: Option<bool>,
        headers: &[(&str, &str)],
    ) -> Result<ArmResponse> {
        if !self.on_origin(&url) {
            return Err(Error::invalid_input(format!(
                "refusing to send an ARM request (with its token) to another origin than {}",
                self.inner.endpoint.origin().ascii_serialization()
            ))
            .with_operation(operation));
        }
        let class = Class::of(&method);
        let namespace = namespace_of(url.path()).to_owned();
        self.inner.throttle.before(class, &namespace).await;
        let correlation = crate::credential::uuid_v4();
        let mut req = self
            .inner
            .http
            .request(method, url.as_str())
            .header(CORRELATION_HEADER, correlation.as_str())
            .header("accept", "application/json")
            .auth(self.inner.auth.clone())
            .operation(operation);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(i) = idempotent {
            req = req.idempotent(i);
        }
        self.inner.sent.fetch_add(1, Ordering::Relaxed);
        let resp = req
            .send()
            .await
            .map_err(|e| crate::error::refine(e, Some(&correlation)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.inner.throttle.observe(class, &namespace, &headers);
        let request_id = resp.request_id().map(str::to_owned);
        let body = resp.bytes().await?;
        Ok(ArmResponse {
            status,
            headers,
            body,
            url,
            request_id,
        })
    }

    /// `GET url`, decoded; also returns the raw document.
    ///
    /// # Errors
    /// As [`execute`](Self::execute), plus `InvalidResponse`.
    pub async fn get_value(&self, url: Url, operation: &str) -> Result<Value> {
        self.execute(Method::GET, url, None, operation, None)
            .await?
            .value()
    }

    /// The listing page at `url`: the `value` array and a checked `nextLink`.
    ///
    /// # Errors
    /// As [`execute`](Self::execute); `InvalidResponse` when the document has no
    /// `value` array or its next link leaves the ARM origin.
    pub async fn list_page(&self, url: Url, operation: &str) -> Result<RawPage> {
        let resp = self
            .execute(Method::GET, url.clone(), None, operation, None)
            .await?;
        let listing = Listing::new(&resp, &url, operation);
        let mut doc = resp.value()?;
        // Moved out of the document, not copied.
        let items = match doc.get_mut("value").map(Value::take) {
            Some(Value::Array(a)) => a,
            _ => return Err(listing.annotate(no_value_array())),
        };
        let next = listing.next(&doc)?;
        Ok(RawPage { items, next })
    }

    /// The listing page at `url` like [`list_page`](Self::list_page), with each item
    /// kept as its JSON text ([`RawJson`]) instead of a parsed tree: the body is split
    /// once ([`split_listing`]), every item is copied out as text and decoded by the
    /// caller once, into its own model. The `nextLink` is checked as by `list_page`.
    ///
    /// # Errors
    /// As [`list_page`](Self::list_page).
    pub async fn list_page_raw(&self, url: Url, operation: &str) -> Result<RawPage<RawJson>> {
        let resp = self
            .execute(Method::GET, url.clone(), None, operation, None)
            .await?;
        let listing = Listing::new(&resp, &url, operation);
        let split = match split_listing(&resp.body, "value") {
            Ok(l) => l,
            // Valid JSON without a `value` array, as `list_page` tells them apart.
            Err(_) if serde_json::from_slice::<IgnoredAny>(&resp.body).is_ok() => {
                return Err(listing.annotate(no_value_array()))
            }
            Err(e) => {
                return Err(listing.annotate(Error::invalid_response(
                    format!(
                        "the response to {} is not the expected JSON",
                        hybrid_http::redact::redact_url(&url)
                    ),
                    e,
                )))
            }
        };
        let next = listing.next(&split.rest)?;
        let items = split.items.into_iter().map(RawJson::from_raw).collect();
        Ok(RawPage { items, next })
    }

    /// Every item of the listing at `url` (all pages).
    ///
    /// # Errors
    /// As [`list_page`](Self::list_page).
    pub async fn list_all(&self, url: Url, operation: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next {
            let page = self.list_page(u.clone(), operation).await?;
            out.extend(page.items);
            pages += 1;
            if page.next.as_ref() == Some(&u) || pages > 10_000 {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    "the listing's next link does not advance",
                )
                .with_operation(operation));
            }
            next = page.next;
        }
        Ok(out)
    }
}

/// What the two listing readers share: the annotation of their errors (status,
/// operation, request id) and the checked `nextLink`.
struct Listing<'a> {
    url: &'a Url,
    operation: &'a str,
    status: u16,
    request_id: Option<String>,
}

impl<'a> Listing<'a> {
    fn new(resp: &ArmResponse, url: &'a Url, operation: &'a str) -> Self {
        Listing {
            url,
            operation,
            status: resp.status,
            request_id: resp.request_id.clone(),
        }
    }

    fn annotate(&self, e: Error) -> Error {
        let e = e
            .with_http_status(self.status)
            .with_operation(self.operation);
        match &self.request_id {
            Some(id) => e.with_request_id(id.clone()),
            None => e,
        }
    }

    /// The page's `nextLink`, refused off the ARM origin.
    fn next(&self, rest: &Value) -> Result<Option<Url>> {
        next_link(rest, "value")
            .map(|href| resolve_next_link(self.url, href).map_err(|e| self.annotate(e)))
            .transpose()
    }
}

fn no_value_array() -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        "the listing response has no `value` array",
    )
}
