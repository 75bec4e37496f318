//! Block storage: the core's volumes are vSphere **first-class disks** (FCDs,
//! `VStorageObject`s managed by the `VcenterVStorageObjectManager`): virtual disks with
//! their own identity and lifecycle on a datastore, which outlive the VMs they are
//! attached to (`keepAfterDeleteVm`).
//!
//! | core | vSphere |
//! | --- | --- |
//! | volume id | the disk's id (a UUID); its datastore is found with `ListVStorageObject` and cached |
//! | create | `CreateDisk_Task` on the datastore named by `availability_zone` (default: the configured one), `volume_type` = provisioning (`thin` by default, `lazyZeroedThick`, `eagerZeroedThick`); from a snapshot: `CreateDiskFromSnapshot_Task` |
//! | get / list | `RetrieveVStorageObject`; listing pages over the ids of every datastore of the datacenter |
//! | attachments | the VMs on the disk's datastore (`Datastore.vm`) whose `VirtualDisk` is backed by the disk's file (or carries its `vDiskId`): two PropertyCollector calls per page, never one per VM |
//! | attach / detach | `AttachDisk_Task` / `DetachDisk_Task`; a vCenter without them (vcsim) answers `MethodNotFound`, and then the disk's file is added to / removed from the VM with `ReconfigVM_Task` (no file operation) |
//! | extend | `ExtendDisk_Task` |
//! | delete | `DeleteVStorageObject_Task`, refused with `Conflict` while attached |
//! | snapshot | `VStorageObjectCreateSnapshot_Task` (the name is the description), `RetrieveSnapshotInfo`, `DeleteSnapshot_Task`; a snapshot's id is `<disk id>:<snapshot id>` |
//!
//! A VM's own (non-first-class) disks stay with [`VsphereProvider::add_disk`] and
//! [`VsphereProvider::remove_disk`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use hybrid_core::model::*;
use hybrid_core::paging::paginate_prefetch;
use hybrid_core::{
    async_trait, Error, ErrorKind, ItemStream, ListOptions, Operation, Page, PageToken, Result,
    Storage,
};

use crate::api::property::{retrieve_properties_ex, Source};
use crate::api::vm::reconfig_vm_task;
use crate::api::vslm;
use crate::compute::vm;
use crate::devices::{read_devices, scsi_slot};
use crate::error::{shape_error, VimFault};
use crate::protocol::requests::{
    Backing, ConfigSpec, Device, DeviceChange, DiskFileBackingSpec, VslmCreateSpec,
};
use crate::protocol::types::{DiskSnapshot, Mor, ObjectContent, VStorageObject};
use crate::provider::{Inner, VsphereProvider};
use crate::task::{self, Step, Then};

/// Provisioning types a volume can be created with (`volume_type`).
pub const PROVISIONING_TYPES: &[&str] = &["thin", "lazyZeroedThick", "eagerZeroedThick"];

/// Where a first-class disk is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskUse {
    vm: String,
    key: i32,
    label: String,
}

fn is_method_not_found(e: &Error) -> bool {
    e.kind() == ErrorKind::Unsupported
        && std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<VimFault>())
            .is_some_and(|f| f.kind == "MethodNotFound")
}

