//! First-class disks (`VcenterVStorageObjectManager`) and attaching them to VMs:
//! `CreateDisk_Task`, `ListVStorageObject`, `RetrieveVStorageObject`,
//! `DeleteVStorageObject_Task`, `ExtendDisk_Task`, `VStorageObjectCreateSnapshot_Task`,
//! `DeleteSnapshot_Task`, `RetrieveSnapshotInfo`, `CreateDiskFromSnapshot_Task`,
//! `AttachDisk_Task`, `DetachDisk_Task`.

use hybrid_core::{Error, ErrorKind, Result};

use crate::error::shape_error;
use crate::protocol::requests::{
    AttachDisk, CreateDisk, CreateDiskFromSnapshot, CreateDiskSnapshot, DeleteDiskSnapshot,
    DetachDisk, DiskCall, ExtendDisk, OnDatastore, VslmCreateSpec, VslmId, VIM25_NS,
};
use crate::protocol::types::{DiskSnapshot, Mor, VStorageObject};
use crate::protocol::xml::Node;
use crate::session::Session;
use crate::transport::Idempotency;

use super::returned_mor;

/// The VStorageObjectManager of this vCenter.
pub(crate) fn manager(s: &Session) -> Result<&Mor> {
    s.content.vstorage_object_manager.as_ref().ok_or_else(|| {
        Error::new(
            ErrorKind::Unsupported,
            "this vCenter has no VStorageObjectManager (first-class disks need vSphere 6.5 or later)",
        )
    })
}

fn call<'a>(s: &'a Session, id: &str, datastore: &'a Mor) -> Result<DiskCall<'a>> {
    Ok(DiskCall {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        id: VslmId::new(id),
        datastore,
    })
}

/// `CreateDisk_Task`.
pub(crate) async fn create_disk_task(s: &Session, spec: &VslmCreateSpec) -> Result<Mor> {
    const M: &str = "CreateDisk_Task";
    let body = CreateDisk {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        spec,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `ListVStorageObject`: the disk ids on `datastore`.
pub(crate) async fn list_vstorage_object(s: &Session, datastore: &Mor) -> Result<Vec<String>> {
    const M: &str = "ListVStorageObject";
    let body = OnDatastore {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        datastore,
    };
    let resp = s.invoke(M, &body, Idempotency::ReadOnly).await?;
    read_disk_ids(&resp)
}

/// The disk ids of a `ListVStorageObject` answer.
pub(crate) fn read_disk_ids(resp: &Node) -> Result<Vec<String>> {
    const M: &str = "ListVStorageObject";
    resp.children_named("returnval")
        .map(|r| {
            r.req_text("id")
                .map(|t| t.trim().to_owned())
                .map_err(|e| shape_error(M, e))
        })
        .collect()
}

/// The disk of a `RetrieveVStorageObject` answer.
pub(crate) fn read_vstorage_object(resp: &Node) -> Result<VStorageObject> {
    const M: &str = "RetrieveVStorageObject";
    let rv = resp.req("returnval").map_err(|e| shape_error(M, e))?;
    VStorageObject::from_node(rv).map_err(|e| shape_error(M, e))
}

/// The snapshots of a `RetrieveSnapshotInfo` answer.
pub(crate) fn read_snapshots(resp: &Node) -> Result<Vec<DiskSnapshot>> {
    const M: &str = "RetrieveSnapshotInfo";
    match resp.child("returnval") {
        None => Ok(Vec::new()),
        Some(rv) => DiskSnapshot::list(rv).map_err(|e| shape_error(M, e)),
    }
}

/// `RetrieveVStorageObject`.
pub(crate) async fn retrieve_vstorage_object(
    s: &Session,
    id: &str,
    datastore: &Mor,
) -> Result<VStorageObject> {
    const M: &str = "RetrieveVStorageObject";
    let resp = s
        .invoke(M, &call(s, id, datastore)?, Idempotency::ReadOnly)
        .await?;
    read_vstorage_object(&resp)
}

/// `DeleteVStorageObject_Task`.
pub(crate) async fn delete_vstorage_object_task(
    s: &Session,
    id: &str,
    datastore: &Mor,
) -> Result<Mor> {
    const M: &str = "DeleteVStorageObject_Task";
    returned_mor(
        M,
        &s.invoke(M, &call(s, id, datastore)?, Idempotency::Mutating)
            .await?,
    )
}

/// `ExtendDisk_Task`.
pub(crate) async fn extend_disk_task(
    s: &Session,
    id: &str,
    datastore: &Mor,
    new_capacity_mb: u64,
) -> Result<Mor> {
    const M: &str = "ExtendDisk_Task";
    let body = ExtendDisk {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        id: VslmId::new(id),
        datastore,
        new_capacity_in_mb: new_capacity_mb,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `VStorageObjectCreateSnapshot_Task`.
pub(crate) async fn create_snapshot_task(
    s: &Session,
    id: &str,
    datastore: &Mor,
    description: &str,
) -> Result<Mor> {
    const M: &str = "VStorageObjectCreateSnapshot_Task";
    let body = CreateDiskSnapshot {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        id: VslmId::new(id),
        datastore,
        description,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `DeleteSnapshot_Task` of a first-class disk.
pub(crate) async fn delete_snapshot_task(
    s: &Session,
    id: &str,
    datastore: &Mor,
    snapshot: &str,
) -> Result<Mor> {
    const M: &str = "DeleteSnapshot_Task";
    let body = DeleteDiskSnapshot {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        id: VslmId::new(id),
        datastore,
        snapshot_id: VslmId::new(snapshot),
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `RetrieveSnapshotInfo`: the snapshots of a disk.
pub(crate) async fn retrieve_snapshot_info(
    s: &Session,
    id: &str,
    datastore: &Mor,
) -> Result<Vec<DiskSnapshot>> {
    const M: &str = "RetrieveSnapshotInfo";
    let resp = s
        .invoke(M, &call(s, id, datastore)?, Idempotency::ReadOnly)
        .await?;
    read_snapshots(&resp)
}

/// `CreateDiskFromSnapshot_Task`: a new disk `name` from a snapshot of disk `id`.
pub(crate) async fn create_disk_from_snapshot_task(
    s: &Session,
    id: &str,
    datastore: &Mor,
    snapshot: &str,
    name: &str,
) -> Result<Mor> {
    const M: &str = "CreateDiskFromSnapshot_Task";
    let body = CreateDiskFromSnapshot {
        xmlns: VIM25_NS,
        _this: manager(s)?,
        id: VslmId::new(id),
        datastore,
        snapshot_id: VslmId::new(snapshot),
        name,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `VirtualMachine.AttachDisk_Task` (vCenter picks the controller and unit).
pub(crate) async fn attach_disk_task(
    s: &Session,
    vm: &Mor,
    id: &str,
    datastore: &Mor,
) -> Result<Mor> {
    const M: &str = "AttachDisk_Task";
    let body = AttachDisk {
        xmlns: VIM25_NS,
        _this: vm,
        disk_id: VslmId::new(id),
        datastore,
        controller_key: None,
        unit_number: None,
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}

/// `VirtualMachine.DetachDisk_Task`.
pub(crate) async fn detach_disk_task(s: &Session, vm: &Mor, id: &str) -> Result<Mor> {
    const M: &str = "DetachDisk_Task";
    let body = DetachDisk {
        xmlns: VIM25_NS,
        _this: vm,
        disk_id: VslmId::new(id),
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}
