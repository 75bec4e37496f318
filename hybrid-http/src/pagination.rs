//! Pagination helpers feeding [`hybrid_core::paging`].
//!
//! Three styles cover the services hybrid speaks to:
//! - **Marker** (OpenStack Nova, Cinder, Neutron, Glance): `?marker=<last id>&limit=<n>`;
//!   the [`PageToken`] is the last item's id.
//! - **Next link** (OpenStack `servers_links`/`links`/`next`, Azure `nextLink`): the
//!   token is the absolute URL of the next page. A link to another scheme, host or port
//!   than the listing's is refused ([`ErrorKind::InvalidResponse`]): the request carries
//!   credentials and must not be sent elsewhere.
//! - **Continuation token**: a token in a response field (or header), sent back in a
//!   query parameter.
//!
//! [`PagedRequest`] implements all three over JSON documents and plugs into
//! [`hybrid_core::paging::paginate`] through [`PagedRequest::stream`]; the free functions
//! are the building blocks for backends with their own decoding.

use std::fmt;
use std::sync::Arc;

use futures::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;
use url::Url;

use hybrid_core::paging::{paginate, Page, PageToken, Spawn};
use hybrid_core::{Error, ErrorKind, Result};

use crate::client::{HttpClient, RequestBuilder};

/// Whether two URLs have the same scheme, host and port (the "origin").
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `url` with `marker` and `limit` query parameters set (replacing any present).
///
/// ```
/// let u = url::Url::parse("http://127.0.0.1/v2.1/servers/detail?status=ACTIVE&marker=old").unwrap();
/// let next = hybrid_http::pagination::with_marker(&u, Some("abc"), Some(2));
/// assert_eq!(next.as_str(), "http://127.0.0.1/v2.1/servers/detail?status=ACTIVE&marker=abc&limit=2");
/// ```
pub fn with_marker(url: &Url, marker: Option<&str>, limit: Option<u32>) -> Url {
    let mut out = with_query_param(url, "marker", marker);
    if let Some(limit) = limit {
        out = with_query_param(&out, "limit", Some(&limit.to_string()));
    }
    out
}

/// `url` with the query parameter `name` set to `value` (or removed for `None`).
pub fn with_query_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    out.set_query(None);
    if !kept.is_empty() || value.is_some() {
        let mut q = out.query_pairs_mut();
        q.extend_pairs(kept);
        if let Some(v) = value {
            q.append_pair(name, v);
        }
    }
    out
}

/// A page for a marker-style listing: more pages follow when the service said so with a
/// next link, or when the page is full (`items.len() >= limit`); the token is the last
/// item's marker.
pub fn marker_page<T>(
    items: Vec<T>,
    limit: Option<u32>,
    has_next_link: bool,
    marker_of: impl Fn(&T) -> Option<String>,
) -> Page<T> {
    let full = limit.is_some_and(|l| l > 0 && items.len() >= l as usize);
    let next = if full || has_next_link {
        items.last().and_then(marker_of).map(PageToken::new)
    } else {
        None
    };
    Page::new(items, next)
}

/// A listing document split at its item list: each item as its own JSON text,
/// borrowed from the body and not parsed, and every other member (links, counts)
/// parsed into `rest`.
#[derive(Debug)]
pub struct Listing<'a> {
    /// The items, in order, each one JSON value's text.
    pub items: Vec<&'a RawValue>,
    /// The document without its item list (an object), for [`next_link`].
    pub rest: Value,
}

/// Splits a listing body (`{"<items_key>": [..], ...}`) into its items' texts and the
/// rest, in one pass over the bytes: the backends then decode each item once into
/// their typed model and keep its text as the raw document, instead of building a
/// `serde_json::Value` per item.
///
/// ```
/// let body = br#"{"servers": [{"id": "a"}, {"id": "b"}], "servers_links": []}"#;
/// let l = hybrid_http::pagination::split_listing(body, "servers").unwrap();
/// assert_eq!(l.items[1].get(), r#"{"id": "b"}"#);
/// assert_eq!(l.rest, serde_json::json!({"servers_links": []}));
/// ```
///
/// # Errors
/// The parser's error when the body is not a JSON object, its `items_key` member is
/// not an array, or it has no such member.
pub fn split_listing<'a>(body: &'a [u8], items_key: &str) -> serde_json::Result<Listing<'a>> {
    use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, Visitor};

    struct Split<'k>(&'k str);
    impl<'de> Visitor<'de> for Split<'_> {
        type Value = Listing<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a listing object with a `{}` array", self.0)
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut items = None;
            let mut rest = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if key == self.0 {
                    items = Some(map.next_value::<Vec<&'de RawValue>>()?);
                } else {
                    rest.insert(key, map.next_value::<Value>()?);
                }
            }
            let items = items.ok_or_else(|| A::Error::missing_field("the item list"))?;
            Ok(Listing {
                items,
                rest: Value::Object(rest),
            })
        }
    }
    impl<'de> DeserializeSeed<'de> for Split<'_> {
        type Value = Listing<'de>;
        fn deserialize<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let listing = Split(items_key).deserialize(&mut de)?;
    de.end()?;
    Ok(listing)
}