/// Where each of `disks` is attached among the VMs `vms` (read with
/// `config.hardware.device`): by the disk backing's file, or its `vDiskId`.
pub(crate) fn disk_uses_in(
    vms: &[ObjectContent],
    disks: &[VStorageObject],
) -> Result<HashMap<String, Vec<DiskUse>>> {
    let mut out: HashMap<String, Vec<DiskUse>> = HashMap::new();
    for o in vms {
        for d in read_devices(o.get("config.hardware.device"))? {
            if d.kind != "VirtualDisk" {
                continue;
            }
            let file = d
                .node
                .child("backing")
                .and_then(|b| b.child_text("fileName"))
                .map(str::trim);
            let vdisk = d
                .node
                .child("vDiskId")
                .and_then(|v| v.child_text("id"))
                .map(str::trim);
            for disk in disks {
                let by_file = file.is_some() && file == disk.file_path.as_deref();
                if by_file || vdisk == Some(disk.id.as_str()) {
                    out.entry(disk.id.clone()).or_default().push(DiskUse {
                        vm: o.obj.value.clone(),
                        key: d.key,
                        label: d
                            .node
                            .child("deviceInfo")
                            .and_then(|i| i.child_text("label"))
                            .unwrap_or("")
                            .to_owned(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A first-class disk as a core [`Volume`], attached where `uses` say; its datastore
/// named from `datastores` (id → name).
pub(crate) fn volume_of(
    d: &VStorageObject,
    uses: &[DiskUse],
    datastores: &std::collections::BTreeMap<String, String>,
) -> Volume {
    let mut metadata = Metadata::new();
    if let Some(p) = &d.file_path {
        metadata.insert("vsphere.file_path".into(), p.clone());
    }
    if let Some(t) = &d.create_time {
        metadata.insert("vsphere.create_time".into(), t.clone());
    }
    Volume {
        id: VolumeId::new(&d.id),
        name: d.name.clone(),
        size_gib: gib(d.capacity_mb),
        status: if uses.is_empty() {
            VolumeStatus::Available
        } else {
            VolumeStatus::InUse
        },
        volume_type: d.provisioning_type.clone(),
        bootable: false,
        availability_zone: d.datastore.as_ref().map(|ds| {
            datastores
                .get(&ds.value)
                .cloned()
                .unwrap_or_else(|| ds.value.clone())
        }),
        attachments: uses
            .iter()
            .map(|u| Attachment {
                id: None,
                volume_id: VolumeId::new(&d.id),
                server_id: ServerId::new(&u.vm),
                device: Some(u.label.clone()).filter(|l| !l.is_empty()),
            })
            .collect(),
        metadata,
        raw: None,
    }
}

fn volume_not_found(id: &str) -> Error {
    Error::not_found(format!("volume {id}")).with_resource(id)
}

fn gib(capacity_mb: u64) -> u64 {
    capacity_mb.div_ceil(1024)
}

fn snapshot_id(disk: &str, snap: &str) -> String {
    format!("{disk}:{snap}")
}

fn parse_snapshot_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
        .filter(|(d, s)| !d.is_empty() && !s.is_empty() && !s.contains(':'))
}

impl Inner {
    fn datastore_mors(&self) -> Vec<Mor> {
        self.facts()
            .datastores
            .keys()
            .map(|v| Mor::new("Datastore", v))
            .collect()
    }

    fn remember_disk(&self, id: &str, ds: &Mor) {
        if let Ok(mut m) = self.disk_datastores.lock() {
            m.insert(id.to_owned(), ds.clone());
        }
    }

    fn forget_disk(&self, id: &str) {
        if let Ok(mut m) = self.disk_datastores.lock() {
            m.remove(id);
        }
    }

    /// Every disk id with its datastore, in a stable order.
    async fn all_disks(&self) -> Result<Vec<(String, Mor)>> {
        let mut out = Vec::new();
        for ds in self.datastore_mors() {
            let mut ids = vslm::list_vstorage_object(&self.session, &ds).await?;
            ids.sort();
            for id in ids {
                self.remember_disk(&id, &ds);
                out.push((id, ds.clone()));
            }
        }
        Ok(out)
    }

    /// The datastore of disk `id` (cached; else every datastore is asked).
    async fn disk_datastore(&self, id: &str) -> Result<Mor> {
        if let Some(ds) = self
            .disk_datastores
            .lock()
            .ok()
            .and_then(|m| m.get(id).cloned())
        {
            return Ok(ds);
        }
        self.all_disks()
            .await?
            .into_iter()
            .find(|(d, _)| d == id)
            .map(|(_, ds)| ds)
            .ok_or_else(|| volume_not_found(id))
    }

    /// Disk `id` and its datastore; `NotFound` when it does not exist.
    async fn disk(&self, id: &str) -> Result<(VStorageObject, Mor)> {
        if id.is_empty() || id.contains(':') {
            return Err(volume_not_found(id));
        }
        let ds = self.disk_datastore(id).await?;
        match vslm::retrieve_vstorage_object(&self.session, id, &ds).await {
            Ok(d) => Ok((d, ds)),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                self.forget_disk(id);
                Err(volume_not_found(id).with_source(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Where each of `disks` is attached: the VMs on their datastores, read in one call.
    async fn disk_uses(&self, disks: &[VStorageObject]) -> Result<HashMap<String, Vec<DiskUse>>> {
        let stores: BTreeSet<Mor> = disks.iter().filter_map(|d| d.datastore.clone()).collect();
        let mut vms: BTreeSet<Mor> = BTreeSet::new();
        for ds in &stores {
            let o = match self.one(ds, &[("Datastore", &["vm"])]).await {
                Ok(o) => o,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            vms.extend(
                o.mors("vm")
                    .map_err(|e| shape_error("RetrievePropertiesEx", e))?,
            );
        }
        if vms.is_empty() {
            return Ok(HashMap::new());
        }
        let vms: Vec<Mor> = vms.into_iter().collect();
        let r = retrieve_properties_ex(
            &self.session,
            &[("VirtualMachine", &["config.hardware.device"])],
            Source::Objects(&vms),
            None,
        )
        .await?;
        disk_uses_in(&r.objects, disks)
    }

    fn volume(&self, d: &VStorageObject, uses: &[DiskUse]) -> Volume {
        volume_of(d, uses, &self.facts().datastores)
    }

    pub(crate) async fn get_volume(&self, id: &str) -> Result<Volume> {
        let (d, _) = self.disk(id).await?;
        let uses = self.disk_uses(std::slice::from_ref(&d)).await?;
        Ok(self.volume(&d, uses.get(&d.id).map_or(&[][..], Vec::as_slice)))
    }

    async fn volume_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        let start = match &token {
            None => 0,
            Some(t) => t
                .as_str()
                .parse::<usize>()
                .map_err(|_| Error::invalid_input("not a volume page token of this provider"))?,
        };
        let all = self.all_disks().await?;
        let size = options.page_size.unwrap_or(self.config.page_size).max(1) as usize;
        let end = (start + size).min(all.len());
        let mut disks = Vec::new();
        for (id, ds) in all.get(start..end).unwrap_or_default() {
            match vslm::retrieve_vstorage_object(&self.session, id, ds).await {
                Ok(d) => disks.push(d),
                // Deleted between the list and the read.
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {}
                Err(e) => return Err(e),
            }
        }
        disks.retain(|d| options.matches(&d.name, &[]));
        let uses = self.disk_uses(&disks).await?;
        let items = disks
            .iter()
            .map(|d| self.volume(d, uses.get(&d.id).map_or(&[][..], Vec::as_slice)))
            .collect();
        let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
        Ok(Page::new(items, next))
    }

    async fn snapshots_of(&self, disk: &VStorageObject, ds: &Mor) -> Result<Vec<Snapshot>> {
        Ok(vslm::retrieve_snapshot_info(&self.session, &disk.id, ds)
            .await?
            .into_iter()
            .map(|s| snapshot(disk, &s))
            .collect())
    }

    async fn snapshot_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        let start = match &token {
            None => 0,
            Some(t) => t
                .as_str()
                .parse::<usize>()
                .map_err(|_| Error::invalid_input("not a snapshot page token of this provider"))?,
        };
        let mut all = Vec::new();
        for (id, ds) in self.all_disks().await? {
            let d = match vslm::retrieve_vstorage_object(&self.session, &id, &ds).await {
                Ok(d) => d,
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                    continue
                }
                Err(e) => return Err(e),
            };
            all.extend(self.snapshots_of(&d, &ds).await?);
        }
        all.retain(|s| options.matches(&s.name, &[]));
        let size = options.page_size.unwrap_or(self.config.page_size).max(1) as usize;
        let end = (start + size).min(all.len());
        let items = all
            .get(start..end)
            .map(<[Snapshot]>::to_vec)
            .unwrap_or_default();
        let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
        Ok(Page::new(items, next))
    }
}

pub(crate) fn snapshot(disk: &VStorageObject, s: &DiskSnapshot) -> Snapshot {
    Snapshot {
        id: SnapshotId::new(snapshot_id(&disk.id, &s.id)),
        volume_id: VolumeId::new(&disk.id),
        name: s.description.clone(),
        size_gib: gib(disk.capacity_mb),
        status: SnapshotStatus::Available,
        raw: None,
    }
}

/// The step that reads a created disk from the task result and returns it as a volume.
fn then_created_volume(method: &'static str) -> Then<Volume> {
    Box::new(move |inner: Arc<Inner>, result| {
        Box::pin(async move {
            let node = result.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("{method} returned no disk"),
                )
            })?;
            let d = VStorageObject::from_node(&node).map_err(|e| shape_error(method, e))?;
            if let Some(ds) = &d.datastore {
                inner.remember_disk(&d.id, ds);
            }
            Ok(Step::Done(inner.volume(&d, &[])))
        })
    })
}

fn then_volume(id: String) -> Then<Volume> {
    Box::new(move |inner: Arc<Inner>, _| {
        Box::pin(async move { Ok(Step::Done(inner.get_volume(&id).await?)) })
    })
}

impl VsphereProvider {
    async fn find_snapshot(&self, id: &SnapshotId) -> Result<(VStorageObject, Mor, DiskSnapshot)> {
        let missing = || Error::not_found(format!("snapshot {id}")).with_resource(id.as_str());
        let (disk, snap) = parse_snapshot_id(id.as_str()).ok_or_else(missing)?;
        let (d, ds) = self.inner.disk(disk).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                missing()
            } else {
                e
            }
        })?;
        let s = vslm::retrieve_snapshot_info(&self.inner.session, &d.id, &ds)
            .await?
            .into_iter()
            .find(|s| s.id == snap)
            .ok_or_else(missing)?;
        Ok((d, ds, s))
    }

    /// Attaches by adding the disk's file to the VM (for a vCenter without
    /// `AttachDisk_Task`).
    async fn attach_by_reconfig(&self, server: &str, d: &VStorageObject, ds: &Mor) -> Result<Mor> {
        let devs = self.inner.device_vm(server).await?;
        let (controller, unit, mut changes) = scsi_slot(&devs, &format!("server {server}"))?;
        let file = d.file_path.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("disk {} has no backing file path", d.id),
            )
        })?;
        let mut b = Backing::empty("VirtualDiskFlatVer2BackingInfo");
        b.file_name = Some(file);
        b.datastore = Some(ds.clone());
        b.disk_mode = Some("persistent");
        let mut dev = Device::new("VirtualDisk", -101);
        dev.backing = Some(b);
        dev.controller_key = Some(controller);
        dev.unit_number = Some(unit);
        dev.capacity_in_kb = Some(d.capacity_mb.saturating_mul(1024));
        changes.push(DeviceChange {
            operation: "add",
            file_operation: None,
            device: dev,
        });
        let spec = ConfigSpec {
            device_change: changes,
            ..ConfigSpec::default()
        };
        reconfig_vm_task(&self.inner.session, &vm(server), &spec).await
    }
}

