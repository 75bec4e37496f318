//! Storage: managed disks, their attachment through a VM's data disks, snapshots.

use async_trait::async_trait;
use hybrid_core::model::*;
use hybrid_core::provider::{ItemStream, Storage};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, Result};
use serde_json::{json, Value};

use super::{check_filters, check_name, ensure_absent, make_page, sliced, AzureProvider, Cursor};
use crate::api;
use crate::client::decode;
use crate::ids::{self, same_id, ResourceId};
use crate::lro;
use crate::protocol::common::{arm_tags, Tags};
use crate::protocol::compute::{data_disk_ids, VirtualMachine};
use crate::protocol::disks::{snapshot_from, volume_from, Disk};

/// Parses a device given for an attachment: a LUN, `lun3` or `lun:3`.
fn parse_lun(device: &str) -> Result<u32> {
    let d = device.trim().to_ascii_lowercase();
    let n = d.trim_start_matches("lun").trim_start_matches(':');
    n.parse::<u32>().ok().filter(|l| *l <= 63).ok_or_else(|| {
        Error::invalid_input(format!(
            "{device:?} is not an Azure data disk slot: give a LUN from 0 to 63 (like 3 or lun3)"
        ))
    })
}

impl AzureProvider {
    fn disk_id(&self, id: &VolumeId) -> Result<ResourceId> {
        ids::resolve_id(id.as_str(), ids::DISK, self.scope())
    }

    async fn volumes_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        check_filters(options, &[], "volumes")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::disks::list_disks(&arm, n).await
        })
        .await?;
        make_page(items, next, volume_from, |v| options.matches(&v.name, &[]))
    }

    async fn snapshots_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        check_filters(options, &[], "snapshots")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::disks::list_snapshots(&arm, n).await
        })
        .await?;
        make_page(items, next, snapshot_from, |s| {
            options.matches(&s.name, &[])
        })
    }

    fn volume_operation(&self, what: String, id: &ResourceId, lro: lro::Lro) -> Operation<Volume> {
        self.resource_operation(
            what,
            id,
            lro,
            |arm, id| async move { api::disks::get_disk(&arm, &id).await },
            volume_from,
        )
    }
}

