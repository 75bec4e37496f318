//! The `api` stratum: one function per OpenStack call, on an authenticated
//! [`Session`], returning wire types (with the raw JSON document where the model
//! keeps it). The `Provider` implementation composes these calls; they are public so
//! that a user can make one exact call the portable API does not cover.
//!
//! Every function names its call (`METHOD path`), and its errors are those of
//! [`RequestBuilder::send`](hybrid_http::RequestBuilder::send): the service's error
//! body mapped to an [`ErrorKind`] (Nova/Cinder fault names, Neutron error types,
//! Glance's text bodies), with the HTTP status and the `x-openstack-request-id`.

pub mod block_storage;
pub mod compute;
pub mod image;
pub mod network;

use hybrid_core::model::RawJson;
use hybrid_core::{Error, ErrorKind, Page, PageToken, Result};
use hybrid_http::pagination::{marker_page, next_link, split_listing};
use hybrid_http::{Method, RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::capabilities::{Microversion, VersionDoc};
use crate::session::{Service, Session};

/// The Nova microversions this crate speaks (the shapes of 2.1 through 2.96 decode).
pub const NOVA_RANGE: (Microversion, Microversion) =
    (Microversion::new(2, 1), Microversion::new(2, 96));
/// The Cinder v3 microversions this crate speaks.
pub const CINDER_RANGE: (Microversion, Microversion) =
    (Microversion::new(3, 0), Microversion::new(3, 70));

/// A query string as ordered pairs (repeated keys allowed).
pub type Query = Vec<(String, String)>;

/// The session plus the microversions negotiated with Nova and Cinder. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Api {
    session: Session,
    nova: Microversion,
    cinder: Microversion,
}

/// What version discovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The Nova microversion used for every compute call.
    pub nova: Microversion,
    /// The Cinder microversion used for every block-storage call.
    pub cinder: Microversion,
}

impl Api {
    /// An API over `session` using the given microversions (see [`negotiate`]).
    pub fn new(session: Session, negotiated: Negotiated) -> Self {
        Api {
            session,
            nova: negotiated.nova,
            cinder: negotiated.cinder,
        }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The microversions in use.
    pub fn negotiated(&self) -> Negotiated {
        Negotiated {
            nova: self.nova,
            cinder: self.cinder,
        }
    }

    fn microversion(&self, service: Service) -> Option<Microversion> {
        match service {
            Service::Compute => Some(self.nova),
            Service::BlockStorage => Some(self.cinder),
            Service::Network | Service::Image => None,
        }
    }

    /// The full URL of `path` on `service`, adding the version prefix that Neutron
    /// (`v2.0/`) and Glance (`v2/`) catalog entries leave out.
    ///
    /// # Errors
    /// As [`Session::endpoint`].
    pub async fn url(&self, service: Service, path: &str) -> Result<Url> {
        let base = self.session.endpoint(service).await?;
        let prefix = match service {
            Service::Network if !base.path().ends_with("/v2.0/") => "v2.0/",
            Service::Image if !base.path().ends_with("/v2/") => "v2/",
            _ => "",
        };
        base.join(&format!("{prefix}{}", path.trim_start_matches('/')))
            .map_err(|e| Error::invalid_input(format!("bad request path {path:?}")).with_source(e))
    }

    /// A request to `path` on `service` with the token, the operation name and the
    /// microversion headers.
    ///
    /// # Errors
    /// As [`Session::endpoint`].
    pub async fn request(
        &self,
        service: Service,
        method: Method,
        path: &str,
        operation: &str,
    ) -> Result<RequestBuilder> {
        let url = self.url(service, path).await?;
        let req = self.session.client().request(method, url.as_str());
        Ok(self
            .session
            .dress(req, service, self.microversion(service), operation))
    }

    /// `GET path` decoded as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        operation: &str,
    ) -> Result<T> {
        self.request(service, Method::GET, path, operation)
            .await?
            .send_json()
            .await
    }

