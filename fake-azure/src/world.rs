//! The state of the fake subscription, behind one lock: every resource kind in an
//! ordered map keyed by lower-cased (resource group, name), so lists page in
//! `O(log n + page)`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::{Config, LroEnd, VmSize};
use crate::ids::{key, rid, Key};
use crate::lro::Op;
use crate::util::{now_secs, Cidr, Rng};

/// Resource tags (`None`: the resource has none and renders no `tags`).
pub(crate) type Tags = Option<Map<String, Value>>;

/// A resource's `provisioningState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prov {
    Creating,
    Updating,
    Deleting,
    Succeeded,
    Failed,
    Canceled,
}

impl Prov {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Prov::Creating => "Creating",
            Prov::Updating => "Updating",
            Prov::Deleting => "Deleting",
            Prov::Succeeded => "Succeeded",
            Prov::Failed => "Failed",
            Prov::Canceled => "Canceled",
        }
    }
}

/// A VM's power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Power {
    Starting,
    Running,
    Stopping,
    Stopped,
    Deallocating,
    Deallocated,
}

impl Power {
    /// `(code suffix, displayStatus)` of the `PowerState/...` status.
    pub(crate) fn status(self) -> (&'static str, &'static str) {
        match self {
            Power::Starting => ("starting", "VM starting"),
            Power::Running => ("running", "VM running"),
            Power::Stopping => ("stopping", "VM stopping"),
            Power::Stopped => ("stopped", "VM stopped"),
            Power::Deallocating => ("deallocating", "VM deallocating"),
            Power::Deallocated => ("deallocated", "VM deallocated"),
        }
    }
}

/// A resource group.
#[derive(Debug, Clone)]
pub(crate) struct Rg {
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A managed disk as a VM's storage profile names it.
#[derive(Debug, Clone)]
pub(crate) struct VmDisk {
    /// LUN of a data disk; `None` for the OS disk.
    pub(crate) lun: Option<u32>,
    pub(crate) name: String,
    /// Resource group of the disk (display case).
    pub(crate) rg: String,
    pub(crate) caching: &'static str,
    pub(crate) storage: &'static str,
    pub(crate) size_gb: u64,
    pub(crate) create_option: &'static str,
    pub(crate) delete_option: &'static str,
}

impl VmDisk {
    pub(crate) fn key(&self) -> Key {
        key(&self.rg, &self.name)
    }
}

/// A NIC as a VM's network profile names it.
#[derive(Debug, Clone)]
pub(crate) struct VmNic {
    pub(crate) rg: String,
    pub(crate) name: String,
    pub(crate) primary: bool,
    pub(crate) delete_option: &'static str,
}

impl VmNic {
    pub(crate) fn key(&self) -> Key {
        key(&self.rg, &self.name)
    }
}

/// The immutable part of a VM's OS profile.
#[derive(Debug, Clone)]
pub(crate) struct OsProfile {
    pub(crate) admin_username: String,
    pub(crate) linux: bool,
    pub(crate) disable_password: bool,
    pub(crate) ssh_keys: Vec<(String, String)>,
    pub(crate) provision_agent: bool,
}

/// A virtual machine.
#[derive(Debug, Clone)]
pub(crate) struct Vm {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) vm_id: String,
    pub(crate) size: String,
    pub(crate) tags: Tags,
    pub(crate) zones: Vec<String>,
    /// `imageReference` as rendered.
    pub(crate) image: Arc<Value>,
    pub(crate) os_type: &'static str,
    /// `osName` of the instance view.
    pub(crate) os_name: Arc<str>,
    pub(crate) os_disk: VmDisk,
    pub(crate) data_disks: Vec<VmDisk>,
    pub(crate) computer_name: Option<String>,
    pub(crate) os_profile: Option<Arc<OsProfile>>,
    pub(crate) custom_data: Option<String>,
    pub(crate) user_data: Option<String>,
    pub(crate) nics: Vec<VmNic>,
    pub(crate) prov: Prov,
    pub(crate) power: Power,
    pub(crate) op: Option<String>,
    pub(crate) created: i64,
    pub(crate) hyperv: &'static str,
}

/// A managed disk.
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) sku: &'static str,
    pub(crate) size_gb: u64,
    /// `creationData` as rendered (shared by pre-populated disks).
    pub(crate) creation: Arc<Value>,
    pub(crate) os_type: Option<&'static str>,
    pub(crate) hyperv: Option<&'static str>,
    /// The VM it is attached to.
    pub(crate) managed_by: Option<Key>,
    pub(crate) unique_id: String,
    pub(crate) created: i64,
    pub(crate) tags: Tags,
    pub(crate) zones: Vec<String>,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A snapshot of a managed disk.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) sku: String,
    pub(crate) size_gb: u64,
    pub(crate) creation: Value,
    pub(crate) os_type: Option<&'static str>,
    pub(crate) hyperv: Option<&'static str>,
    pub(crate) incremental: bool,
    pub(crate) unique_id: String,
    pub(crate) created: i64,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A managed image.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) os_type: &'static str,
    pub(crate) os_state: String,
    pub(crate) size_gb: u64,
    /// Source of the OS disk: `("snapshot" | "managedDisk", id)`, or a VM id.
    pub(crate) os_source: Option<(&'static str, String)>,
    pub(crate) source_vm: Option<String>,
    pub(crate) hyperv: &'static str,
    pub(crate) storage: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// An Azure Compute Gallery.
#[derive(Debug, Clone)]
pub(crate) struct Gallery {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) description: String,
    pub(crate) unique_name: String,
    pub(crate) images: BTreeMap<String, GalleryImage>,
}

