//! Microsoft.Compute calls: virtual machines, VM sizes, SSH public keys.

use hybrid_core::model::RawJson;
use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::{Method, Url};
use serde_json::Value;

use super::versions::{SSH_PUBLIC_KEYS, VIRTUAL_MACHINES, VM_SIZES};
use super::{begin, get, group_url, page, page_raw, sub_url};
use crate::client::{ArmClient, RawPage};
use crate::ids::ResourceId;
use crate::lro::Lro;

const NS: &str = "Microsoft.Compute";

/// `GET …/virtualMachines/{vm}[?$expand=instanceView]` (VirtualMachines_Get).
///
/// # Errors
/// `NotFound` when there is no such VM; as [`ArmClient::execute`].
pub async fn get_vm(arm: &ArmClient, vm: &ResourceId, instance_view: bool) -> Result<Value> {
    if !instance_view {
        return get(arm, vm, VIRTUAL_MACHINES, "get_server").await;
    }
    let mut url = arm.resource_url(vm, VIRTUAL_MACHINES);
    url.query_pairs_mut().append_pair("$expand", "instanceView");
    arm.get_value(url, "get_server").await
}

/// `GET …/virtualMachines/{vm}/instanceView` (VirtualMachines_InstanceView).
///
/// # Errors
/// `NotFound` when there is no such VM; as [`ArmClient::execute`].
pub async fn get_instance_view(arm: &ArmClient, vm: &ResourceId) -> Result<Value> {
    let url = sub_url(arm, vm, "instanceView", VIRTUAL_MACHINES);
    arm.get_value(url, "get_instance_view").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines`
/// (VirtualMachines_List), with `$expand=instanceView` when `instance_view`; or the page
/// at `next` (ARM's `nextLink`, which carries the query of the first request). Each VM
/// is kept as its JSON text.
///
/// `$expand=instanceView` is a parameter of VirtualMachines_List since `api-version`
/// 2023-03-01 (here [`VIRTUAL_MACHINES`]): each VM then carries
/// `properties.instanceView` (its power state), and the listing needs no
/// instance-view read per VM. The specification says the expansion "can only be
/// specified if a valid $filter option is specified" (the only `$filter` is a scale
/// set); a VM the answer leaves without an instance view is read with
/// [`get_instance_view`] by the provider, and a `400` to the expansion makes it list
/// without it.
///
/// # Errors
/// As [`ArmClient::list_page_raw`].
pub async fn list_vms(
    arm: &ArmClient,
    instance_view: bool,
    next: Option<Url>,
) -> Result<RawPage<RawJson>> {
    let mut first = group_url(arm, NS, "virtualMachines", VIRTUAL_MACHINES);
    if instance_view {
        first
            .query_pairs_mut()
            .append_pair("$expand", "instanceView");
    }
    page_raw(arm, first, next, "list_servers").await
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/virtualMachines`
/// (VirtualMachines_ListAll: the whole subscription), with `$expand=instanceView` when
/// `instance_view` (as for [`list_vms`]); or the page at `next`. Each VM is kept as its
/// JSON text.
///
/// # Errors
/// As [`ArmClient::list_page_raw`].
pub async fn list_all_vms(
    arm: &ArmClient,
    instance_view: bool,
    next: Option<Url>,
) -> Result<RawPage<RawJson>> {
    let s = arm.scope().subscription_id.clone();
    let mut first = arm.url(
        &["subscriptions", &s, "providers", NS, "virtualMachines"],
        VIRTUAL_MACHINES,
    );
    if instance_view {
        first
            .query_pairs_mut()
            .append_pair("$expand", "instanceView");
    }
    page_raw(arm, first, next, "list_servers").await
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{location}/virtualMachines`
/// (VirtualMachines_ListByLocation), or the page at `next`. Each VM is kept as its JSON
/// text. This call has no `$expand`: its VMs come without instance views.
///
/// # Errors
/// As [`ArmClient::list_page_raw`].
pub async fn list_vms_by_location(
    arm: &ArmClient,
    location: &str,
    next: Option<Url>,
) -> Result<RawPage<RawJson>> {
    let s = arm.scope().subscription_id.clone();
    let first = arm.url(
        &[
            "subscriptions",
            &s,
            "providers",
            NS,
            "locations",
            location,
            "virtualMachines",
        ],
        VIRTUAL_MACHINES,
    );
    page_raw(arm, first, next, "list_servers").await
}

/// `PUT …/virtualMachines/{vm}` (VirtualMachines_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// As [`ArmClient::execute`] and [`Lro::start`].
pub async fn create_or_update_vm(arm: &ArmClient, vm: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        vm,
        VIRTUAL_MACHINES,
        body,
        "create_server",
        format!("create server {}", vm.name()),
    )
    .await
}

/// `PATCH …/virtualMachines/{vm}` (VirtualMachines_Update), with `If-Match: etag`
/// when given, followed as an LRO.
///
/// # Errors
/// `Conflict` when the etag no longer matches; as [`ArmClient::execute`].
pub async fn update_vm(
    arm: &ArmClient,
    vm: &ResourceId,
    patch: &Value,
    etag: Option<&str>,
    op: &str,
) -> Result<Lro> {
    let url = arm.resource_url(vm, VIRTUAL_MACHINES);
    let what = format!("update server {}", vm.name());
    match etag {
        None => begin(arm, Method::PATCH, url, Some(patch), op, what, Some(false)).await,
        Some(tag) => {
            let resp = arm
                .execute_with(
                    Method::PATCH,
                    url.clone(),
                    Some(patch),
                    op,
                    Some(true),
                    &[("if-match", tag)],
                )
                .await?;
            Lro::start(arm, Method::PATCH, url, resp, what).map_err(|e| e.with_operation(op))
        }
    }
}

/// `DELETE …/virtualMachines/{vm}` (VirtualMachines_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn delete_vm(arm: &ArmClient, vm: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        vm,
        VIRTUAL_MACHINES,
        "delete_server",
        format!("delete server {}", vm.name()),
    )
    .await
}

/// A VM power action (`start`, `powerOff`, `deallocate`, `restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmAction {
    /// `POST …/start` (VirtualMachines_Start).
    Start,
    /// `POST …/powerOff` (VirtualMachines_PowerOff): stopped, still allocated.
    PowerOff,
    /// `POST …/deallocate` (VirtualMachines_Deallocate): stopped and released.
    Deallocate,
    /// `POST …/restart` (VirtualMachines_Restart).
    Restart,
}

impl VmAction {
    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            VmAction::Start => "start",
            VmAction::PowerOff => "powerOff",
            VmAction::Deallocate => "deallocate",
            VmAction::Restart => "restart",
        }
    }

    fn operation(self) -> &'static str {
        match self {
            VmAction::Start => "start_server",
            VmAction::PowerOff | VmAction::Deallocate => "stop_server",
            VmAction::Restart => "reboot_server",
        }
    }
}

