//! VirtualMachine and Folder calls: `CreateVM_Task`, `CloneVM_Task`, power, guest
//! shutdown and reboot, `ReconfigVM_Task`, `MarkAsTemplate`, `Destroy_Task`.
//! Every `…_Task` returns the task's reference, to be awaited with [`crate::task`].

use hybrid_core::Result;

use crate::protocol::requests::{
    CloneSpec, CloneVm, ConfigSpec, CreateVm, ReconfigVm, This, VIM25_NS,
};
use crate::protocol::types::Mor;
use crate::session::Session;
use crate::transport::Idempotency;

use super::returned_mor;

/// `Folder.CreateVM_Task`.
pub(crate) async fn create_vm_task(
    s: &Session,
    folder: &Mor,
    config: &ConfigSpec,
    pool: &Mor,
    host: Option<&Mor>,
) -> Result<Mor> {
    const M: &str = "CreateVM_Task";
    let body = CreateVm {
        xmlns: VIM25_NS,
        _this: folder,
        config,
        pool,
        host,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `VirtualMachine.CloneVM_Task`.
pub(crate) async fn clone_vm_task(
    s: &Session,
    vm: &Mor,
    folder: &Mor,
    name: &str,
    spec: &CloneSpec,
) -> Result<Mor> {
    const M: &str = "CloneVM_Task";
    let body = CloneVm {
        xmlns: VIM25_NS,
        _this: vm,
        folder,
        name,
        spec,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `VirtualMachine.ReconfigVM_Task`.
pub(crate) async fn reconfig_vm_task(s: &Session, vm: &Mor, spec: &ConfigSpec) -> Result<Mor> {
    const M: &str = "ReconfigVM_Task";
    let body = ReconfigVm {
        xmlns: VIM25_NS,
        _this: vm,
        spec,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// A `…_Task` method whose only argument is `_this` (`PowerOnVM_Task`,
/// `PowerOffVM_Task`, `ResetVM_Task`, `Destroy_Task`).
pub(crate) async fn this_task(s: &Session, method: &str, obj: &Mor) -> Result<Mor> {
    returned_mor(
        method,
        &s.invoke(method, &This::new(obj), Idempotency::Mutating)
            .await?,
    )
}

/// A method without a task whose only argument is `_this` (`ShutdownGuest`,
/// `RebootGuest`, `MarkAsTemplate`).
pub(crate) async fn this_call(s: &Session, method: &str, obj: &Mor) -> Result<()> {
    s.invoke(method, &This::new(obj), Idempotency::Mutating)
        .await
        .map(drop)
}