/// The next-page link of a listing document, in any of the usual places: Azure
/// `nextLink` and `@odata.nextLink`, Glance `next`, Nova/Cinder/Neutron
/// `<items_key>_links` and `links` lists with `rel: next`, Keystone `links.next`.
///
/// ```
/// let doc = serde_json::json!({"servers": [], "servers_links": [{"rel": "next", "href": "http://h/s?marker=x"}]});
/// assert_eq!(hybrid_http::pagination::next_link(&doc, "servers"), Some("http://h/s?marker=x"));
/// ```
pub fn next_link<'a>(doc: &'a Value, items_key: &str) -> Option<&'a str> {
    let as_link = |v: &'a Value| v.as_str().map(str::trim).filter(|s| !s.is_empty());
    for key in ["nextLink", "@odata.nextLink", "next"] {
        if let Some(l) = doc.get(key).and_then(as_link) {
            return Some(l);
        }
    }
    let lists = [format!("{items_key}_links"), "links".to_owned()];
    for key in &lists {
        match doc.get(key.as_str()) {
            Some(Value::Array(links)) => {
                let found = links.iter().find_map(|l| {
                    (l.get("rel").and_then(Value::as_str) == Some("next"))
                        .then(|| l.get("href").and_then(as_link))
                        .flatten()
                });
                if found.is_some() {
                    return found;
                }
            }
            Some(obj @ Value::Object(_)) => {
                if let Some(l) = obj.get("next").and_then(as_link) {
                    return Some(l);
                }
            }
            _ => {}
        }
    }
    None
}

/// The [`Spawn`] that [`paginate_prefetch`](hybrid_core::paging::paginate_prefetch)
/// listings of the backends use: each page fetch runs on its own task of the current
/// tokio runtime (in the caller's tracing span), so that decoding a page runs on another
/// worker thread while the consumer takes the items of the previous one. Outside a
/// runtime the fetch is handed back and polled with the stream.
pub fn tokio_spawner() -> Spawn {
    Arc::new(|fut| match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(tracing::Instrument::in_current_span(fut));
            None
        }
        Err(_) => Some(fut),
    })
}

/// Resolves a next link found in the response to `current` and checks that it stays on
/// the same origin.
///
/// A link relative to the service root (Glance's `/v2/images?marker=…`) keeps the path
/// prefix of an endpoint mounted below the root (`https://cloud/image/v2/images` →
/// `https://cloud/image/v2/images?marker=…`).
///
/// # Errors
/// [`ErrorKind::InvalidResponse`] when the link is malformed or points to another
/// scheme, host or port.
pub fn resolve_next_link(current: &Url, href: &str) -> Result<Url> {
    let mut href = href.trim().to_owned();
    if href.starts_with('/') && !href.starts_with("//") {
        let first = href
            .trim_start_matches('/')
            .split(['/', '?'])
            .next()
            .unwrap_or("");
        let path = current.path();
        if !first.is_empty()
            && !path.starts_with(&format!("/{first}/"))
            && path != format!("/{first}")
        {
            if let Some(pos) = path.find(&format!("/{first}/")) {
                href = format!("{}{href}", &path[..pos]);
            }
        }
    }
    let next = current.join(&href).map_err(|e| {
        Error::invalid_response("the service returned a malformed next-page link", e)
    })?;
    if !same_origin(current, &next) {
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "the service returned a next-page link to another origin ({}://{}), which is refused",
                next.scheme(),
                next.host_str().unwrap_or("?")
            ),
        ));
    }
    if !next.username().is_empty() || next.password().is_some() {
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            "the service returned a next-page link with credentials, which is refused",
        ));
    }
    Ok(next)
}

