//! vim25 request bodies, serialized by quick-xml in WSDL element order (vCenter rejects
//! elements out of sequence). Polymorphic elements carry `xsi:type`.

#![allow(non_snake_case)]

use serde::Serialize;

use super::types::Mor;

/// The vim25 namespace.
pub(crate) const VIM25_NS: &str = "urn:vim25";

/// Wraps a serialized method element in a SOAP 1.1 envelope.
///
/// The method element (with `xmlns="urn:vim25"`) is written by quick-xml; only the
/// constant envelope around it is literal text.
pub(crate) fn envelope<T: Serialize>(method: &str, body: &T) -> Result<String, quick_xml::SeError> {
    let inner = quick_xml::se::to_string_with_root(method, body)?;
    Ok(format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"
        ),
        inner
    ))
}

/// A method with only `_this`.
#[derive(Debug, Serialize)]
pub(crate) struct This<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
}

impl<'a> This<'a> {
    pub(crate) fn new(this: &'a Mor) -> This<'a> {
        This {
            xmlns: VIM25_NS,
            _this: this,
        }
    }
}

/// `SessionManager.Login`. The password is written into the body only; the body is
/// never logged.
#[derive(Serialize)]
pub(crate) struct Login<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) userName: &'a str,
    pub(crate) password: &'a str,
}

impl std::fmt::Debug for Login<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("userName", &self.userName)
            .finish_non_exhaustive()
    }
}

/// `ViewManager.CreateContainerView`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateContainerView<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) container: &'a Mor,
    #[serde(rename = "type")]
    pub(crate) types: Vec<&'a str>,
    pub(crate) recursive: bool,
}

/// `TraversalSpec` (a `SelectionSpec`).
#[derive(Debug, Serialize)]
pub(crate) struct TraversalSpec {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) path: &'static str,
    pub(crate) skip: bool,
}

/// `ObjectSpec`.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectSpec<'a> {
    pub(crate) obj: &'a Mor,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) skip: Option<bool>,
    #[serde(rename = "selectSet", skip_serializing_if = "Vec::is_empty")]
    pub(crate) select_set: Vec<TraversalSpec>,
}

/// `PropertySpec`.
#[derive(Debug, Serialize)]
pub(crate) struct PropertySpec<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    #[serde(rename = "pathSet")]
    pub(crate) path_set: Vec<&'a str>,
}

/// `PropertyFilterSpec`.
#[derive(Debug, Serialize)]
pub(crate) struct PropertyFilterSpec<'a> {
    #[serde(rename = "propSet")]
    pub(crate) prop_set: Vec<PropertySpec<'a>>,
    #[serde(rename = "objectSet")]
    pub(crate) object_set: Vec<ObjectSpec<'a>>,
}

/// `RetrieveOptions`.
#[derive(Debug, Serialize)]
pub(crate) struct RetrieveOptions {
    #[serde(rename = "maxObjects", skip_serializing_if = "Option::is_none")]
    pub(crate) max_objects: Option<u32>,
}

/// `PropertyCollector.RetrievePropertiesEx`.
#[derive(Debug, Serialize)]
pub(crate) struct RetrievePropertiesEx<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    #[serde(rename = "specSet")]
    pub(crate) spec_set: Vec<PropertyFilterSpec<'a>>,
    pub(crate) options: RetrieveOptions,
}

/// `PropertyCollector.ContinueRetrievePropertiesEx` and `CancelRetrievePropertiesEx`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenCall<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) token: &'a str,
}

/// `Description` (a device's label and summary).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Description {
    pub(crate) label: String,
    pub(crate) summary: String,
}

/// `VirtualDeviceConnectInfo`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConnectInfo {
    #[serde(rename = "startConnected")]
    pub(crate) start_connected: bool,
    #[serde(rename = "allowGuestControl")]
    pub(crate) allow_guest_control: bool,
    pub(crate) connected: bool,
}

/// `DistributedVirtualSwitchPortConnection`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PortConnection {
    #[serde(rename = "switchUuid")]
    pub(crate) switch_uuid: String,
    #[serde(rename = "portgroupKey")]
    pub(crate) portgroup_key: String,
}