#[async_trait]
impl Storage for AzureProvider {
    fn list_volumes(&self, options: ListOptions) -> ItemStream<Volume> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.volumes_page(&o, t).await }
        })
    }

    async fn list_volumes_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        self.volumes_page(options, page).await
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume> {
        let rid = self.disk_id(id)?;
        volume_from(api::disks::get_disk(self.arm_client(), &rid).await?)
    }

    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>> {
        check_name(&spec.name, "managed disk")?;
        if spec.size_gib == 0 {
            return Err(Error::invalid_input(
                "a volume needs a size of at least 1 GiB",
            ));
        }
        let tags = arm_tags(&[], &spec.metadata, &Tags::new())?;
        let creation = match &spec.snapshot_id {
            Some(s) => {
                let sid = ids::resolve_id(s.as_str(), ids::SNAPSHOT, self.scope())?;
                json!({"createOption": "Copy", "sourceResourceId": sid.to_string()})
            }
            None => json!({"createOption": "Empty"}),
        };
        let arm = self.arm_client();
        let id = arm.group_id("Microsoft.Compute", &[("disks", &spec.name)])?;
        ensure_absent(
            api::disks::get_disk(arm, &id),
            format!("volume {}", spec.name),
        )
        .await?;
        let sku = spec
            .volume_type
            .clone()
            .unwrap_or_else(|| self.inner.settings.disk_sku.clone());
        let mut body = json!({
            "location": self.scope().location,
            "sku": {"name": sku},
            "properties": {"creationData": creation, "diskSizeGB": spec.size_gib},
        });
        if !tags.is_empty() {
            body["tags"] = json!(tags);
        }
        if let Some(z) = &spec.availability_zone {
            body["zones"] = json!([z]);
        }
        let lro = api::disks::create_disk(arm, &id, &body).await?;
        Ok(self.volume_operation(format!("create volume {}", spec.name), &id, lro))
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>> {
        let rid = self.disk_id(id)?;
        let lro = api::disks::delete_disk(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete volume {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    async fn extend_volume(&self, id: &VolumeId, new_size_gib: u64) -> Result<Operation<Volume>> {
        let rid = self.disk_id(id)?;
        let arm = self.arm_client();
        let doc = api::disks::get_disk(arm, &rid).await?;
        let disk: Disk = decode(&doc, "a managed disk")?;
        let current = disk.properties.disk_size_gb.unwrap_or(0);
        if new_size_gib <= current {
            return Err(Error::invalid_input(format!(
                "volume {} is {current} GiB; a managed disk only grows (asked for {new_size_gib} GiB)",
                rid.name()
            )));
        }
        let patch = json!({"properties": {"diskSizeGB": new_size_gib}});
        let lro = api::disks::update_disk(arm, &rid, &patch, "extend_volume").await?;
        Ok(self.volume_operation(
            format!("extend volume {} to {new_size_gib} GiB", rid.name()),
            &rid,
            lro,
        ))
    }

    async fn attach_volume(
        &self,
        volume: &VolumeId,
        server: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        let disk_id = self.disk_id(volume)?;
        let vm_id = self.vm_id(server)?;
        let lun_wanted = device.map(parse_lun).transpose()?;
        let arm = self.arm_client();
        let ddoc = api::disks::get_disk(arm, &disk_id).await?;
        let disk: Disk = decode(&ddoc, "a managed disk")?;
        if let Some(owner) = &disk.managed_by {
            let msg = if same_id(owner, &vm_id.to_string()) {
                format!(
                    "volume {} is attached to server {} already",
                    disk.name,
                    vm_id.name()
                )
            } else {
                format!(
                    "volume {} is attached to another server ({owner})",
                    disk.name
                )
            };
            return Err(Error::new(ErrorKind::Conflict, msg));
        }
        let vdoc = api::compute::get_vm(arm, &vm_id, false).await?;
        let vm: VirtualMachine = decode(&vdoc, "a virtual machine")?;
        let used: Vec<u32> = vm
            .properties
            .storage_profile
            .data_disks
            .iter()
            .map(|d| d.lun)
            .collect();
        let lun = match lun_wanted {
            Some(l) if used.contains(&l) => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("LUN {l} of server {} is taken", vm_id.name()),
                ))
            }
            Some(l) => l,
            None => (0..=63u32).find(|l| !used.contains(l)).ok_or_else(|| {
                Error::new(
                    ErrorKind::QuotaExceeded,
                    format!("server {} has no free LUN", vm_id.name()),
                )
            })?,
        };
        let mut disks: Vec<Value> = vdoc
            .pointer("/properties/storageProfile/dataDisks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        disks.push(json!({"lun": lun, "createOption": "Attach", "managedDisk": {"id": disk.id}}));
        let patch = json!({"properties": {"storageProfile": {"dataDisks": disks}}});
        let lro = api::compute::update_vm(arm, &vm_id, &patch, vm.etag.as_deref(), "attach_volume")
            .await?;
        let attachment = Attachment {
            id: None,
            volume_id: VolumeId::new(&disk.id),
            server_id: ServerId::new(&vm.id),
            device: Some(format!("lun{lun}")),
        };
        Ok(lro::operation(
            format!("attach volume {} to server {}", disk.name, vm.name),
            disk.id.clone(),
            lro,
            move |_| {
                let a = attachment.clone();
                async move { Ok(a) }
            },
        )
        .with_options(self.inner.wait))
    }

    async fn detach_volume(&self, volume: &VolumeId, server: &ServerId) -> Result<Operation<()>> {
        let disk_id = self.disk_id(volume)?;
        let vm_id = self.vm_id(server)?;
        let arm = self.arm_client();
        let vdoc = api::compute::get_vm(arm, &vm_id, false).await?;
        let vm: VirtualMachine = decode(&vdoc, "a virtual machine")?;
        let target = disk_id.to_string();
        if !data_disk_ids(&vm)
            .iter()
            .any(|(_, id)| same_id(id, &target))
        {
            return Err(Error::not_found(format!(
                "attachment of volume {} to server {}",
                disk_id.name(),
                vm_id.name()
            )));
        }
        let disks: Vec<Value> = vdoc
            .pointer("/properties/storageProfile/dataDisks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| {
                !d.pointer("/managedDisk/id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| same_id(id, &target))
            })
            .collect();
        let patch = json!({"properties": {"storageProfile": {"dataDisks": disks}}});
        let lro = api::compute::update_vm(arm, &vm_id, &patch, vm.etag.as_deref(), "detach_volume")
            .await?;
        Ok(lro::operation_unit(
            format!("detach volume {} from server {}", disk_id.name(), vm.name),
            target,
            lro,
        )
        .with_options(self.inner.wait))
    }

    fn list_snapshots(&self, options: ListOptions) -> ItemStream<Snapshot> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.snapshots_page(&o, t).await }
        })
    }

    async fn list_snapshots_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        self.snapshots_page(options, page).await
    }

    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        let rid = ids::resolve_id(id.as_str(), ids::SNAPSHOT, self.scope())?;
        snapshot_from(api::disks::get_snapshot(self.arm_client(), &rid).await?)
    }

    /// Azure snapshots an attached disk too (crash-consistent); without `force` that is
    /// refused with `Conflict`, as on every provider.
    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        check_name(&spec.name, "snapshot")?;
        let disk_id = self.disk_id(&spec.volume_id)?;
        let arm = self.arm_client();
        let ddoc = api::disks::get_disk(arm, &disk_id).await?;
        let disk: Disk = decode(&ddoc, "a managed disk")?;
        if disk.managed_by.is_some() && !spec.force {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("volume {} is attached; snapshot it with force", disk.name),
            ));
        }
        let id = arm.group_id("Microsoft.Compute", &[("snapshots", &spec.name)])?;
        ensure_absent(
            api::disks::get_snapshot(arm, &id),
            format!("snapshot {}", spec.name),
        )
        .await?;
        let body = json!({
            "location": disk.location.clone().unwrap_or_else(|| self.scope().location.clone()),
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk.id}},
        });
        let lro = api::disks::create_snapshot(arm, &id, &body).await?;
        Ok(self.resource_operation(
            format!("create snapshot {}", spec.name),
            &id,
            lro,
            |arm, id| async move { api::disks::get_snapshot(&arm, &id).await },
            snapshot_from,
        ))
    }

    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::SNAPSHOT, self.scope())?;
        let lro = api::disks::delete_snapshot(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete snapshot {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luns() {
        assert_eq!(parse_lun("3").unwrap(), 3);
        assert_eq!(parse_lun("lun12").unwrap(), 12);
        assert_eq!(parse_lun("LUN:0").unwrap(), 0);
        assert!(parse_lun("/dev/sdb").is_err());
        assert!(parse_lun("64").is_err());
    }
}
