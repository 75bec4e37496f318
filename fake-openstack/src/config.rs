//! Configuration of the fake: lifecycles, flavors, users, faults and the builder.

use std::collections::BTreeMap;
use std::time::Duration;

/// How long a transitional state (BUILD, REBOOT, creating, deleting, …) lasts.
///
/// A transition completes at the first read of the resource for which **both** hold:
/// the resource has already been read `polls` times in its transitional state (single
/// GETs and list pages that contain it both count), and `delay` has passed since the
/// transition started. [`Lifecycle::immediate`] skips the transitional state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// Reads that still show the transitional state.
    pub polls: u32,
    /// Minimum time in the transitional state.
    pub delay: Duration,
}

impl Lifecycle {
    /// No visible transitional state: the final state is reached at once.
    pub const fn immediate() -> Lifecycle {
        Lifecycle {
            polls: 0,
            delay: Duration::ZERO,
        }
    }

    /// The first `n` reads show the transitional state, the next one the final state.
    pub const fn after_polls(n: u32) -> Lifecycle {
        Lifecycle {
            polls: n,
            delay: Duration::ZERO,
        }
    }

    /// The transitional state lasts `delay` (wall-clock time).
    pub const fn after(delay: Duration) -> Lifecycle {
        Lifecycle { polls: 0, delay }
    }
}

impl Default for Lifecycle {
    /// One read shows the transitional state; the next shows the final one.
    fn default() -> Self {
        Lifecycle::after_polls(1)
    }
}

/// A Nova flavor offered by the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlavorSpec {
    /// Flavor id (`flavorRef`).
    pub id: String,
    /// Name, e.g. `m1.small`.
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub ram_mb: u64,
    /// Root disk in GiB.
    pub disk_gb: u64,
    /// Ephemeral disk in GiB.
    pub ephemeral_gb: u64,
    /// Swap in MiB.
    pub swap_mb: u64,
    /// Extra specs.
    pub extra_specs: BTreeMap<String, String>,
}

impl FlavorSpec {
    /// A flavor without ephemeral disk, swap or extra specs.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        vcpus: u32,
        ram_mb: u64,
        disk_gb: u64,
    ) -> FlavorSpec {
        FlavorSpec {
            id: id.into(),
            name: name.into(),
            vcpus,
            ram_mb,
            disk_gb,
            ephemeral_gb: 0,
            swap_mb: 0,
            extra_specs: BTreeMap::new(),
        }
    }

    /// DevStack's default flavors: `m1.tiny` (id 1) to `m1.xlarge` (id 5), plus
    /// `m1.nano` (42) and `m1.micro` (84).
    pub fn defaults() -> Vec<FlavorSpec> {
        vec![
            FlavorSpec::new("1", "m1.tiny", 1, 512, 1),
            FlavorSpec::new("2", "m1.small", 1, 2048, 20),
            FlavorSpec::new("3", "m1.medium", 2, 4096, 40),
            FlavorSpec::new("4", "m1.large", 4, 8192, 80),
            FlavorSpec::new("5", "m1.xlarge", 8, 16384, 160),
            FlavorSpec::new("42", "m1.nano", 1, 128, 1),
            FlavorSpec::new("84", "m1.micro", 1, 192, 1),
        ]
    }
}

/// The Neutron extension aliases of a typical ML2/OVS deployment (the default).
pub const ML2_EXTENSIONS: &[&str] = &[
    "address-scope",
    "agent",
    "allowed-address-pairs",
    "auto-allocated-topology",
    "availability_zone",
    "binding",
    "binding-extended",
    "default-subnetpools",
    "dhcp_agent_scheduler",
    "dvr",
    "empty-string-filtering",
    "external-net",
    "ext-gw-mode",
    "extra_dhcp_opt",
    "extraroute",
    "filter-validation",
    "fip-port-details",
    "flavors",
    "floatingip-pools",
    "ip-substring-filtering",
    "l3-flavors",
    "l3-ha",
    "l3_agent_scheduler",
    "multi-provider",
    "net-mtu",
    "net-mtu-writable",
    "network-ip-availability",
    "network_availability_zone",
    "pagination",
    "port-security",
    "project-id",
    "provider",
    "quotas",
    "rbac-policies",
    "revision-if-match",
    "router",
    "router_availability_zone",
    "security-group",
    "service-type",
    "sorting",
    "standard-attr-description",
    "standard-attr-revisions",
    "standard-attr-tag",
    "standard-attr-timestamp",
    "subnet-service-types",
    "subnet_allocation",
];