/// A gallery image definition.
#[derive(Debug, Clone)]
pub(crate) struct GalleryImage {
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) os_type: &'static str,
    pub(crate) os_state: &'static str,
    pub(crate) publisher: String,
    pub(crate) offer: String,
    pub(crate) sku: String,
    pub(crate) hyperv: &'static str,
    pub(crate) description: String,
    pub(crate) versions: BTreeMap<String, GalleryVersion>,
}

/// A gallery image version.
#[derive(Debug, Clone)]
pub(crate) struct GalleryVersion {
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) regions: Vec<String>,
    pub(crate) published: i64,
    pub(crate) size_gb: u64,
    pub(crate) source_id: Option<String>,
    pub(crate) exclude_from_latest: bool,
}

/// An SSH public key resource.
#[derive(Debug, Clone)]
pub(crate) struct SshKey {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) public_key: Option<String>,
    pub(crate) tags: Tags,
}

/// A reference to a resource: its key and its id (display case).
pub(crate) type Ref = (Key, String);

/// A subnet of a virtual network.
#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    pub(crate) name: String,
    pub(crate) prefix: Cidr,
    pub(crate) nsg: Option<Ref>,
    /// Allocated addresses, one per IP configuration in the subnet (the
    /// configurations themselves are found through the NICs).
    pub(crate) used: BTreeSet<u32>,
    /// Where the next dynamic allocation starts looking.
    pub(crate) next: u32,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A virtual network.
#[derive(Debug, Clone)]
pub(crate) struct Vnet {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) prefixes: Vec<Cidr>,
    pub(crate) dns_servers: Vec<String>,
    pub(crate) subnets: BTreeMap<String, Subnet>,
    pub(crate) guid: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// An IP configuration of a NIC.
#[derive(Debug, Clone)]
pub(crate) struct IpConfig {
    pub(crate) name: String,
    /// VNet key, lower-cased subnet name, subnet id (shared by NICs in one subnet).
    pub(crate) subnet: Arc<(Key, String, String)>,
    pub(crate) ip: u32,
    pub(crate) static_alloc: bool,
    pub(crate) pip: Option<Ref>,
    pub(crate) primary: bool,
}

/// A network interface.
#[derive(Debug, Clone)]
pub(crate) struct Nic {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) ip_configs: Vec<IpConfig>,
    pub(crate) nsg: Option<Ref>,
    /// The VM it is attached to.
    pub(crate) vm: Option<Key>,
    pub(crate) mac: String,
    pub(crate) accelerated: bool,
    pub(crate) ip_forwarding: bool,
    pub(crate) dns_servers: Vec<String>,
    pub(crate) guid: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A security rule (custom or default).
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: String,
    /// Validated `properties` (without `provisioningState`).
    pub(crate) props: Map<String, Value>,
    pub(crate) priority: u32,
    pub(crate) inbound: bool,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A network security group.
#[derive(Debug, Clone)]
pub(crate) struct Nsg {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) rules: BTreeMap<String, Rule>,
    /// NICs and subnets using it: lower-cased id → id.
    pub(crate) nics: BTreeMap<String, String>,
    pub(crate) subnets: BTreeMap<String, String>,
    pub(crate) guid: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// A public IP address.
#[derive(Debug, Clone)]
pub(crate) struct Pip {
    pub(crate) name: String,
    pub(crate) rg: String,
    pub(crate) location: String,
    pub(crate) sku: String,
    pub(crate) tier: String,
    pub(crate) static_alloc: bool,
    pub(crate) ip: Option<u32>,
    pub(crate) idle_minutes: u64,
    pub(crate) dns_label: Option<String>,
    /// The NIC IP configuration it is associated with (id).
    pub(crate) ip_config: Option<String>,
    pub(crate) zones: Vec<String>,
    pub(crate) guid: String,
    pub(crate) tags: Tags,
    pub(crate) prov: Prov,
    pub(crate) op: Option<String>,
}

/// Everything the fake holds.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) rng: Rng,
    pub(crate) sub: String,
    pub(crate) tenant: String,
    pub(crate) location: String,
    pub(crate) locations: Vec<String>,
    pub(crate) sizes: Vec<VmSize>,
    pub(crate) page_size: usize,
    pub(crate) rgs: BTreeMap<String, Rg>,
    pub(crate) vms: BTreeMap<Key, Vm>,
    pub(crate) disks: BTreeMap<Key, Disk>,
    pub(crate) snapshots: BTreeMap<Key, Snapshot>,
    pub(crate) images: BTreeMap<Key, Image>,
    pub(crate) galleries: BTreeMap<Key, Gallery>,
    pub(crate) ssh_keys: BTreeMap<Key, SshKey>,
    pub(crate) vnets: BTreeMap<Key, Vnet>,
    pub(crate) nics: BTreeMap<Key, Nic>,
    pub(crate) nsgs: BTreeMap<Key, Nsg>,
    pub(crate) pips: BTreeMap<Key, Pip>,
    pub(crate) ops: HashMap<String, Op>,
    pub(crate) lro_polls: u32,
    pub(crate) lro_retry_after: u64,
    pub(crate) lro_fail: VecDeque<LroEnd>,
    pub(crate) next_public_ip: u32,
}

