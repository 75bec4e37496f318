//! The HTTP/1.1 server under every fake: a loopback listener, one task per connection,
//! an optional latency added before each answer, and the body types the fakes use.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A response body.
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// A boxed handler future.
pub(crate) type Reply = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// A fake service: answers one request.
pub(crate) trait Handler: Send + Sync + 'static {
    /// The answer to `req`.
    fn handle(self: Arc<Self>, req: Request<Incoming>) -> Reply;

    /// Whether `path` is an administrative path of the harness (statistics), which gets
    /// no latency.
    fn is_admin(&self, path: &str) -> bool {
        path.starts_with("/_bench/")
    }
}

/// A running server; dropping it stops accepting connections.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `handler` on 127.0.0.1 (`port` 0 for any free port), adding `latency` before
/// each answer but the harness's own.
pub(crate) async fn serve<H: Handler>(
    handler: Arc<H>,
    port: u16,
    latency: Duration,
) -> std::io::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        if !latency.is_zero() && !handler.is_admin(req.uri().path()) {
                            tokio::time::sleep(latency).await;
                        }
                        Ok::<_, Infallible>(handler.handle(req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Running { addr, task })
}

/// A whole body.
pub(crate) fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// A body streamed chunk by chunk.
pub(crate) fn streamed<S>(s: S) -> Body
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
{
    use futures::StreamExt;
    BodyExt::boxed(StreamBody::new(s.map(|c| c.map(Frame::data))))
}

/// A response with `status`, a content type and `body`.
pub(crate) fn respond(
    status: u16,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A JSON response.
pub(crate) fn json(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, "application/json", body)
}

/// An empty response.
pub(crate) fn empty(status: u16) -> Response<Body> {
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// The whole request body.
pub(crate) async fn read_body(req: Request<Incoming>) -> Bytes {
    req.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

/// The value of query parameter `name` (percent-decoded).
pub(crate) fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