#[async_trait]
impl Storage for VsphereProvider {
    fn list_volumes(&self, options: ListOptions) -> ItemStream<Volume> {
        let inner = self.inner.clone();
        // The next page's round trip overlaps the consumer's work on this one.
        paginate_prefetch(
            move |token| {
                let inner = inner.clone();
                let options = options.clone();
                async move { inner.volume_page(&options, token).await }
            },
            None,
        )
    }

    async fn list_volumes_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        self.inner.volume_page(options, page).await
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume> {
        self.inner.get_volume(id.as_str()).await
    }

    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>> {
        let inner = &self.inner;
        if spec.name.trim().is_empty() {
            return Err(Error::invalid_input("a volume needs a name"));
        }
        if spec.size_gib == 0 {
            return Err(Error::invalid_input("a volume needs at least 1 GiB"));
        }
        if !spec.metadata.is_empty() {
            return Err(Error::invalid_input(
                "first-class disks carry no metadata in hybrid-vsphere: create the volume without it",
            ));
        }
        if let Some(snap) = &spec.snapshot_id {
            let (d, ds, s) = self.find_snapshot(snap).await?;
            let t =
                vslm::create_disk_from_snapshot_task(&inner.session, &d.id, &ds, &s.id, &spec.name)
                    .await?;
            return Ok(task::operation(
                inner.clone(),
                format!("create volume {} from snapshot {snap}", spec.name),
                t,
                then_created_volume("CreateDiskFromSnapshot_Task"),
            ));
        }
        let provisioning = match spec.volume_type.as_deref() {
            None => "thin".to_owned(),
            Some(t) => PROVISIONING_TYPES
                .iter()
                .find(|p| p.eq_ignore_ascii_case(t))
                .map(|p| (*p).to_owned())
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "volume_type {t:?} is not a provisioning type ({})",
                        PROVISIONING_TYPES.join(", ")
                    ))
                })?,
        };
        let facts = inner.facts();
        let datastore = match &spec.availability_zone {
            Some(want) => facts
                .datastores
                .iter()
                .find(|(id, name)| *name == want || *id == want)
                .map(|(id, _)| Mor::new("Datastore", id))
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "no datastore named {want:?} (a volume's availability zone is its datastore)"
                    ))
                })?,
            None => facts
                .datastore
                .as_ref()
                .map(|(m, _)| m.clone())
                .ok_or_else(|| Error::config("no datastore for new volumes: set GOVC_DATASTORE"))?,
        };
        let create = VslmCreateSpec {
            name: spec.name.clone(),
            keep_after_delete_vm: true,
            backing_spec: DiskFileBackingSpec {
                xsi_type: "VslmCreateSpecDiskFileBackingSpec",
                datastore,
                provisioning_type: Some(provisioning),
            },
            capacity_in_mb: spec.size_gib.saturating_mul(1024),
        };
        let t = vslm::create_disk_task(&inner.session, &create).await?;
        Ok(task::operation(
            inner.clone(),
            format!("create volume {}", spec.name),
            t,
            then_created_volume("CreateDisk_Task"),
        ))
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>> {
        let inner = &self.inner;
        let (d, ds) = inner.disk(id.as_str()).await?;
        let uses = inner.disk_uses(std::slice::from_ref(&d)).await?;
        if let Some(u) = uses.get(&d.id).and_then(|u| u.first()) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "volume {id} is attached to server {}: detach it first",
                    u.vm
                ),
            )
            .with_resource(id.as_str()));
        }
        let t = vslm::delete_vstorage_object_task(&inner.session, &d.id, &ds).await?;
        let disk = d.id.clone();
        let then: Then<()> = Box::new(move |inner: Arc<Inner>, _| {
            Box::pin(async move {
                inner.forget_disk(&disk);
                Ok(Step::Done(()))
            })
        });
        Ok(
            task::operation(inner.clone(), format!("delete volume {id}"), t, then)
                .with_resource(id.as_str()),
        )
    }

    async fn extend_volume(&self, id: &VolumeId, new_size_gib: u64) -> Result<Operation<Volume>> {
        let inner = &self.inner;
        let (d, ds) = inner.disk(id.as_str()).await?;
        if new_size_gib <= gib(d.capacity_mb) {
            return Err(Error::invalid_input(format!(
                "volume {id} is {} GiB: a new size must be larger",
                gib(d.capacity_mb)
            )));
        }
        let t = vslm::extend_disk_task(
            &inner.session,
            &d.id,
            &ds,
            new_size_gib.saturating_mul(1024),
        )
        .await?;
        Ok(task::operation(
            inner.clone(),
            format!("extend volume {id} to {new_size_gib} GiB"),
            t,
            then_volume(d.id.clone()),
        )
        .with_resource(id.as_str()))
    }

    async fn attach_volume(
        &self,
        volume: &VolumeId,
        server: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        if let Some(d) = device {
            return Err(Error::invalid_input(format!(
                "vSphere picks the controller slot of an attached disk; a device name ({d:?}) cannot be requested"
            )));
        }
        let inner = &self.inner;
        let (d, ds) = inner.disk(volume.as_str()).await?;
        inner.vm_object(server.as_str(), false).await?;
        let uses = inner.disk_uses(std::slice::from_ref(&d)).await?;
        if let Some(u) = uses.get(&d.id).and_then(|u| u.first()) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("volume {volume} is already attached to server {}", u.vm),
            )
            .with_resource(volume.as_str()));
        }
        let t = match vslm::attach_disk_task(&inner.session, &vm(server.as_str()), &d.id, &ds).await
        {
            Ok(t) => t,
            Err(e) if is_method_not_found(&e) => {
                tracing::info!(target: "hybrid_vsphere", "AttachDisk_Task is not available: attaching the disk's file with ReconfigVM_Task");
                self.attach_by_reconfig(server.as_str(), &d, &ds).await?
            }
            Err(e) => return Err(e),
        };
        let (disk, vm_id) = (d.id.clone(), server.as_str().to_owned());
        let then: Then<Attachment> = Box::new(move |inner: Arc<Inner>, _| {
            Box::pin(async move {
                let (d, _) = inner.disk(&disk).await?;
                let uses = inner.disk_uses(std::slice::from_ref(&d)).await?;
                let u = uses
                    .get(&d.id)
                    .and_then(|u| u.iter().find(|u| u.vm == vm_id))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::OperationFailed,
                            format!(
                                "volume {disk} is not attached to server {vm_id} after the task"
                            ),
                        )
                    })?;
                Ok(Step::Done(Attachment {
                    id: None,
                    volume_id: VolumeId::new(&disk),
                    server_id: ServerId::new(&vm_id),
                    device: Some(u.label.clone()).filter(|l| !l.is_empty()),
                }))
            })
        });
        Ok(task::operation(
            inner.clone(),
            format!("attach volume {volume} to server {server}"),
            t,
            then,
        )
        .with_resource(volume.as_str()))
    }

    async fn detach_volume(&self, volume: &VolumeId, server: &ServerId) -> Result<Operation<()>> {
        let inner = &self.inner;
        let (d, _) = inner.disk(volume.as_str()).await?;
        let uses = inner.disk_uses(std::slice::from_ref(&d)).await?;
        let u = uses
            .get(&d.id)
            .and_then(|u| u.iter().find(|u| u.vm == server.as_str()))
            .ok_or_else(|| {
                Error::not_found(format!("volume {volume} attached to server {server}"))
                    .with_resource(volume.as_str())
            })?
            .clone();
        let t = match vslm::detach_disk_task(&inner.session, &vm(server.as_str()), &d.id).await {
            Ok(t) => t,
            Err(e) if is_method_not_found(&e) => {
                tracing::info!(target: "hybrid_vsphere", "DetachDisk_Task is not available: removing the disk from the VM with ReconfigVM_Task");
                let spec = ConfigSpec {
                    device_change: vec![DeviceChange {
                        operation: "remove",
                        file_operation: None,
                        device: Device::new("VirtualDisk", u.key),
                    }],
                    ..ConfigSpec::default()
                };
                reconfig_vm_task(&inner.session, &vm(server.as_str()), &spec).await?
            }
            Err(e) => return Err(e),
        };
        Ok(task::operation(
            inner.clone(),
            format!("detach volume {volume} from server {server}"),
            t,
            task::done_unit(),
        )
        .with_resource(volume.as_str()))
    }

    fn list_snapshots(&self, options: ListOptions) -> ItemStream<Snapshot> {
        let inner = self.inner.clone();
        // The next page's round trip overlaps the consumer's work on this one.
        paginate_prefetch(
            move |token| {
                let inner = inner.clone();
                let options = options.clone();
                async move { inner.snapshot_page(&options, token).await }
            },
            None,
        )
    }

    async fn list_snapshots_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        self.inner.snapshot_page(options, page).await
    }

    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        let (d, _, s) = self.find_snapshot(id).await?;
        Ok(snapshot(&d, &s))
    }

    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        let inner = &self.inner;
        if spec.name.trim().is_empty() {
            return Err(Error::invalid_input("a snapshot needs a name"));
        }
        let (d, ds) = inner.disk(spec.volume_id.as_str()).await?;
        if !spec.force {
            let uses = inner.disk_uses(std::slice::from_ref(&d)).await?;
            if let Some(u) = uses.get(&d.id).and_then(|u| u.first()) {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "volume {} is attached to server {}: set force to snapshot it anyway (crash-consistent)",
                        spec.volume_id, u.vm
                    ),
                ));
            }
        }
        let t = vslm::create_snapshot_task(&inner.session, &d.id, &ds, &spec.name).await?;
        let (disk, name) = (d.clone(), spec.name.clone());
        let then: Then<Snapshot> = Box::new(move |_inner: Arc<Inner>, result| {
            Box::pin(async move {
                const M: &str = "VStorageObjectCreateSnapshot_Task";
                let node = result.ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("{M} returned no snapshot id"),
                    )
                })?;
                let id = node
                    .req_text("id")
                    .map_err(|e| shape_error(M, e))?
                    .trim()
                    .to_owned();
                let s = DiskSnapshot {
                    id,
                    create_time: None,
                    description: name,
                };
                Ok(Step::Done(snapshot(&disk, &s)))
            })
        });
        Ok(task::operation(
            inner.clone(),
            format!("snapshot volume {}", spec.volume_id),
            t,
            then,
        )
        .with_resource(spec.volume_id.as_str()))
    }

    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>> {
        let (d, ds, s) = self.find_snapshot(id).await?;
        let t = vslm::delete_snapshot_task(&self.inner.session, &d.id, &ds, &s.id).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("delete snapshot {id}"),
            t,
            task::done_unit(),
        )
        .with_resource(id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ids_and_sizes() {
        assert_eq!(parse_snapshot_id("d-1:s-2"), Some(("d-1", "s-2")));
        assert_eq!(parse_snapshot_id("no-colon"), None);
        assert_eq!(parse_snapshot_id(":s"), None);
        assert_eq!(parse_snapshot_id("a:b:c"), None);
        assert_eq!(gib(1024), 1);
        assert_eq!(gib(1025), 2);
        assert_eq!(gib(0), 0);
    }

    #[test]
    fn method_not_found_is_recognized() {
        let fault = crate::protocol::types::MethodFault {
            kind: "MethodNotFound".into(),
            message: String::new(),
            detail: crate::protocol::xml::Node::default(),
        };
        let e = crate::error::fault_error("AttachDisk_Task", &fault, "");
        assert!(is_method_not_found(&e));
        let other = Error::new(ErrorKind::Unsupported, "x");
        assert!(!is_method_not_found(&other));
    }
}
