//! Long-running operations of ARM, as hybrid [`Operation`]s.
//!
//! [`Lro::start`] reads the first response of a `PUT`, `PATCH`, `POST` or `DELETE` and
//! picks how to follow it, as ARM's asynchronous-operation contract says:
//!
//! 1. an `Azure-AsyncOperation` header: poll that URL; its body's `status` is
//!    `InProgress` (or any other non-terminal value) until `Succeeded`, `Failed` (with
//!    `error: {code, message}`) or `Canceled`;
//! 2. else a `Location` header (with `202` or `201`): poll it; `202` means not done, `200`,
//!    `201` or `204` done, an error status the failure;
//! 3. else a `200`/`201` body whose `properties.provisioningState` is not terminal: poll
//!    the resource until it is `Succeeded`, `Failed` or `Canceled`;
//! 4. else a `202` to a `DELETE` with neither header: poll the resource until `404`;
//! 5. else (`200`, `201` with a terminal state, `204`): done at once.
//!
//! `Retry-After` (of the first response and of every poll) sets the delay before the
//! next check. When a `PUT` or `PATCH` succeeds, the resource is read once more for its
//! final state; a `POST` ends with its `Location` document when it has one. Poll URLs
//! must be on the ARM origin: the token is never sent elsewhere. `Failed` becomes
//! [`ErrorKind::OperationFailed`] with ARM's
//! code and message, `Canceled` [`ErrorKind::Cancelled`].

use std::future::Future;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use hybrid_core::operation::{PollResult, Poller, Progress};
use hybrid_core::{Error, ErrorKind, Operation, Result};
use hybrid_http::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{ArmClient, ArmResponse};
use crate::error::operation_ended;

/// The body of an `Azure-AsyncOperation` status URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncOperationStatus {
    /// `InProgress`, `Succeeded`, `Failed`, `Canceled` (or a resource provider's own
    /// non-terminal value).
    pub status: String,
    /// How far it is, 0–100, where reported.
    #[serde(default)]
    pub percent_complete: Option<f64>,
    /// What went wrong, on `Failed`.
    #[serde(default)]
    pub error: Option<crate::protocol::common::ArmErrorDetail>,
}

/// Whether a provisioning or operation state ends the operation.
pub fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled"]
        .iter()
        .any(|t| state.eq_ignore_ascii_case(t))
}

#[derive(Debug)]
enum State {
    AsyncOperation { url: Url, location: Option<Url> },
    Location(Url),
    Provisioning,
    UntilGone,
    Done(Option<Value>),
    Finished,
}

/// One ARM long-running operation being followed.
#[derive(Debug)]
pub struct Lro {
    arm: ArmClient,
    method: Method,
    resource_url: Url,
    state: State,
    first_delay: Option<Option<Duration>>,
    what: String,
}

fn retry_after(resp: &ArmResponse) -> Option<Duration> {
    hybrid_http::retry::retry_after(&resp.headers, SystemTime::now())
}

fn provisioning_state(doc: &Value) -> Option<&str> {
    doc.get("properties")
        .and_then(|p| p.get("provisioningState"))
        .and_then(Value::as_str)
}