/// `POST …/virtualMachines/{vm}/{action}`, followed as an LRO. Start, power-off and
/// deallocate converge on a state and are retried like idempotent requests; restart is
/// sent once.
///
/// # Errors
/// `NotFound`, `Conflict`; as [`ArmClient::execute`].
pub async fn vm_action(arm: &ArmClient, vm: &ResourceId, action: VmAction) -> Result<Lro> {
    let url = sub_url(arm, vm, action.segment(), VIRTUAL_MACHINES);
    let idempotent = action != VmAction::Restart;
    begin(
        arm,
        Method::POST,
        url,
        None,
        action.operation(),
        format!("{} server {}", action.segment(), vm.name()),
        Some(idempotent),
    )
    .await
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{location}/vmSizes`
/// (VirtualMachineSizes_List): every size of the location (one unpaged list).
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_vm_sizes(arm: &ArmClient, location: &str) -> Result<Vec<Value>> {
    let s = arm.scope().subscription_id.clone();
    let url = arm.url(
        &[
            "subscriptions",
            &s,
            "providers",
            NS,
            "locations",
            location,
            "vmSizes",
        ],
        VM_SIZES,
    );
    arm.list_all(url, "list_flavors").await
}

/// `GET …/virtualMachines/{vm}/vmSizes` (VirtualMachines_ListAvailableSizes): the sizes
/// the VM can be resized to.
///
/// # Errors
/// `NotFound`; as [`ArmClient::list_page`].
pub async fn list_vm_available_sizes(arm: &ArmClient, vm: &ResourceId) -> Result<Vec<Value>> {
    let url = sub_url(arm, vm, "vmSizes", VIRTUAL_MACHINES);
    arm.list_all(url, "list_available_sizes").await
}

/// `GET …/sshPublicKeys/{name}` (SshPublicKeys_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_ssh_key(arm: &ArmClient, key: &ResourceId) -> Result<Value> {
    get(arm, key, SSH_PUBLIC_KEYS, "get_key_pair").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/sshPublicKeys`
/// (SshPublicKeys_ListByResourceGroup), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_ssh_keys(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    let first = group_url(arm, NS, "sshPublicKeys", SSH_PUBLIC_KEYS);
    page(arm, first, next, "list_key_pairs").await
}

/// `PUT …/sshPublicKeys/{name}` (SshPublicKeys_Create) with `body`
/// (`{"location", "properties": {"publicKey"}}`); answered at once (200/201).
///
/// # Errors
/// `InvalidInput` for a key ARM refuses; as [`ArmClient::execute`].
pub async fn create_ssh_key(arm: &ArmClient, key: &ResourceId, body: &Value) -> Result<Value> {
    let resp = arm
        .execute(
            Method::PUT,
            arm.resource_url(key, SSH_PUBLIC_KEYS),
            Some(body),
            "create_key_pair",
            None,
        )
        .await?;
    resp.value()
}

/// `DELETE …/sshPublicKeys/{name}` (SshPublicKeys_Delete); ARM answers `204` when
/// there is nothing to delete, which is `NotFound` here.
///
/// # Errors
/// `NotFound` when there was no such key; as [`ArmClient::execute`].
pub async fn delete_ssh_key(arm: &ArmClient, key: &ResourceId) -> Result<()> {
    let resp = arm
        .execute(
            Method::DELETE,
            arm.resource_url(key, SSH_PUBLIC_KEYS),
            None,
            "delete_key_pair",
            None,
        )
        .await?;
    if resp.status == 204 {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("key pair {} not found", key.name()),
        )
        .with_http_status(204)
        .with_operation("delete_key_pair"));
    }
    Ok(())
}
