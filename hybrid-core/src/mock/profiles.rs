//! What each profile can do, and what it starts with.

use crate::capabilities::{Capabilities, Capability, Feature};
use crate::model::*;

use super::Profile;

pub(crate) fn default_region(p: Profile) -> &'static str {
    match p {
        Profile::Vsphere | Profile::VsphereNsx => "dc1",
        Profile::OpenstackKvm => "RegionOne",
        Profile::OpenstackOnVsphere => "RegionVMware",
        Profile::Azure => "westeurope",
    }
}

pub(crate) fn variant(p: Profile) -> &'static str {
    match p {
        Profile::Vsphere => "vcenter without nsx",
        Profile::VsphereNsx => "vcenter with nsx",
        Profile::OpenstackKvm => "openstack on kvm",
        Profile::OpenstackOnVsphere => "openstack on vsphere",
        Profile::Azure => "azure resource manager",
    }
}

const NO_NSX: &str = "this vCenter has no NSX; without NSX vSphere offers only flat VLAN (port group) or flat DHCP networks";

pub(crate) fn capabilities(p: Profile) -> Capabilities {
    let mut c = Capabilities::all();
    let set = |c: &mut Capabilities, f: Feature, cap: Capability| *c.get_mut(f) = cap;
    match p {
        Profile::Vsphere | Profile::VsphereNsx => {
            if p == Profile::Vsphere {
                set(
                    &mut c,
                    Feature::Sdn,
                    Capability::deployment(format!("overlay networks need NSX: {NO_NSX}")),
                );
                set(
                    &mut c,
                    Feature::Subnets,
                    Capability::deployment(format!("subnets (IPAM) need NSX segments: {NO_NSX}")),
                );
                set(
                    &mut c,
                    Feature::SecurityGroups,
                    Capability::deployment(format!(
                        "security groups need the NSX distributed firewall: {NO_NSX}"
                    )),
                );
                set(
                    &mut c,
                    Feature::Routers,
                    Capability::deployment(format!("routers need NSX gateways: {NO_NSX}")),
                );
                set(
                    &mut c,
                    Feature::FloatingIps,
                    Capability::deployment(format!("floating IPs need NSX NAT: {NO_NSX}")),
                );
            }
            set(
                &mut c,
                Feature::Ports,
                Capability::never("vSphere has no standalone ports: a vNIC exists only as part of a VM; attach networks when creating the VM"),
            );
            set(
                &mut c,
                Feature::KeyPairs,
                Capability::never("vSphere has no key-pair resource; inject SSH keys through guest customization or cloud-init user data"),
            );
            c.platform.object_storage = Capability::never(
                "vSphere has no object storage (no Swift); storage is datastores and vSAN",
            );
            c.platform.image_sharing = Capability::never(
                "vSphere images are bound to the vCenter datastore or content library and cannot be shared with other environments",
            );
        }
        Profile::OpenstackKvm => {
            c.platform.high_availability = Capability::deployment(
                "Nova does not restart instances of a failed host by itself; that needs Masakari or an external monitor",
            );
        }
        Profile::OpenstackOnVsphere => {
            let why = "this region's Nova drives vCenter and its Neutron uses VMware port groups without NSX";
            set(
                &mut c,
                Feature::Sdn,
                Capability::deployment(format!("overlay networks need NSX: {why}")),
            );
            set(
                &mut c,
                Feature::SecurityGroups,
                Capability::deployment(format!("security groups need NSX: {why}")),
            );
            set(
                &mut c,
                Feature::Routers,
                Capability::deployment(format!("routers need NSX: {why}")),
            );
            set(
                &mut c,
                Feature::FloatingIps,
                Capability::deployment(format!("floating IPs need NSX: {why}")),
            );
            c.platform.object_storage = Capability::never("a vSphere-backed region has no Swift: storage is what VMware supports (datastores, vSAN)");
            c.platform.image_sharing = Capability::never(
                "images of a vSphere-backed region live in Glance's VMware datastore store and cannot be shared with other environments",
            );
        }
        Profile::Azure => {
            set(
                &mut c,
                Feature::Routers,
                Capability::never("Azure has no router resource: subnets of a virtual network route to each other implicitly; use route tables"),
            );
            set(
                &mut c,
                Feature::ImageUpload,
                Capability::never("Azure cannot take image bytes directly: upload the VHD to a storage account, then import it by URL"),
            );
            set(
                &mut c,
                Feature::ImageDownload,
                Capability::never("Azure managed images cannot be downloaded; export a managed disk through a SAS URL instead"),
            );
            c.platform.live_migration = Capability::never(
                "Azure offers no user-initiated live migration; the platform live-migrates during its own maintenance only",
            );
            c.platform.image_sharing = Capability::deployment(
                "managed images are regional; share them through an Azure Compute Gallery replicated to the target regions",
            );
        }
    }
    c
}