/// Where a continuation token is found in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// A top-level string field of the JSON document.
    Field(String),
    /// A response header.
    Header(String),
}

/// How a listing pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStyle {
    /// `?marker=<last id>&limit=<n>`; the marker is the string or number in field
    /// `id_field` of the last item.
    Marker {
        /// The page size asked for (`None`: the service's default).
        limit: Option<u32>,
        /// The item field whose value is the marker, usually `id`.
        id_field: String,
    },
    /// Follow the document's next link (see [`next_link`]).
    NextLink,
    /// A continuation token found at `location`, sent back as `query_param`.
    Continuation {
        /// The query parameter the token goes back in.
        query_param: String,
        /// Where the token is found in the response.
        location: TokenLocation,
    },
}

impl PageStyle {
    /// OpenStack markers on the `id` field, with an optional page size.
    pub fn marker(limit: Option<u32>) -> Self {
        PageStyle::Marker {
            limit,
            id_field: "id".to_owned(),
        }
    }
}

type Customize = Arc<dyn Fn(RequestBuilder) -> RequestBuilder + Send + Sync>;

/// A paged JSON listing: where it starts, where the items are, how it pages, and how
/// each page request is dressed (auth, headers, operation name).
///
/// ```no_run
/// # async fn demo(client: hybrid_http::HttpClient, auth: std::sync::Arc<dyn hybrid_http::Authorizer>) -> hybrid_core::Result<()> {
/// use futures::TryStreamExt;
/// use hybrid_http::pagination::{PageStyle, PagedRequest};
///
/// #[derive(serde::Deserialize)]
/// struct Server { id: String, name: String }
///
/// let url = url::Url::parse("https://nova.example:8774/v2.1/servers").unwrap();
/// let servers: Vec<Server> = PagedRequest::new(&client, url, "servers", PageStyle::marker(Some(100)))
///     .with_request(move |r| r.auth(auth.clone()).operation("list_servers"))
///     .stream()
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PagedRequest {
    client: HttpClient,
    url: Url,
    items_key: String,
    style: PageStyle,
    customize: Option<Customize>,
}

impl PagedRequest {
    /// A listing starting at `url` whose items are in the array `items_key` of each
    /// page (`""`: the document is the array).
    pub fn new(
        client: &HttpClient,
        url: Url,
        items_key: impl Into<String>,
        style: PageStyle,
    ) -> Self {
        PagedRequest {
            client: client.clone(),
            url,
            items_key: items_key.into(),
            style,
            customize: None,
        }
    }

    /// Applies `f` to every page request (add auth, headers, an operation name).
    pub fn with_request(
        mut self,
        f: impl Fn(RequestBuilder) -> RequestBuilder + Send + Sync + 'static,
    ) -> Self {
        self.customize = Some(Arc::new(f));
        self
    }

    /// The URL of the page for `token`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when a next-link token points to another origin than
    /// the listing (a forged or foreign token).
    pub fn page_url(&self, token: Option<&PageToken>) -> Result<Url> {
        Ok(match (&self.style, token) {
            (PageStyle::Marker { limit, .. }, t) => {
                with_marker(&self.url, t.map(PageToken::as_str), *limit)
            }
            (PageStyle::NextLink, None) => self.url.clone(),
            (PageStyle::NextLink, Some(t)) => {
                let next = Url::parse(t.as_str()).map_err(|e| {
                    Error::invalid_input("the page token is not a next-page link").with_source(e)
                })?;
                if !same_origin(&self.url, &next) {
                    return Err(Error::invalid_input(
                        "the page token points to another origin than the listing; refused",
                    ));
                }
                next
            }
            (PageStyle::Continuation { query_param, .. }, t) => match t {
                Some(t) => with_query_param(&self.url, query_param, Some(t.as_str())),
                None => self.url.clone(),
            },
        })
    }