impl Lro {
    /// Follows the operation whose first response is `initial`, to a request of
    /// `method` on `resource_url`; `what` describes it in errors (`create server web-1`).
    ///
    /// # Errors
    /// `InvalidResponse` when a poll URL is malformed or off the ARM origin, or a `202`
    /// gives no way to follow it; `OperationFailed`/`Cancelled` when the first response
    /// already reports a failed or cancelled state.
    pub fn start(
        arm: &ArmClient,
        method: Method,
        resource_url: Url,
        initial: ArmResponse,
        what: impl Into<String>,
    ) -> Result<Lro> {
        let what = what.into();
        let header_url = |name: &str| -> Result<Option<Url>> {
            match initial.header(name) {
                None => Ok(None),
                Some(h) => {
                    let u = initial.url.join(h).map_err(|e| {
                        Error::invalid_response(format!("the {name} header is not a URL"), e)
                    })?;
                    if !arm.on_origin(&u) {
                        return Err(Error::new(
                            ErrorKind::InvalidResponse,
                            format!(
                                "the {name} header points to another origin ({}) than ARM; refused",
                                u.origin().ascii_serialization()
                            ),
                        ));
                    }
                    Ok(Some(u))
                }
            }
        };
        let async_op = header_url("azure-asyncoperation")?;
        let location = header_url("location")?;
        let body = if initial.is_empty() {
            None
        } else {
            Some(initial.value()?)
        };
        let state = match (async_op, location, initial.status) {
            (Some(url), location, _) => State::AsyncOperation { url, location },
            (None, Some(url), 201..=202) => State::Location(url),
            (None, _, 202) if method == Method::DELETE => State::UntilGone,
            (None, _, 202) if method == Method::PUT || method == Method::PATCH => {
                State::Provisioning
            }
            (None, _, 202) => {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    format!("{what}: ARM accepted the request (202) but gave no Azure-AsyncOperation or Location header to follow it"),
                ))
            }
            (None, _, _) => match body.as_ref().and_then(provisioning_state) {
                Some(s) if s.eq_ignore_ascii_case("Succeeded") => State::Done(body),
                Some(s) if is_terminal(s) => {
                    return Err(operation_ended(s, None, None, &what));
                }
                Some(_) if method == Method::PUT || method == Method::PATCH => State::Provisioning,
                _ => State::Done(body),
            },
        };
        tracing::debug!(target: "hybrid_azure::lro", operation = %what, state = ?state, "long-running operation started");
        Ok(Lro {
            arm: arm.clone(),
            method,
            resource_url,
            first_delay: Some(retry_after(&initial)),
            state,
            what,
        })
    }

    /// Whether the operation was already complete in its first response.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    async fn get(&self, url: Url) -> Result<ArmResponse> {
        self.arm
            .execute(Method::GET, url, None, &format!("poll {}", self.what), None)
            .await
    }

    /// The resource after success (`PUT`/`PATCH`), or `fallback`.
    async fn final_state(&self, fallback: Option<Value>) -> Result<Option<Value>> {
        if self.method == Method::PUT || self.method == Method::PATCH {
            let resp = self.get(self.resource_url.clone()).await?;
            return Ok(if resp.is_empty() {
                None
            } else {
                Some(resp.value()?)
            });
        }
        Ok(fallback)
    }

    /// A failed poll of a `Location` URL: the operation's failure, unless the failure
    /// is one of access or of the moment (which the wait retries or reports as is).
    fn location_failure(&self, e: Error) -> Error {
        match e.http_status() {
            Some(401 | 403 | 408 | 429) | None => e,
            Some(_) => {
                let msg = format!("{} failed: {}", self.what, e.message());
                let mut out = Error::new(ErrorKind::OperationFailed, msg)
                    .with_context_defaults(e.context())
                    .with_retryable(false);
                if let Some(s) = e.http_status() {
                    out = out.with_http_status(s);
                }
                if let Some(id) = e.request_id() {
                    out = out.with_request_id(id);
                }
                if e.kind() == ErrorKind::QuotaExceeded {
                    out = out.with_kind(ErrorKind::QuotaExceeded);
                }
                out
            }
        }
    }

    /// Checks once.
    ///
    /// # Errors
    /// `OperationFailed` or `Cancelled` when the operation ended so; the poll request's
    /// errors (transient ones are retried by [`Operation::wait`]).
    pub async fn poll(&mut self) -> Result<PollResult<Option<Value>>> {
        if let State::Done(v) = &mut self.state {
            let v = v.take();
            self.state = State::Finished;
            return Ok(PollResult::Ready(v));
        }
        if let Some(delay) = self.first_delay.take() {
            // ARM asks to wait before the first check.
            let mut p = Progress::status("Accepted");
            if let Some(d) = delay {
                p = p.with_retry_after(d);
            }
            return Ok(PollResult::Pending(p));
        }
        match &self.state {
            State::AsyncOperation { url, location } => {
                let (url, location) = (url.clone(), location.clone());
                let resp = self.get(url).await?;
                let after = retry_after(&resp);
                let st: AsyncOperationStatus = resp.json()?;
                if st.status.eq_ignore_ascii_case("Succeeded") {
                    let fallback = match (&location, self.method.clone()) {
                        (Some(loc), Method::POST) => {
                            let r = self
                                .get(loc.clone())
                                .await
                                .map_err(|e| self.location_failure(e))?;
                            if r.status == 202 {
                                self.state = State::Location(loc.clone());
                                return Ok(PollResult::Pending(Progress::status("Finishing")));
                            }
                            if r.is_empty() {
                                None
                            } else {
                                Some(r.value()?)
                            }
                        }
                        _ => None,
                    };
                    let v = self.final_state(fallback).await?;
                    self.state = State::Finished;
                    return Ok(PollResult::Ready(v));
                }
                if is_terminal(&st.status) {
                    self.state = State::Finished;
                    let (code, message) = st
                        .error
                        .as_ref()
                        .map(|e| (e.code.as_deref(), e.message.as_deref()))
                        .unwrap_or((None, None));
                    return Err(operation_ended(&st.status, code, message, &self.what));
                }
                let mut p = Progress::status(st.status.clone());
                if let Some(pc) = st.percent_complete {
                    p = p.with_percent(pc.clamp(0.0, 100.0) as u8);
                }
                if let Some(a) = after {
                    p = p.with_retry_after(a);
                }
                Ok(PollResult::Pending(p))
            }
            State::Location(url) => {
                let url = url.clone();
                let resp = self.get(url).await.map_err(|e| self.location_failure(e))?;
                if resp.status == 202 {
                    let mut p = Progress::status("InProgress");
                    if let Some(a) = retry_after(&resp) {
                        p = p.with_retry_after(a);
                    }
                    return Ok(PollResult::Pending(p));
                }
                let body = if resp.is_empty() {
                    None
                } else {
                    Some(resp.value()?)
                };
                let v = self.final_state(body).await?;
                self.state = State::Finished;
                Ok(PollResult::Ready(v))
            }
            State::Provisioning => {
                let resp = self.get(self.resource_url.clone()).await?;
                let after = retry_after(&resp);
                let doc = resp.value()?;
                match provisioning_state(&doc) {
                    Some(s) if s.eq_ignore_ascii_case("Succeeded") => {
                        self.state = State::Finished;
                        Ok(PollResult::Ready(Some(doc)))
                    }
                    Some(s) if is_terminal(s) => {
                        self.state = State::Finished;
                        Err(operation_ended(s, None, None, &self.what))
                    }
                    None => {
                        self.state = State::Finished;
                        Ok(PollResult::Ready(Some(doc)))
                    }
                    Some(s) => {
                        let mut p = Progress::status(s);
                        if let Some(a) = after {
                            p = p.with_retry_after(a);
                        }
                        Ok(PollResult::Pending(p))
                    }
                }
            }
            State::UntilGone => match self.get(self.resource_url.clone()).await {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    self.state = State::Finished;
                    Ok(PollResult::Ready(None))
                }
                Err(e) => Err(e),
                Ok(resp) => {
                    let mut p = Progress::status("Deleting");
                    if let Some(a) = retry_after(&resp) {
                        p = p.with_retry_after(a);
                    }
                    Ok(PollResult::Pending(p))
                }
            },
            State::Done(_) | State::Finished => Err(Error::new(
                ErrorKind::Other,
                "the long-running operation was polled again after it ended",
            )),
        }
    }
}

