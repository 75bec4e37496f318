//! The JSON document of a virtual machine, serialized straight from borrowed state
//! (no intermediate `Value` tree): list pages of 1000 VMs are the fake's hot path.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::util::arm_time;
use crate::world::{Vm, VmDisk, World};

const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";

/// A VM as ARM renders it.
#[derive(Serialize)]
pub(crate) struct VmDoc<'a> {
    name: &'a str,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    zones: &'a [String],
    properties: Props<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Props<'a> {
    vm_id: &'a str,
    hardware_profile: Hardware<'a>,
    storage_profile: Storage<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_profile: Option<OsProfileDoc<'a>>,
    network_profile: Network<'a>,
    provisioning_state: &'static str,
    time_created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_view: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hardware<'a> {
    vm_size: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Storage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    image_reference: Option<&'a Value>,
    os_disk: DiskDoc<'a>,
    data_disks: Vec<DiskDoc<'a>>,
    disk_controller_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiskDoc<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    lun: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_type: Option<&'a str>,
    name: &'a str,
    create_option: &'a str,
    caching: &'a str,
    managed_disk: ManagedDisk<'a>,
    delete_option: &'a str,
    #[serde(rename = "diskSizeGB")]
    disk_size_gb: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_be_detached: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedDisk<'a> {
    storage_account_type: &'a str,
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OsProfileDoc<'a> {
    computer_name: &'a str,
    admin_username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    linux_configuration: Option<Linux<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_configuration: Option<Windows>,
    secrets: [(); 0],
    allow_extension_operations: bool,
    require_guest_provision_signal: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Linux<'a> {
    disable_password_authentication: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh: Option<Ssh<'a>>,
    #[serde(rename = "provisionVMAgent")]
    provision_vm_agent: bool,
    patch_settings: Patch,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Windows {
    #[serde(rename = "provisionVMAgent")]
    provision_vm_agent: bool,
    enable_automatic_updates: bool,
    patch_settings: Patch,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Patch {
    patch_mode: &'static str,
    assessment_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ssh<'a> {
    public_keys: Vec<SshKeyDoc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshKeyDoc<'a> {
    path: &'a str,
    key_data: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Network<'a> {
    network_interfaces: Vec<NicRef<'a>>,
}

#[derive(Serialize)]
struct NicRef<'a> {
    id: String,
    properties: NicRefProps<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NicRefProps<'a> {
    primary: bool,
    delete_option: &'a str,
}

fn disk<'a>(w: &World, d: &'a VmDisk, os_type: Option<&'a str>) -> DiskDoc<'a> {
    DiskDoc {
        lun: d.lun,
        os_type,
        name: &d.name,
        create_option: d.create_option,
        caching: d.caching,
        managed_disk: ManagedDisk {
            storage_account_type: d.storage,
            id: w.rid(&d.rg, "Microsoft.Compute/disks", &d.name),
        },
        delete_option: d.delete_option,
        disk_size_gb: d.size_gb,
        to_be_detached: d.lun.map(|_| false),
    }
}

/// The document of `vm`, optionally with its instance view and user data.
pub(crate) fn vm_doc<'a>(
    w: &'a World,
    vm: &'a Vm,
    with_instance_view: bool,
    with_user_data: bool,
) -> VmDoc<'a> {
    let os_profile = match (&vm.os_profile, &vm.computer_name) {
        (Some(os), Some(cn)) => Some(OsProfileDoc {
            computer_name: cn,
            admin_username: &os.admin_username,
            linux_configuration: os.linux.then(|| Linux {
                disable_password_authentication: os.disable_password,
                ssh: (!os.ssh_keys.is_empty()).then(|| Ssh {
                    public_keys: os
                        .ssh_keys
                        .iter()
                        .map(|(path, data)| SshKeyDoc {
                            path,
                            key_data: data,
                        })
                        .collect(),
                }),
                provision_vm_agent: os.provision_agent,
                patch_settings: Patch {
                    patch_mode: "ImageDefault",
                    assessment_mode: "ImageDefault",
                },
            }),
            windows_configuration: (!os.linux).then_some(Windows {
                provision_vm_agent: os.provision_agent,
                enable_automatic_updates: true,
                patch_settings: Patch {
                    patch_mode: "AutomaticByOS",
                    assessment_mode: "ImageDefault",
                },
            }),
            secrets: [],
            allow_extension_operations: true,
            require_guest_provision_signal: true,
        }),
        _ => None,
    };
    VmDoc {
        name: &vm.name,
        id: w.rid(&vm.rg, VM_TYPE, &vm.name),
        kind: VM_TYPE,
        location: &vm.location,
        tags: vm.tags.as_ref(),
        zones: &vm.zones,
        properties: Props {
            vm_id: &vm.vm_id,
            hardware_profile: Hardware { vm_size: &vm.size },
            storage_profile: Storage {
                image_reference: (!vm.image.is_null()).then_some(&*vm.image),
                os_disk: disk(w, &vm.os_disk, Some(vm.os_type)),
                data_disks: vm.data_disks.iter().map(|d| disk(w, d, None)).collect(),
                disk_controller_type: "SCSI",
            },
            os_profile,
            network_profile: Network {
                network_interfaces: vm
                    .nics
                    .iter()
                    .map(|n| NicRef {
                        id: w.rid(&n.rg, "Microsoft.Network/networkInterfaces", &n.name),
                        properties: NicRefProps {
                            primary: n.primary,
                            delete_option: n.delete_option,
                        },
                    })
                    .collect(),
            },
            provisioning_state: vm.prov.as_str(),
            time_created: arm_time(vm.created),
            user_data: vm.user_data.as_deref().filter(|_| with_user_data),
            instance_view: with_instance_view.then(|| crate::compute::instance_view(w, vm)),
        },
    }
}