    /// Fetches the page at `token` (`None`: the first page).
    ///
    /// # Errors
    /// The request's errors; [`ErrorKind::InvalidResponse`] when the document has no
    /// item list, an item does not decode, or a next link is malformed or off-origin;
    /// [`ErrorKind::InvalidInput`] for a foreign token.
    pub async fn page<T: DeserializeOwned>(&self, token: Option<PageToken>) -> Result<Page<T>> {
        let url = self.page_url(token.as_ref())?;
        let mut req = self.client.get(url.as_str());
        if let Some(f) = &self.customize {
            req = f(req);
        }
        let resp = req.send().await?;
        let header_token = match &self.style {
            PageStyle::Continuation {
                location: TokenLocation::Header(h),
                ..
            } => resp.header_str(h).map(str::to_owned),
            _ => None,
        };
        let status = resp.status().as_u16();
        let request_id = resp.request_id().map(str::to_owned);
        let context = resp.context().clone();
        let doc: Value = resp.json().await?;
        let annotate = |mut e: Error| {
            e = e.with_http_status(status).with_context_defaults(&context);
            if let Some(id) = &request_id {
                e = e.with_request_id(id.clone());
            }
            e
        };

        let raw = if self.items_key.is_empty() {
            doc.as_array()
        } else {
            doc.get(&self.items_key).and_then(Value::as_array)
        };
        let raw = raw.ok_or_else(|| {
            annotate(Error::new(
                ErrorKind::InvalidResponse,
                format!("the listing response has no `{}` array", self.items_key),
            ))
        })?;

        let next = match &self.style {
            PageStyle::Marker { limit, id_field } => {
                let full = limit.is_some_and(|l| l > 0 && raw.len() >= l as usize);
                let continues = full || next_link(&doc, &self.items_key).is_some();
                match raw.last() {
                    Some(last) if continues => {
                        let marker = match last.get(id_field.as_str()) {
                            Some(Value::String(s)) if !s.is_empty() => s.clone(),
                            Some(Value::Number(n)) => n.to_string(),
                            _ => {
                                return Err(annotate(Error::new(
                                    ErrorKind::InvalidResponse,
                                    format!("the last item of the page has no `{id_field}` to continue from"),
                                )))
                            }
                        };
                        Some(PageToken::new(marker))
                    }
                    _ => None,
                }
            }
            PageStyle::NextLink => match next_link(&doc, &self.items_key) {
                Some(href) => Some(PageToken::new(
                    resolve_next_link(&url, href).map_err(annotate)?.to_string(),
                )),
                None => None,
            },
            PageStyle::Continuation { location, .. } => {
                let t = match location {
                    TokenLocation::Field(f) => doc
                        .get(f.as_str())
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    TokenLocation::Header(_) => header_token,
                };
                t.filter(|t| !t.is_empty()).map(PageToken::new)
            }
        };

        let items = raw
            .iter()
            .enumerate()
            .map(|(i, v)| {
                T::deserialize(v).map_err(|e| {
                    annotate(Error::invalid_response(
                        format!(
                            "item {i} of the `{}` listing is not the expected JSON",
                            self.items_key
                        ),
                        e,
                    ))
                })
            })
            .collect::<Result<Vec<T>>>()?;
        Ok(Page::new(items, next))
    }

    /// Every item of every page, fetched lazily through
    /// [`paginate`].
    pub fn stream<T: DeserializeOwned + Send + 'static>(self) -> BoxStream<'static, Result<T>> {
        let this = Arc::new(self);
        paginate(move |token| {
            let this = this.clone();
            async move { this.page::<T>(token).await }
        })
    }
}