fn flavor(id: &str, name: &str, vcpus: u32, ram_mib: u64, disk_gib: u64) -> Flavor {
    Flavor {
        id: FlavorId::new(id),
        name: name.to_owned(),
        vcpus,
        ram_mib,
        disk_gib,
        ephemeral_gib: 0,
        is_public: true,
        extra: Metadata::new(),
        raw: None,
    }
}

pub(crate) fn flavors(p: Profile) -> Vec<Flavor> {
    match p {
        Profile::Vsphere | Profile::VsphereNsx => vec![
            flavor("vm-1cpu-2gb", "1 vCPU, 2 GiB", 1, 2048, 40),
            flavor("vm-2cpu-4gb", "2 vCPU, 4 GiB", 2, 4096, 60),
            flavor("vm-4cpu-16gb", "4 vCPU, 16 GiB", 4, 16384, 100),
            flavor(
                "vm-16cpu-256gb",
                "16 vCPU, 256 GiB (scale-up)",
                16,
                262_144,
                500,
            ),
        ],
        Profile::OpenstackKvm | Profile::OpenstackOnVsphere => vec![
            flavor("1", "m1.tiny", 1, 512, 1),
            flavor("2", "m1.small", 1, 2048, 20),
            flavor("3", "m1.medium", 2, 4096, 40),
            flavor("4", "m1.large", 4, 8192, 80),
            flavor("5", "m1.xlarge", 8, 16384, 160),
        ],
        Profile::Azure => vec![
            flavor("Standard_B1s", "Standard_B1s", 1, 1024, 4),
            flavor("Standard_B2s", "Standard_B2s", 2, 4096, 8),
            flavor("Standard_D2s_v5", "Standard_D2s_v5", 2, 8192, 0),
            flavor("Standard_D4s_v5", "Standard_D4s_v5", 4, 16384, 0),
            flavor("Standard_E16s_v5", "Standard_E16s_v5", 16, 131_072, 0),
        ],
    }
}

pub(crate) fn image_locality(p: Profile, region: &str) -> ImageLocality {
    match p {
        Profile::Vsphere | Profile::VsphereNsx => ImageLocality {
            bound_to: Some("datastore1".into()),
            shareable: false,
        },
        Profile::OpenstackOnVsphere => ImageLocality {
            bound_to: Some("vmware datastore store".into()),
            shareable: false,
        },
        Profile::OpenstackKvm => ImageLocality {
            bound_to: Some(format!("glance ({region})")),
            shareable: true,
        },
        Profile::Azure => ImageLocality {
            bound_to: Some(region.to_owned()),
            shareable: false,
        },
    }
}

/// `(name, disk format, container format, os family)` of the images a profile starts with.
pub(crate) fn images(p: Profile) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    match p {
        Profile::Vsphere | Profile::VsphereNsx => vec![
            ("rhel-9-template", "vmdk", "ovf", "linux"),
            ("windows-2022-template", "vmdk", "ovf", "windows"),
        ],
        Profile::OpenstackOnVsphere => vec![("ubuntu-22.04-vmdk", "vmdk", "bare", "linux")],
        Profile::OpenstackKvm => vec![
            ("cirros-0.6.2", "qcow2", "bare", "linux"),
            ("ubuntu-22.04", "qcow2", "bare", "linux"),
        ],
        Profile::Azure => vec![
            ("Canonical:ubuntu-24_04-lts:server", "vhd", "bare", "linux"),
            (
                "MicrosoftWindowsServer:2022-datacenter",
                "vhd",
                "bare",
                "windows",
            ),
        ],
    }
}

/// `(name, kind, segmentation id, external)` of the networks a profile starts with.
pub(crate) fn networks(p: Profile) -> Vec<(&'static str, NetworkKind, Option<u32>, bool)> {
    match p {
        Profile::Vsphere => vec![
            ("VM Network", NetworkKind::Vlan, Some(0), false),
            ("dvpg-prod-120", NetworkKind::Vlan, Some(120), false),
        ],
        Profile::VsphereNsx => vec![
            ("VM Network", NetworkKind::Vlan, Some(0), false),
            ("nsx-segment-web", NetworkKind::Overlay, None, false),
        ],
        Profile::OpenstackKvm => vec![
            ("public", NetworkKind::Flat, None, true),
            ("private", NetworkKind::Overlay, Some(1001), false),
        ],
        Profile::OpenstackOnVsphere => {
            vec![("vmware-vlan-200", NetworkKind::Vlan, Some(200), false)]
        }
        Profile::Azure => vec![("vnet-default", NetworkKind::Overlay, None, false)],
    }
}