/// The extensions of a vSphere region whose Neutron has no NSX plugin (flat and VLAN
/// port groups only: no `router`, no `security-group`).
pub const VSPHERE_DVS_EXTENSIONS: &[&str] = &[
    "agent",
    "binding",
    "external-net",
    "multi-provider",
    "net-mtu",
    "pagination",
    "port-security",
    "project-id",
    "provider",
    "quotas",
    "sorting",
    "standard-attr-description",
    "standard-attr-tag",
    "standard-attr-timestamp",
];

/// A user Keystone accepts.
#[derive(Debug, Clone)]
pub(crate) struct UserSpec {
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) password: String,
}

/// An application credential Keystone accepts.
#[derive(Debug, Clone)]
pub(crate) struct AppCredSpec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) secret: String,
    pub(crate) user: String,
}

/// A scripted fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultSpec {
    pub(crate) method: Option<String>,
    pub(crate) path_prefix: String,
    /// HTTP status; `None` closes the connection without an answer.
    pub(crate) status: Option<u16>,
    pub(crate) times: u32,
    pub(crate) retry_after: Option<Duration>,
    /// Send `Retry-After` as an HTTP date instead of delay-seconds.
    pub(crate) retry_after_date: bool,
    /// Answer `status` with this body instead of the service's error body.
    pub(crate) body: Option<bytes::Bytes>,
    /// Serve the real answer, broken half-way (`status` and `body` are ignored).
    pub(crate) mid_body: Option<crate::http::MidBody>,
}

impl FaultSpec {
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// Everything the builder sets.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) port: u16,
    pub(crate) region: String,
    pub(crate) nova_max: (u32, u32),
    pub(crate) cinder_max: (u32, u32),
    pub(crate) hypervisor_type: String,
    pub(crate) neutron_extensions: Vec<String>,
    pub(crate) tenant_network_type: String,
    pub(crate) token_ttl: Duration,
    pub(crate) servers: usize,
    pub(crate) max_limit: usize,
    pub(crate) latency: Duration,
    pub(crate) server_build: Lifecycle,
    pub(crate) server_action: Lifecycle,
    pub(crate) server_delete: Lifecycle,
    pub(crate) volume: Lifecycle,
    pub(crate) faults: Vec<FaultSpec>,
    pub(crate) users: Vec<UserSpec>,
    pub(crate) projects: Vec<String>,
    pub(crate) app_creds: Vec<AppCredSpec>,
    pub(crate) flavors: Vec<FlavorSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            region: "RegionOne".into(),
            nova_max: (2, 93),
            cinder_max: (3, 70),
            hypervisor_type: "QEMU".into(),
            neutron_extensions: ML2_EXTENSIONS.iter().map(|s| (*s).to_owned()).collect(),
            tenant_network_type: "vxlan".into(),
            token_ttl: Duration::from_secs(3600),
            servers: 0,
            max_limit: 1000,
            latency: Duration::ZERO,
            server_build: Lifecycle::default(),
            server_action: Lifecycle::default(),
            server_delete: Lifecycle::default(),
            volume: Lifecycle::default(),
            faults: Vec::new(),
            users: vec![UserSpec {
                name: "admin".into(),
                domain: "Default".into(),
                password: "secret".into(),
            }],
            projects: vec!["admin".into()],
            app_creds: Vec::new(),
            flavors: FlavorSpec::defaults(),
        }
    }
}

impl Config {
    pub(crate) fn is_vmware(&self) -> bool {
        self.hypervisor_type.to_ascii_lowercase().contains("vmware")
    }
}
