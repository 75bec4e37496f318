//! Long-running operations as ARM runs them: an operation per PUT, PATCH, DELETE or
//! POST action, polled through its `Azure-AsyncOperation` URL (a status document)
//! or its `Location` URL (202 until done, then the final result).
//!
//! An operation completes at the first observation after `lro_polls` observations
//! saw it in progress. Reading the status URL, the `Location` URL, or the resource
//! itself (GET, or a list page that contains it) are all observations.

use serde_json::{json, Map, Value};

use crate::config::LroEnd;
use crate::http::{ArmError, Resp, R};
use crate::ids::Key;
use crate::util::{arm_time, now_secs};
use crate::world::{Power, World};

/// What an operation works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Rg(String),
    Vm(Key),
    Disk(Key),
    Snapshot(Key),
    Image(Key),
    Vnet(Key),
    Subnet(Key, String),
    Nic(Key),
    Nsg(Key),
    Rule(Key, String),
    Pip(Key),
}

/// A VM power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Start,
    PowerOff,
    Restart,
    Deallocate,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Create,
    Update,
    Delete,
    Action(Action),
}

/// Which resource provider's URL shapes the operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `Microsoft.Compute/locations/{l}/operations/{id}` (+ `&monitor=true`).
    Compute,
    /// `Microsoft.Compute/locations/{l}/DiskOperations/{id}` (+ `&monitor=true`).
    Disk,
    /// `Microsoft.Network/locations/{l}/operations/{id}` and `.../operationResults/{id}`.
    Network,
    /// `/subscriptions/{s}/operationresults/{id}` (resource group deletion).
    Resources,
}

/// An operation's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Canceled => "Canceled",
        }
    }
}

/// A long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub(crate) target: Target,
    pub(crate) kind: Kind,
    pub(crate) family: Family,
    pub(crate) location: String,
    seen: u32,
    polls: u32,
    end: Option<LroEnd>,
    pub(crate) status: Status,
    error: Option<(String, String)>,
    start: i64,
    end_time: Option<i64>,
    /// The VM's power state before an action (restored if the action fails).
    pub(crate) prev_power: Option<Power>,
}

/// Starts an operation; the next scripted ending (`lro_fail_next`) applies to it.
pub(crate) fn begin(
    w: &mut World,
    target: Target,
    kind: Kind,
    family: Family,
    location: &str,
    prev_power: Option<Power>,
) -> String {
    let id = w.rng.uuid();
    let end = w.lro_fail.pop_front();
    w.ops.insert(
        id.clone(),
        Op {
            target,
            kind,
            family,
            location: location.to_owned(),
            seen: 0,
            polls: w.lro_polls,
            end,
            status: Status::InProgress,
            error: None,
            start: now_secs(),
            end_time: None,
            prev_power,
        },
    );
    id
}

/// Cancels an operation a newer one replaces (compute's `OperationPreempted`); its
/// effect is not applied.
pub(crate) fn preempt(w: &mut World, id: &str) {
    if let Some(op) = w.ops.get_mut(id) {
        if op.status == Status::InProgress {
            op.status = Status::Canceled;
            op.error = Some((
                "OperationPreempted".into(),
                "Operation execution has been preempted by a more recent operation.".into(),
            ));
            op.end_time = Some(now_secs());
        }
    }
}

/// Whether an operation is still running.
pub(crate) fn in_progress(w: &World, id: Option<&String>) -> bool {
    id.and_then(|id| w.ops.get(id))
        .is_some_and(|op| op.status == Status::InProgress)
}

/// Observes an operation: counts a poll, or completes it (applying its effect).
pub(crate) fn observe(w: &mut World, id: &str) -> Option<Status> {
    let op = w.ops.get_mut(id)?;
    if op.status != Status::InProgress {
        return Some(op.status);
    }
    if op.seen < op.polls {
        op.seen += 1;
        return Some(Status::InProgress);
    }
    let status = match op.end {
        None => Status::Succeeded,
        Some(LroEnd::Failed) => Status::Failed,
        Some(LroEnd::Canceled) => Status::Canceled,
    };
    op.status = status;
    op.end_time = Some(now_secs());
    op.error = match status {
        Status::Failed => Some(failure(&op.target, op.kind)),
        Status::Canceled => Some((
            "OperationCanceled".into(),
            "The operation was canceled.".into(),
        )),
        _ => None,
    };
    let (target, kind, prev) = (op.target.clone(), op.kind, op.prev_power);
    match &target {
        Target::Rg(name) => crate::resources::finish_rg(w, name, id, kind, status),
        Target::Vm(k) => crate::compute::finish_vm(w, k, id, kind, status, prev),
        Target::Disk(_) | Target::Snapshot(_) | Target::Image(_) => {
            crate::storage::finish(w, &target, id, kind, status)
        }
        _ => crate::network::finish(w, &target, id, kind, status),
    }
    Some(status)
}