    /// A request with an optional JSON body whose response body is ignored.
    pub(crate) async fn send(
        &self,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<()> {
        let mut req = self.request(service, method, path, operation).await?;
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.map(drop)
    }

    /// A request with an optional JSON body whose response is JSON.
    pub(crate) async fn call(
        &self,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Value> {
        let mut req = self.request(service, method, path, operation).await?;
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send_json().await
    }

    /// One page of a marker-paged listing at `path` whose items are in `items_key`;
    /// more pages follow when the service sent a next link or the page is full. The
    /// marker is each item's `marker_field`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn page(
        &self,
        service: Service,
        path: &str,
        items_key: &str,
        marker_field: &str,
        query: Query,
        limit: Option<u32>,
        token: Option<PageToken>,
        operation: &str,
    ) -> Result<Page<Value>> {
        let req = self
            .page_request(service, path, query, limit, token.as_ref(), operation)
            .await?;
        let mut doc: Value = req.send_json().await?;
        let has_next = next_link(&doc, items_key).is_some();
        let items = match doc.get_mut(items_key).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    format!("the listing response has no `{items_key}` array"),
                )
                .with_operation(operation.to_owned()))
            }
        };
        let field = marker_field.to_owned();
        let page = marker_page(items, limit, has_next, move |v: &Value| {
            marker_of(v, &field)
        });
        advanced(page, token.as_ref())
    }
}

impl Api {
    /// One page of a marker-paged listing, like [`page`](Self::page), with each item
    /// kept as its JSON text ([`RawJson`]) instead of a parsed tree: the listing hot
    /// path decodes each item once into its typed model and keeps the text as the raw
    /// document, without building a `serde_json::Value` per item.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn page_raw(
        &self,
        service: Service,
        path: &str,
        items_key: &str,
        marker_field: &str,
        query: Query,
        limit: Option<u32>,
        token: Option<PageToken>,
        operation: &str,
    ) -> Result<Page<RawJson>> {
        let req = self
            .page_request(service, path, query, limit, token.as_ref(), operation)
            .await?;
        // One pass splits the body into the items' texts (kept, not parsed) and the
        // rest (the `<items>_links` list, parsed to find the next link).
        let (items, has_next, last_marker) = req
            .header("accept", "application/json")
            .send()
            .await?
            .json_with(|body| {
                let l = split_listing(body, items_key)?;
                let has_next = next_link(&l.rest, items_key).is_some();
                let last_marker = match l.items.last() {
                    Some(last) => serde_json::from_str::<Value>(last.get())
                        .ok()
                        .and_then(|v| marker_of(&v, marker_field)),
                    None => None,
                };
                let items: Vec<RawJson> = l.items.into_iter().map(RawJson::from_raw).collect();
                Ok((items, has_next, last_marker))
            })
            .await
            .map_err(|e| e.with_operation(operation.to_owned()))?;
        let page = marker_page(items, limit, has_next, |_| last_marker.clone());
        advanced(page, token.as_ref())
    }
}

impl Api {
    /// The GET of one page of a marker-paged listing: `query`, then `limit` and
    /// `marker` when given.
    async fn page_request(
        &self,
        service: Service,
        path: &str,
        mut query: Query,
        limit: Option<u32>,
        token: Option<&PageToken>,
        operation: &str,
    ) -> Result<RequestBuilder> {
        if let Some(l) = limit {
            query.push(("limit".into(), l.to_string()));
        }
        if let Some(t) = token {
            query.push(("marker".into(), t.as_str().to_owned()));
        }
        let mut req = self.request(service, Method::GET, path, operation).await?;
        for (k, v) in &query {
            req = req.query(k, v);
        }
        Ok(req)
    }
}

/// `page`, unless it would continue from the marker it was fetched with.
fn advanced<T>(page: Page<T>, token: Option<&PageToken>) -> Result<Page<T>> {
    if page.next.is_some() && page.next.as_ref() == token {
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            "pagination did not advance: the service returned the same marker again",
        ));
    }
    Ok(page)
}

/// The marker of a listed item: `field`, or `field` inside the item's single wrapper
/// object (Nova wraps key pairs as `{"keypair": {..}}`).
fn marker_of(v: &Value, field: &str) -> Option<String> {
    let direct = v.get(field).or_else(|| {
        v.as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.values().next())
            .and_then(|inner| inner.get(field))
    });
    match direct? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes `v` as `T`, naming `what` in the error.
///
/// # Errors
/// [`ErrorKind::InvalidResponse`] with the serde error as source.
pub fn decode<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    T::deserialize(v)
        .map_err(|e| Error::invalid_response(format!("{what} is not the expected JSON"), e))
}

/// The object under `key` of a response document (`{"server": {..}}` → `{..}`).
///
/// # Errors
/// [`ErrorKind::InvalidResponse`] when it is missing.
pub fn unwrap_envelope(mut doc: Value, key: &str) -> Result<Value> {
    match doc.get_mut(key).map(Value::take) {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("the response has no `{key}` object"),
        )),
    }
}