/// The name of the pre-seeded virtual network.
pub(crate) const SEED_VNET: &str = "hybrid-vnet";
/// The name of the pre-seeded managed image.
pub(crate) const SEED_IMAGE: &str = "ubuntu-22.04-image";
/// The name of the pre-seeded gallery.
pub(crate) const SEED_GALLERY: &str = "hybridGallery";
/// The name of the pre-seeded gallery image definition.
pub(crate) const SEED_GALLERY_IMAGE: &str = "ubuntu-22_04";

impl World {
    pub(crate) fn new(cfg: &Config) -> World {
        let mut locations = vec![normalize_location(&cfg.location)];
        for l in &cfg.extra_locations {
            let l = normalize_location(l);
            if !locations.contains(&l) {
                locations.push(l);
            }
        }
        let mut w = World {
            rng: Rng::new(),
            sub: cfg.subscription.clone(),
            tenant: cfg.tenant.clone(),
            location: locations[0].clone(),
            locations,
            sizes: cfg.vm_sizes.clone(),
            page_size: cfg.page_size.max(1),
            rgs: BTreeMap::new(),
            vms: BTreeMap::new(),
            disks: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            images: BTreeMap::new(),
            galleries: BTreeMap::new(),
            ssh_keys: BTreeMap::new(),
            vnets: BTreeMap::new(),
            nics: BTreeMap::new(),
            nsgs: BTreeMap::new(),
            pips: BTreeMap::new(),
            ops: HashMap::new(),
            lro_polls: cfg.lro_polls,
            lro_retry_after: cfg.lro_retry_after,
            lro_fail: VecDeque::new(),
            // 20.50.0.10 onwards (a range Azure really uses for public IPs).
            next_public_ip: (20 << 24) | (50 << 16) | 10,
        };
        for rg in &cfg.resource_groups {
            let location = w.location.clone();
            w.rgs.insert(
                rg.to_ascii_lowercase(),
                Rg {
                    name: rg.clone(),
                    location,
                    tags: None,
                    prov: Prov::Succeeded,
                    op: None,
                },
            );
        }
        if let Some(rg) = cfg.resource_groups.first() {
            w.seed(rg, cfg.servers);
        }
        w
    }

    /// The id of a resource in this subscription.
    pub(crate) fn rid(&self, rg: &str, type_path: &str, name: &str) -> String {
        rid(&self.sub, rg, type_path, name)
    }

    /// The id of the VM with key `k` (empty if there is none).
    pub(crate) fn vm_id(&self, k: &Key) -> String {
        self.vms
            .get(k)
            .map(|v| self.rid(&v.rg, "Microsoft.Compute/virtualMachines", &v.name))
            .unwrap_or_default()
    }

    /// A fresh public IPv4 address.
    pub(crate) fn public_ip(&mut self) -> u32 {
        let ip = self.next_public_ip;
        self.next_public_ip += 1;
        if self.next_public_ip & 0xFF == 255 {
            self.next_public_ip += 11;
        }
        ip
    }

    /// Seeds the default resource group: a virtual network, a managed image, a gallery
    /// with an image version, and `servers` running VMs each with a NIC and an OS disk.
    fn seed(&mut self, rg: &str, servers: usize) {
        crate::storage::seed_images(self, rg);
        crate::network::seed_vnet(self, rg, servers);
        crate::compute::seed_vms(self, rg, servers);
    }

    /// Time stamp helper, so seeded resources look a little older than new ones.
    pub(crate) fn now(&self) -> i64 {
        now_secs()
    }
}

/// ARM's location normal form: lower case without spaces (`West Europe` → `westeurope`).
pub(crate) fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The human name of a location (`westeurope` → `West Europe`), for the locations list.
pub(crate) fn location_display(l: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("westeurope", "West Europe"),
        ("northeurope", "North Europe"),
        ("eastus", "East US"),
        ("eastus2", "East US 2"),
        ("westus", "West US"),
        ("westus2", "West US 2"),
        ("westus3", "West US 3"),
        ("centralus", "Central US"),
        ("uksouth", "UK South"),
        ("germanywestcentral", "Germany West Central"),
        ("francecentral", "France Central"),
        ("swedencentral", "Sweden Central"),
        ("southeastasia", "Southeast Asia"),
        ("japaneast", "Japan East"),
        ("australiaeast", "Australia East"),
    ];
    KNOWN
        .iter()
        .find(|(k, _)| *k == l)
        .map(|(_, v)| (*v).to_owned())
        .unwrap_or_else(|| l.to_owned())
}