/// A device backing (`VirtualDeviceBackingInfo` subtypes), fields in WSDL order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Backing {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    /// `VirtualDeviceFileBackingInfo.fileName` (disks).
    #[serde(rename = "fileName", skip_serializing_if = "Option::is_none")]
    pub(crate) file_name: Option<String>,
    /// `VirtualDeviceFileBackingInfo.datastore` (disks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) datastore: Option<Mor>,
    /// `VirtualDeviceDeviceBackingInfo.deviceName` (standard port groups).
    #[serde(rename = "deviceName", skip_serializing_if = "Option::is_none")]
    pub(crate) device_name: Option<String>,
    /// `VirtualDiskFlatVer2BackingInfo.diskMode`.
    #[serde(rename = "diskMode", skip_serializing_if = "Option::is_none")]
    pub(crate) disk_mode: Option<&'static str>,
    /// `VirtualDiskFlatVer2BackingInfo.thinProvisioned`.
    #[serde(rename = "thinProvisioned", skip_serializing_if = "Option::is_none")]
    pub(crate) thin_provisioned: Option<bool>,
    /// `VirtualEthernetCardNetworkBackingInfo.network`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) network: Option<Mor>,
    /// `VirtualEthernetCardDistributedVirtualPortBackingInfo.port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<PortConnection>,
    /// `VirtualEthernetCardOpaqueNetworkBackingInfo.opaqueNetworkId`.
    #[serde(rename = "opaqueNetworkId", skip_serializing_if = "Option::is_none")]
    pub(crate) opaque_network_id: Option<String>,
    /// `VirtualEthernetCardOpaqueNetworkBackingInfo.opaqueNetworkType`.
    #[serde(rename = "opaqueNetworkType", skip_serializing_if = "Option::is_none")]
    pub(crate) opaque_network_type: Option<String>,
}

impl Backing {
    pub(crate) fn empty(xsi_type: &'static str) -> Backing {
        Backing {
            xsi_type,
            file_name: None,
            datastore: None,
            device_name: None,
            disk_mode: None,
            thin_provisioned: None,
            network: None,
            port: None,
            opaque_network_id: None,
            opaque_network_type: None,
        }
    }
}

/// A virtual device (`VirtualDevice` subtypes), fields in WSDL order: the
/// `VirtualDevice` fields, then the subtype's.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Device {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: String,
    pub(crate) key: i32,
    #[serde(rename = "deviceInfo", skip_serializing_if = "Option::is_none")]
    pub(crate) device_info: Option<Description>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backing: Option<Backing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connectable: Option<ConnectInfo>,
    #[serde(rename = "controllerKey", skip_serializing_if = "Option::is_none")]
    pub(crate) controller_key: Option<i32>,
    #[serde(rename = "unitNumber", skip_serializing_if = "Option::is_none")]
    pub(crate) unit_number: Option<i32>,
    /// `VirtualController.busNumber`.
    #[serde(rename = "busNumber", skip_serializing_if = "Option::is_none")]
    pub(crate) bus_number: Option<i32>,
    /// `VirtualSCSIController.sharedBus`.
    #[serde(rename = "sharedBus", skip_serializing_if = "Option::is_none")]
    pub(crate) shared_bus: Option<&'static str>,
    /// `VirtualDisk.capacityInKB`.
    #[serde(rename = "capacityInKB", skip_serializing_if = "Option::is_none")]
    pub(crate) capacity_in_kb: Option<u64>,
    /// `VirtualEthernetCard.addressType`.
    #[serde(rename = "addressType", skip_serializing_if = "Option::is_none")]
    pub(crate) address_type: Option<&'static str>,
}

impl Device {
    pub(crate) fn new(xsi_type: &str, key: i32) -> Device {
        Device {
            xsi_type: xsi_type.to_owned(),
            key,
            device_info: None,
            backing: None,
            connectable: None,
            controller_key: None,
            unit_number: None,
            bus_number: None,
            shared_bus: None,
            capacity_in_kb: None,
            address_type: None,
        }
    }
}

/// `VirtualDeviceConfigSpec`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeviceChange {
    pub(crate) operation: &'static str,
    #[serde(rename = "fileOperation", skip_serializing_if = "Option::is_none")]
    pub(crate) file_operation: Option<&'static str>,
    pub(crate) device: Device,
}

/// `VirtualMachineFileInfo`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileInfo {
    #[serde(rename = "vmPathName")]
    pub(crate) vm_path_name: String,
}