fn failure(target: &Target, kind: Kind) -> (String, String) {
    match (target, kind) {
        (Target::Vm(_), Kind::Create) => (
            "AllocationFailed".into(),
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance".into(),
        ),
        _ => (
            "InternalOperationError".into(),
            "The operation failed because of an internal error (failure scripted on the fake).".into(),
        ),
    }
}

/// Observes the operation a resource is running, if any.
pub(crate) fn settle(w: &mut World, op: Option<String>) {
    if let Some(id) = op {
        observe(w, &id);
    }
}

/// The headers announcing an operation: `Azure-AsyncOperation` (except for resource
/// groups), `Location` when `with_location`, and `Retry-After`.
pub(crate) fn headers(
    w: &World,
    id: &str,
    base: &str,
    api_version: &str,
    with_location: bool,
) -> Vec<(&'static str, String)> {
    let Some(op) = w.ops.get(id) else {
        return Vec::new();
    };
    let sub = &w.sub;
    let loc = &op.location;
    let mut h = Vec::new();
    match op.family {
        Family::Compute | Family::Disk => {
            let kind = if op.family == Family::Compute {
                "operations"
            } else {
                "DiskOperations"
            };
            let url = format!(
                "{base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/{kind}/{id}?api-version={api_version}"
            );
            if with_location {
                h.push(("Location", format!("{url}&monitor=true")));
            }
            h.push(("Azure-AsyncOperation", url));
        }
        Family::Network => {
            h.push((
                "Azure-AsyncOperation",
                format!("{base}/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operations/{id}?api-version={api_version}"),
            ));
            if with_location {
                h.push((
                    "Location",
                    format!("{base}/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operationResults/{id}?api-version={api_version}"),
                ));
            }
        }
        Family::Resources => h.push((
            "Location",
            format!("{base}/subscriptions/{sub}/operationresults/{id}?api-version={api_version}"),
        )),
    }
    h.push(("Retry-After", w.lro_retry_after.to_string()));
    h
}

/// Adds [`headers`] to a response.
pub(crate) fn with_headers(
    mut r: Resp,
    w: &World,
    id: &str,
    base: &str,
    api_version: &str,
    with_location: bool,
) -> Resp {
    for (k, v) in headers(w, id, base, api_version, with_location) {
        r = r.header(k, &v);
    }
    r
}

fn op_not_found(id: &str) -> ArmError {
    ArmError::new(
        404,
        "NotFound",
        format!("The operation '{id}' was not found."),
    )
}

/// `GET` on an `Azure-AsyncOperation` URL: the operation status document.
pub(crate) fn status_document(w: &mut World, id: &str) -> R {
    let status = observe(w, id).ok_or_else(|| op_not_found(id))?;
    let op = &w.ops[id];
    let mut body = Map::new();
    if op.family != Family::Network {
        body.insert("name".into(), Value::String(id.to_owned()));
        body.insert("startTime".into(), Value::String(arm_time(op.start)));
        if let Some(t) = op.end_time {
            body.insert("endTime".into(), Value::String(arm_time(t)));
        }
    }
    body.insert("status".into(), Value::String(status.as_str().into()));
    if let Some((code, message)) = &op.error {
        body.insert("error".into(), json!({"code": code, "message": message}));
    }
    if status == Status::Succeeded && op.family == Family::Disk && op.kind != Kind::Delete {
        let target = op.target.clone();
        if let Some(out) = crate::storage::render_target(w, &target) {
            body.insert("properties".into(), json!({ "output": out }));
        }
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

/// `GET` on a `Location` URL: 202 while running, then the final result; 400 (Failed)
/// or 409 (Canceled) with the error body when the operation did not succeed.
pub(crate) fn location_result(w: &mut World, id: &str, self_url: &str) -> R {
    let status = observe(w, id).ok_or_else(|| op_not_found(id))?;
    let op = &w.ops[id];
    match status {
        Status::InProgress => Ok(Resp::empty(202)
            .header("Location", self_url)
            .header("Retry-After", &w.lro_retry_after.to_string())),
        Status::Succeeded => {
            if op.kind == Kind::Delete {
                return Ok(Resp::empty(if op.family == Family::Network {
                    204
                } else {
                    200
                }));
            }
            if op.family == Family::Disk {
                let target = op.target.clone();
                if let Some(out) = crate::storage::render_target(w, &target) {
                    return Ok(Resp::json(200, &out));
                }
            }
            Ok(Resp::empty(200))
        }
        Status::Failed | Status::Canceled => {
            let (code, message) = op.error.clone().unwrap_or_default();
            let http = if status == Status::Failed { 400 } else { 409 };
            Err(ArmError::new(http, &code, message))
        }
    }
}
