//! vSphere tasks as [`Operation`]s: `info` is read through the PropertyCollector until
//! the task succeeds or fails, with `TaskInfo.progress` as progress; a task error
//! becomes a typed error (see [`crate::error`]). A step may start the next task
//! (power off, then destroy), so one `Operation` can span several tasks.

use std::sync::Arc;

use futures::future::BoxFuture;

use hybrid_core::{Error, ErrorKind, Operation, PollResult, Poller, Progress, Result};

use crate::api::property::{retrieve_properties_ex, Source};
use crate::error::{fault_error, shape_error};
use crate::protocol::types::{MethodFault, Mor, TaskInfo, TaskState};
use crate::protocol::xml::Node;
use crate::provider::Inner;

/// What to do when a task succeeds: given the task's `info.result`, finish or start
/// another task.
pub(crate) type Then<T> =
    Box<dyn FnOnce(Arc<Inner>, Option<Node>) -> BoxFuture<'static, Result<Step<T>>> + Send>;

/// The outcome of a step.
pub(crate) enum Step<T> {
    Done(T),
    Task {
        task: Mor,
        what: String,
        then: Then<T>,
    },
}

/// Reads a task's `info` once.
pub(crate) async fn task_info(inner: &Inner, task: &Mor) -> Result<TaskInfo> {
    const M: &str = "RetrievePropertiesEx";
    let objs = [task.clone()];
    let r = retrieve_properties_ex(
        &inner.session,
        &[("Task", &["info"])],
        Source::Objects(&objs),
        None,
    )
    .await?;
    let oc = r
        .objects
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("task {}", task.value)))?;
    let info = oc.get("info").ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("task {} has no info", task.value),
        )
    })?;
    TaskInfo::from_node(info).map_err(|e| shape_error(M, e))
}

/// The error of task `what` that ended in state `error` with `fault`: the fault's kind
/// where it has a more precise one than a failure (`InvalidPowerState` → `Conflict`,
/// `RequestCanceled` → `Cancelled`, …), else `OperationFailed`; the message names the
/// fault and carries its text.
pub(crate) fn task_failure(what: &str, fault: Option<&MethodFault>) -> Error {
    match fault {
        Some(f) => {
            let e = fault_error(what, f, "");
            if e.kind() == ErrorKind::Other {
                Error::new(ErrorKind::OperationFailed, e.message().to_owned()).with_source(e)
            } else {
                e
            }
        }
        None => Error::new(
            ErrorKind::OperationFailed,
            format!("{what}: the task failed without an error"),
        ),
    }
}

struct TaskPoller<T> {
    inner: Arc<Inner>,
    current: Option<(Mor, String, Then<T>)>,
}

#[hybrid_core::async_trait]
impl<T: Send + 'static> Poller<T> for TaskPoller<T> {
    async fn poll(&mut self) -> Result<PollResult<T>> {
        let Some((task, what, _)) = self.current.as_ref() else {
            return Err(Error::new(
                ErrorKind::Other,
                "the operation was polled again after it ended",
            ));
        };
        let info = task_info(&self.inner, task).await?;
        match info.state {
            TaskState::Queued | TaskState::Running => {
                let mut p = Progress::status(format!(
                    "{what}: {}",
                    if info.state == TaskState::Queued {
                        "queued"
                    } else {
                        "running"
                    }
                ));
                if let Some(pct) = info.progress {
                    p = p.with_percent(pct);
                }
                Ok(PollResult::Pending(p))
            }
            TaskState::Success => {
                let (_, _, then) = self
                    .current
                    .take()
                    .ok_or_else(|| Error::new(ErrorKind::Other, "the task step vanished"))?;
                match then(self.inner.clone(), info.result).await? {
                    Step::Done(v) => Ok(PollResult::Ready(v)),
                    Step::Task { task, what, then } => {
                        let status = format!("{what}: started");
                        self.current = Some((task, what, then));
                        Ok(PollResult::Pending(Progress::status(status)))
                    }
                }
            }
            TaskState::Error => {
                let what = what.clone();
                self.current = None;
                Err(task_failure(&what, info.error.as_ref()))
            }
            TaskState::Other(s) => Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("{what}: task {} is in the unknown state {s:?}", info.key),
            )),
        }
    }
}

/// An operation that awaits `task`, then runs `then`.
pub(crate) fn operation<T: Send + 'static>(
    inner: Arc<Inner>,
    description: String,
    task: Mor,
    then: Then<T>,
) -> Operation<T> {
    let poller = TaskPoller {
        inner,
        current: Some((task.clone(), description.clone(), then)),
    };
    Operation::from_poller(description, poller)
}

/// A step that finishes with `()`.
pub(crate) fn done_unit() -> Then<()> {
    Box::new(|_, _| Box::pin(async { Ok(Step::Done(())) }))
}