/// `OptionValue` (extraConfig entries).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OptionValue {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    pub(crate) key: String,
    pub(crate) value: OptionString,
}

/// A string `anyType` value.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OptionString {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    #[serde(rename = "$text")]
    pub(crate) text: String,
}

/// `VirtualMachineConfigSpec`, the fields this crate sets, in WSDL order.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ConfigSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(rename = "guestId", skip_serializing_if = "Option::is_none")]
    pub(crate) guest_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) annotation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) files: Option<FileInfo>,
    #[serde(rename = "numCPUs", skip_serializing_if = "Option::is_none")]
    pub(crate) num_cpus: Option<u32>,
    #[serde(rename = "memoryMB", skip_serializing_if = "Option::is_none")]
    pub(crate) memory_mb: Option<u64>,
    #[serde(rename = "deviceChange", skip_serializing_if = "Vec::is_empty")]
    pub(crate) device_change: Vec<DeviceChange>,
    #[serde(rename = "extraConfig", skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_config: Vec<OptionValue>,
}

/// `Folder.CreateVM_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateVm<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) config: &'a ConfigSpec,
    pub(crate) pool: &'a Mor,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<&'a Mor>,
}

/// `VirtualMachineRelocateSpec`, in WSDL order.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct RelocateSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) folder: Option<Mor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) datastore: Option<Mor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pool: Option<Mor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<Mor>,
}

/// `VirtualMachineCloneSpec`, in WSDL order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CloneSpec {
    pub(crate) location: RelocateSpec,
    pub(crate) template: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<ConfigSpec>,
    #[serde(rename = "powerOn")]
    pub(crate) power_on: bool,
}

/// `VirtualMachine.CloneVM_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct CloneVm<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) folder: &'a Mor,
    pub(crate) name: &'a str,
    pub(crate) spec: &'a CloneSpec,
}

/// `VirtualMachine.ReconfigVM_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct ReconfigVm<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) spec: &'a ConfigSpec,
}

/// `VmwareDistributedVirtualSwitchVlanIdSpec`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VlanIdSpec {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    pub(crate) inherited: bool,
    #[serde(rename = "vlanId")]
    pub(crate) vlan_id: u32,
}

/// `VMwareDVSPortSetting` with only the VLAN.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PortSetting {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    pub(crate) vlan: VlanIdSpec,
}

/// `DVPortgroupConfigSpec`, in WSDL order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PortgroupSpec {
    pub(crate) name: String,
    #[serde(rename = "numPorts")]
    pub(crate) num_ports: u32,
    #[serde(rename = "defaultPortConfig")]
    pub(crate) default_port_config: PortSetting,
    pub(crate) description: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

/// `DistributedVirtualSwitch.AddDVPortgroup_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct AddPortgroup<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) spec: Vec<PortgroupSpec>,
}

/// `ID` (a first-class disk or snapshot id): `<id>uuid</id>` inside its element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct VslmId {
    pub(crate) id: String,
}

impl VslmId {
    pub(crate) fn new(id: &str) -> VslmId {
        VslmId { id: id.to_owned() }
    }
}

/// `VslmCreateSpecDiskFileBackingSpec`, in WSDL order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DiskFileBackingSpec {
    #[serde(rename = "@xsi:type")]
    pub(crate) xsi_type: &'static str,
    pub(crate) datastore: Mor,
    #[serde(rename = "provisioningType", skip_serializing_if = "Option::is_none")]
    pub(crate) provisioning_type: Option<String>,
}

/// `VslmCreateSpec`, in WSDL order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VslmCreateSpec {
    pub(crate) name: String,
    #[serde(rename = "keepAfterDeleteVm")]
    pub(crate) keep_after_delete_vm: bool,
    #[serde(rename = "backingSpec")]
    pub(crate) backing_spec: DiskFileBackingSpec,
    #[serde(rename = "capacityInMB")]
    pub(crate) capacity_in_mb: u64,
}

/// `VcenterVStorageObjectManager.CreateDisk_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateDisk<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) spec: &'a VslmCreateSpec,
}

/// `ListVStorageObject` (and any call with only a datastore).
#[derive(Debug, Serialize)]
pub(crate) struct OnDatastore<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) datastore: &'a Mor,
}