type Finish<T> = Box<
    dyn FnMut(Option<Value>) -> std::pin::Pin<Box<dyn Future<Output = Result<T>> + Send>> + Send,
>;

/// An LRO followed by an async step on its result (reading the resource's final model).
struct Then<T> {
    lro: Lro,
    result: Option<Option<Value>>,
    finish: Finish<T>,
}

#[async_trait]
impl<T: Send + 'static> Poller<T> for Then<T> {
    async fn poll(&mut self) -> Result<PollResult<T>> {
        if self.result.is_none() {
            match self.lro.poll().await? {
                PollResult::Pending(p) => return Ok(PollResult::Pending(p)),
                PollResult::Ready(v) => self.result = Some(v),
            }
        }
        let v = self.result.clone().unwrap_or(None);
        (self.finish)(v).await.map(PollResult::Ready)
    }
}

/// An [`Operation`] that follows `lro`, then turns its final document into `T` with
/// `finish` (retried, without polling again, when it fails transiently).
pub fn operation<T, F, Fut>(
    description: String,
    resource: String,
    lro: Lro,
    mut finish: F,
) -> Operation<T>
where
    T: Send + 'static,
    F: FnMut(Option<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let poller = Then {
        lro,
        result: None,
        finish: Box::new(move |v| Box::pin(finish(v))),
    };
    Operation::from_poller(description, poller).with_resource(resource)
}

/// An [`Operation`] that follows `lro` and ends with nothing.
pub fn operation_unit(description: String, resource: String, lro: Lro) -> Operation<()> {
    operation(description, resource, lro, |_| async { Ok(()) })
}