/// The base URL of the unversioned document of a versioned endpoint: everything
/// before the `/v<N>` path segment (`http://h:8776/v3/<project>` → `http://h:8776/`,
/// `http://h/volume/v3/<p>` → `http://h/volume/`).
pub fn unversioned(endpoint: &Url) -> Url {
    let mut url = endpoint.clone();
    let segments: Vec<&str> = endpoint.path().split('/').collect();
    let cut = segments.iter().position(|s| {
        s.len() > 1
            && s.starts_with('v')
            && s[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
    });
    let path = match cut {
        Some(i) => format!("{}/", segments[..i].join("/")),
        None => endpoint.path().to_owned(),
    };
    url.set_path(if path.is_empty() { "/" } else { &path });
    url.set_query(None);
    url
}

/// Asks Nova (`GET <compute endpoint>`) and Cinder (`GET <unversioned endpoint>`)
/// for their microversion ranges and picks the highest each side speaks. A service
/// missing from the catalog gets its minimum; a Cinder whose version document cannot
/// be read is used at 3.0.
///
/// # Errors
/// [`ErrorKind::Unsupported`] when Nova's range and [`NOVA_RANGE`] do not meet;
/// authentication and transport errors.
pub async fn negotiate(session: &Session) -> Result<Negotiated> {
    let nova = match session.endpoint(Service::Compute).await {
        Ok(url) => {
            let req = session.dress(
                session.client().get(url.as_str()),
                Service::Compute,
                None,
                "discover_compute",
            );
            let doc: VersionDoc = req.send_json().await?;
            // A Nova that reports no range speaks only 2.1.
            let theirs = doc
                .range("v2.1")
                .unwrap_or((Microversion::new(2, 1), Microversion::new(2, 1)));
            Microversion::negotiate(NOVA_RANGE, theirs).ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "Nova speaks microversions {}–{}, this library {}–{}",
                        theirs.0, theirs.1, NOVA_RANGE.0, NOVA_RANGE.1
                    ),
                )
            })?
        }
        Err(e) if e.kind() == ErrorKind::Unsupported => NOVA_RANGE.0,
        Err(e) => return Err(e),
    };
    let cinder = match session.endpoint(Service::BlockStorage).await {
        Ok(url) => {
            let root = unversioned(&url);
            let req = session.dress(
                session.client().get(root.as_str()),
                Service::BlockStorage,
                None,
                "discover_block_storage",
            );
            match req.send_json::<VersionDoc>().await {
                Ok(doc) => doc
                    .range("v3")
                    .and_then(|theirs| Microversion::negotiate(CINDER_RANGE, theirs))
                    .unwrap_or(CINDER_RANGE.0),
                Err(e) => {
                    tracing::debug!(error = %e, "Cinder's version document is unreadable; using 3.0");
                    CINDER_RANGE.0
                }
            }
        }
        Err(e) if e.kind() == ErrorKind::Unsupported => CINDER_RANGE.0,
        Err(e) => return Err(e),
    };
    Ok(Negotiated { nova, cinder })
}

/// Percent-encodes one path segment (ids and names that end up in a path).
pub(crate) fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unversioned_strips_the_version_segment() {
        let u = |s: &str| unversioned(&Url::parse(s).unwrap()).to_string();
        assert_eq!(u("http://h:8776/v3/abc"), "http://h:8776/");
        assert_eq!(u("http://h/volume/v3/abc/"), "http://h/volume/");
        assert_eq!(u("http://h:8774/v2.1"), "http://h:8774/");
        assert_eq!(u("http://h:9292/"), "http://h:9292/");
        assert_eq!(u("http://h/volume/"), "http://h/volume/");
    }

    #[test]
    fn markers_come_from_the_item_or_its_wrapper() {
        let v = serde_json::json!({"id": "a"});
        assert_eq!(marker_of(&v, "id").as_deref(), Some("a"));
        let v = serde_json::json!({"keypair": {"name": "k"}});
        assert_eq!(marker_of(&v, "name").as_deref(), Some("k"));
        let v = serde_json::json!({"id": 7});
        assert_eq!(marker_of(&v, "id").as_deref(), Some("7"));
        assert_eq!(marker_of(&serde_json::json!({"id": ""}), "id"), None);
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(seg("plain-1"), "plain-1");
    }
}