/// `RetrieveVStorageObject`, `DeleteVStorageObject_Task`, `RetrieveSnapshotInfo`: a
/// disk id and its datastore.
#[derive(Debug, Serialize)]
pub(crate) struct DiskCall<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) id: VslmId,
    pub(crate) datastore: &'a Mor,
}

/// `ExtendDisk_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct ExtendDisk<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) id: VslmId,
    pub(crate) datastore: &'a Mor,
    #[serde(rename = "newCapacityInMB")]
    pub(crate) new_capacity_in_mb: u64,
}

/// `VStorageObjectCreateSnapshot_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateDiskSnapshot<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) id: VslmId,
    pub(crate) datastore: &'a Mor,
    pub(crate) description: &'a str,
}

/// `DeleteSnapshot_Task` of the VStorageObjectManager.
#[derive(Debug, Serialize)]
pub(crate) struct DeleteDiskSnapshot<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) id: VslmId,
    pub(crate) datastore: &'a Mor,
    #[serde(rename = "snapshotId")]
    pub(crate) snapshot_id: VslmId,
}

/// `CreateDiskFromSnapshot_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateDiskFromSnapshot<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    pub(crate) id: VslmId,
    pub(crate) datastore: &'a Mor,
    #[serde(rename = "snapshotId")]
    pub(crate) snapshot_id: VslmId,
    pub(crate) name: &'a str,
}

/// `VirtualMachine.AttachDisk_Task`, in WSDL order.
#[derive(Debug, Serialize)]
pub(crate) struct AttachDisk<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    #[serde(rename = "diskId")]
    pub(crate) disk_id: VslmId,
    pub(crate) datastore: &'a Mor,
    #[serde(rename = "controllerKey", skip_serializing_if = "Option::is_none")]
    pub(crate) controller_key: Option<i32>,
    #[serde(rename = "unitNumber", skip_serializing_if = "Option::is_none")]
    pub(crate) unit_number: Option<i32>,
}

/// `VirtualMachine.DetachDisk_Task`.
#[derive(Debug, Serialize)]
pub(crate) struct DetachDisk<'a> {
    #[serde(rename = "@xmlns")]
    pub(crate) xmlns: &'static str,
    pub(crate) _this: &'a Mor,
    #[serde(rename = "diskId")]
    pub(crate) disk_id: VslmId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_quick_xml_output_with_escaping() {
        let this = Mor::new("SessionManager", "SessionManager");
        let body = Login {
            xmlns: VIM25_NS,
            _this: &this,
            userName: "a<b>",
            password: "p&w",
        };
        let x = envelope("Login", &body).unwrap();
        assert!(x.contains(r#"<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>a&lt;b&gt;</userName><password>p&amp;w</password></Login>"#), "{x}");
        assert!(!format!("{body:?}").contains("p&w"));
    }

    #[test]
    fn config_spec_in_wsdl_order() {
        let mut dev = Device::new("VirtualDisk", -2);
        dev.controller_key = Some(-1);
        dev.unit_number = Some(0);
        dev.capacity_in_kb = Some(1024);
        let mut b = Backing::empty("VirtualDiskFlatVer2BackingInfo");
        b.file_name = Some("[ds1]".into());
        b.disk_mode = Some("persistent");
        b.thin_provisioned = Some(true);
        dev.backing = Some(b);
        let spec = ConfigSpec {
            name: Some("vm".into()),
            guest_id: Some("otherGuest64".into()),
            num_cpus: Some(2),
            memory_mb: Some(4096),
            device_change: vec![DeviceChange {
                operation: "add",
                file_operation: Some("create"),
                device: dev,
            }],
            ..ConfigSpec::default()
        };
        let x = quick_xml::se::to_string_with_root("spec", &spec).unwrap();
        assert_eq!(
            x,
            concat!(
                "<spec><name>vm</name><guestId>otherGuest64</guestId><numCPUs>2</numCPUs><memoryMB>4096</memoryMB>",
                "<deviceChange><operation>add</operation><fileOperation>create</fileOperation>",
                r#"<device xsi:type="VirtualDisk"><key>-2</key><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds1]</fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>"#,
                "<controllerKey>-1</controllerKey><unitNumber>0</unitNumber><capacityInKB>1024</capacityInKB></device></deviceChange></spec>"
            )
        );
    }
}