impl fmt::Debug for PagedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagedRequest")
            .field("url", &crate::redact::redact_url(&self.url))
            .field("items_key", &self.items_key)
            .field("style", &self.style)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_tokio_spawner_runs_fetches_on_tasks_inside_a_runtime() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawn = tokio_spawner();
        let handed_back = spawn(Box::pin(async move {
            let _ = tx.send(7);
        }));
        assert!(handed_back.is_none(), "spawned, not handed back");
        assert_eq!(
            rx.await.unwrap(),
            7,
            "the task ran without being polled here"
        );
    }

    #[test]
    fn the_tokio_spawner_hands_the_fetch_back_outside_a_runtime() {
        let spawn = tokio_spawner();
        assert!(spawn(Box::pin(async {})).is_some());
    }

    #[test]
    fn markers() {
        let p = marker_page(vec![1, 2], Some(2), false, |i| Some(i.to_string()));
        assert_eq!(p.next, Some(PageToken::new("2")));
        let p = marker_page(vec![1], Some(2), false, |i| Some(i.to_string()));
        assert_eq!(p.next, None);
        let p = marker_page(vec![1], Some(2), true, |i| Some(i.to_string()));
        assert_eq!(
            p.next,
            Some(PageToken::new("1")),
            "a capped page with a next link continues"
        );
        let p = marker_page(Vec::<i32>::new(), Some(2), true, |i| Some(i.to_string()));
        assert_eq!(p.next, None);
        let p = marker_page(vec![1, 2, 3], None, false, |i| Some(i.to_string()));
        assert_eq!(p.next, None);
        let u = Url::parse("http://h/x?limit=9&marker=a&b=c").unwrap();
        assert_eq!(
            with_marker(&u, None, None).as_str(),
            "http://h/x?limit=9&b=c"
        );
        assert_eq!(
            with_marker(&u, Some("z z"), Some(3)).as_str(),
            "http://h/x?b=c&marker=z+z&limit=3"
        );
        assert_eq!(
            with_query_param(&Url::parse("http://h/x?a=1").unwrap(), "a", None).as_str(),
            "http://h/x"
        );
    }

    #[test]
    fn next_links_everywhere() {
        assert_eq!(
            next_link(&json!({"value": [], "nextLink": "https://m/x"}), "value"),
            Some("https://m/x")
        );
        assert_eq!(
            next_link(
                &json!({"value": [], "@odata.nextLink": "https://g/x"}),
                "value"
            ),
            Some("https://g/x")
        );
        assert_eq!(
            next_link(
                &json!({"images": [], "next": "/v2/images?marker=1"}),
                "images"
            ),
            Some("/v2/images?marker=1")
        );
        assert_eq!(
            next_link(
                &json!({"networks": [], "networks_links": [{"rel": "previous", "href": "p"}, {"rel": "next", "href": "n"}]}),
                "networks"
            ),
            Some("n")
        );
        assert_eq!(
            next_link(
                &json!({"projects": [], "links": {"next": "k", "self": "s"}}),
                "projects"
            ),
            Some("k")
        );
        assert_eq!(
            next_link(
                &json!({"projects": [], "links": {"next": null}}),
                "projects"
            ),
            None
        );
        assert_eq!(
            next_link(&json!({"value": [], "nextLink": ""}), "value"),
            None
        );
        assert_eq!(next_link(&json!([1, 2]), ""), None);
    }

    #[test]
    fn split_listing_keeps_item_texts_and_refuses_other_shapes() {
        let body =
            br#"{"count": 2, "value": [{"id": "a", "s": "x\"y"}, 7, null], "nextLink": "n"}"#;
        let l = split_listing(body, "value").unwrap();
        let texts: Vec<&str> = l.items.iter().map(|r| r.get()).collect();
        assert_eq!(texts, [r#"{"id": "a", "s": "x\"y"}"#, "7", "null"]);
        assert_eq!(l.rest, json!({"count": 2, "nextLink": "n"}));
        assert_eq!(next_link(&l.rest, "value"), Some("n"));
        for bad in [
            &br#"{"value": {"id": "a"}}"#[..],
            br#"{"values": []}"#,
            br#"{"value": [{"id": "a"}, "#,
            br#"[]"#,
            br#"{"value": []} trailing"#,
            b"",
        ] {
            assert!(
                split_listing(bad, "value").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn next_link_resolution() {
        let cur = Url::parse("https://cloud:9292/image/v2/images?limit=2").unwrap();
        assert_eq!(
            resolve_next_link(&cur, "/v2/images?marker=x")
                .unwrap()
                .as_str(),
            "https://cloud:9292/image/v2/images?marker=x"
        );
        let root = Url::parse("https://cloud:9292/v2/images?limit=2").unwrap();
        assert_eq!(
            resolve_next_link(&root, "/v2/images?marker=x")
                .unwrap()
                .as_str(),
            "https://cloud:9292/v2/images?marker=x"
        );
        assert!(resolve_next_link(&root, "https://cloud:9292/v2/images?marker=y").is_ok());
        for bad in [
            "https://evil.example/v2/images",
            "http://cloud:9292/v2/images",
            "https://cloud:9293/v2/images",
            "//evil.example/x",
            "https://cloud:9292@evil.example/x",
            "https://user:pw@cloud:9292/x",
        ] {
            let e = resolve_next_link(&root, bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{bad}");
        }
    }
}
