//! Configuration: a serde [`VsphereConfig`], a [`VsphereBuilder`], and
//! [`VsphereConfig::from_env`] over govc's `GOVC_*` variables and their `VSPHERE_*`
//! equivalents.
//!
//! The password is a [`SecretString`]: it never appears in `Debug`, in logs or in errors.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use hybrid_core::{Error, Result};
use hybrid_http::ClientOptions;

/// One size servers can be created with or resized to: a "flavor" of vSphere, which has
/// none of its own. A VM's flavor is the catalogue entry whose vCPU count and memory
/// equal the VM's `config.hardware.numCPU` and `memoryMB`; a VM sized by hand to
/// something else has no flavor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct FlavorSpec {
    /// Id, for example `vm-2cpu-4gb`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Virtual CPUs (`numCPUs`).
    pub vcpus: u32,
    /// Memory in MiB (`memoryMB`).
    pub ram_mib: u64,
    /// The size of the disk a VM created without an image gets, in GiB.
    pub disk_gib: u64,
}

impl FlavorSpec {
    /// A flavor of `vcpus` CPUs, `ram_mib` MiB and a `disk_gib` GiB disk.
    pub fn new(id: &str, name: &str, vcpus: u32, ram_mib: u64, disk_gib: u64) -> FlavorSpec {
        FlavorSpec {
            id: id.to_owned(),
            name: name.to_owned(),
            vcpus,
            ram_mib,
            disk_gib,
        }
    }
}

/// The default flavor catalogue: 1 vCPU/2 GiB, 2 vCPU/4 GiB, 4 vCPU/16 GiB and a
/// 16 vCPU/256 GiB scale-up size (the sizes of the mock's `vsphere` profile).
pub fn default_flavors() -> Vec<FlavorSpec> {
    vec![
        FlavorSpec::new("vm-1cpu-2gb", "1 vCPU, 2 GiB", 1, 2048, 40),
        FlavorSpec::new("vm-2cpu-4gb", "2 vCPU, 4 GiB", 2, 4096, 60),
        FlavorSpec::new("vm-4cpu-16gb", "4 vCPU, 16 GiB", 4, 16384, 100),
        FlavorSpec::new(
            "vm-16cpu-256gb",
            "16 vCPU, 256 GiB (scale-up)",
            16,
            262_144,
            500,
        ),
    ]
}

fn default_name() -> String {
    "vsphere".to_owned()
}
fn default_page_size() -> u32 {
    100
}
fn default_guest_id() -> String {
    "otherGuest64".to_owned()
}
fn default_timeout() -> u64 {
    120
}
fn default_tag_category() -> String {
    DEFAULT_TAG_CATEGORY.to_owned()
}
fn default_content_library() -> String {
    DEFAULT_CONTENT_LIBRARY.to_owned()
}

/// The vSphere tag category that holds the core's server tags, by default: one vSphere
/// tag per core tag string, in this category (created on demand, cardinality
/// `MULTIPLE`, associable with `VirtualMachine`).
pub const DEFAULT_TAG_CATEGORY: &str = "hybrid";

/// The content library new images are uploaded to, by default (a local library
/// created on demand on the default datastore).
pub const DEFAULT_CONTENT_LIBRARY: &str = "hybrid";

/// How to reach a vCenter and where new VMs go.
///
/// ```
/// let cfg: hybrid_vsphere::VsphereConfig = serde_json::from_str(r#"{
///     "url": "https://vcenter.example/sdk", "user": "administrator@vsphere.local",
///     "password": "s3cret", "datacenter": "DC0", "datastore": "LocalDS_0"
/// }"#).unwrap();
/// assert!(!format!("{cfg:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsphereConfig {
    /// The provider's name in errors and [`ProviderInfo`](hybrid_core::ProviderInfo).
    #[serde(default = "default_name")]
    pub name: String,
    /// The vCenter SDK URL, for example `https://vcenter.example/sdk` (`/sdk` is added
    /// when the URL has no path; `https://` when it has no scheme).
    pub url: String,
    /// The user name.
    #[serde(default)]
    pub user: Option<String>,
    /// The password.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Accept any server certificate (lab setups only; logged as a warning).
    #[serde(default)]
    pub insecure: bool,
    /// A PEM file of extra CA certificates to trust, besides the built-in roots (several
    /// files joined with the path separator, `:` on Unix, as govc's
    /// `GOVC_TLS_CA_CERTS` allows).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The datacenter to work in (by name); the first one when unset.
    #[serde(default)]
    pub datacenter: Option<String>,
    /// The datastore new VMs and disks go to (by name); the first accessible one when unset.
    #[serde(default)]
    pub datastore: Option<String>,
    /// The VM folder new VMs go to (by name or inventory path); the datacenter's VM
    /// folder when unset.
    #[serde(default)]
    pub folder: Option<String>,
    /// The resource pool new VMs go to (by name); the first cluster's root pool when unset.
    #[serde(default)]
    pub resource_pool: Option<String>,
    /// The network a new VM is connected to when the spec names none (by name).
    #[serde(default)]
    pub network: Option<String>,
    /// The guest OS id of VMs created without an image (default `otherGuest64`).
    #[serde(default = "default_guest_id")]
    pub guest_id: String,
    /// The flavor catalogue (default: [`default_flavors`]).
    #[serde(default = "default_flavors")]
    pub flavors: Vec<FlavorSpec>,
    /// Objects per PropertyCollector page when a listing names no page size.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Seconds allowed for one SOAP or vAPI call (an OVF deployment may take up to an
    /// hour; uploads and downloads have no overall limit).
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// The vSphere tag category of the core's server tags (default
    /// [`DEFAULT_TAG_CATEGORY`]); tags of other categories are not server tags.
    #[serde(default = "default_tag_category")]
    pub tag_category: String,
    /// The content library `create_image` uploads to, by name (default
    /// [`DEFAULT_CONTENT_LIBRARY`], a local library created on demand on the default
    /// datastore).
    #[serde(default = "default_content_library")]
    pub content_library: String,
}

impl fmt::Debug for VsphereConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VsphereConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("insecure", &self.insecure)
            .field("ca_file", &self.ca_file)
            .field("datacenter", &self.datacenter)
            .field("datastore", &self.datastore)
            .field("folder", &self.folder)
            .field("resource_pool", &self.resource_pool)
            .field("network", &self.network)
            .field("guest_id", &self.guest_id)
            .field("flavors", &self.flavors.len())
            .field("page_size", &self.page_size)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("tag_category", &self.tag_category)
            .field("content_library", &self.content_library)
            .finish()
    }
}

/// The variables [`VsphereConfig::from_env`] reads: `(field, GOVC name, VSPHERE names)`.
/// A `VSPHERE_*` variable wins over its `GOVC_*` twin.
pub const ENV_VARS: &[(&str, &str, &[&str])] = &[
    ("url", "GOVC_URL", &["VSPHERE_URL", "VSPHERE_SERVER"]),
    (
        "user",
        "GOVC_USERNAME",
        &["VSPHERE_USERNAME", "VSPHERE_USER"],
    ),
    ("password", "GOVC_PASSWORD", &["VSPHERE_PASSWORD"]),
    (
        "insecure",
        "GOVC_INSECURE",
        &["VSPHERE_INSECURE", "VSPHERE_ALLOW_UNVERIFIED_SSL"],
    ),
    ("ca_file", "GOVC_TLS_CA_CERTS", &["VSPHERE_TLS_CA_CERTS"]),
    ("datacenter", "GOVC_DATACENTER", &["VSPHERE_DATACENTER"]),
    ("datastore", "GOVC_DATASTORE", &["VSPHERE_DATASTORE"]),
    ("network", "GOVC_NETWORK", &["VSPHERE_NETWORK"]),
    (
        "resource_pool",
        "GOVC_RESOURCE_POOL",
        &["VSPHERE_RESOURCE_POOL"],
    ),
    ("folder", "GOVC_FOLDER", &["VSPHERE_FOLDER"]),
];

fn parse_bool(var: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::config(format!(
            "{var} must be a boolean (1/0, true/false), not {v:?}"
        ))),
    }
}

impl VsphereConfig {
    /// A configuration for `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> VsphereConfig {
        VsphereConfig {
            name: default_name(),
            url: url.into(),
            user: None,
            password: None,
            insecure: false,
            ca_file: None,
            datacenter: None,
            datastore: None,
            folder: None,
            resource_pool: None,
            network: None,
            guest_id: default_guest_id(),
            flavors: default_flavors(),
            page_size: default_page_size(),
            request_timeout_secs: default_timeout(),
            tag_category: default_tag_category(),
            content_library: default_content_library(),
        }
    }

    /// Reads [`ENV_VARS`] from the process environment.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when no URL is set, a boolean
    /// is not one, or the URL is invalid.
    pub fn from_env() -> Result<VsphereConfig> {
        VsphereConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `get`.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<VsphereConfig> {
        let read = |field: &str| -> Option<(String, String)> {
            let (_, govc, vsphere) = ENV_VARS.iter().find(|(f, _, _)| *f == field)?;
            vsphere
                .iter()
                .chain(std::iter::once(govc))
                .find_map(|name| {
                    get(name)
                        .filter(|v| !v.is_empty())
                        .map(|v| ((*name).to_owned(), v))
                })
        };
        let (_, url) = read("url").ok_or_else(|| {
            Error::config("no vCenter URL: set GOVC_URL or VSPHERE_URL (for example https://vcenter.example/sdk)")
        })?;
        let mut cfg = VsphereConfig::new(url);
        cfg.user = read("user").map(|(_, v)| v);
        cfg.password = read("password").map(|(_, v)| SecretString::from(v));
        if let Some((var, v)) = read("insecure") {
            cfg.insecure = parse_bool(&var, &v)?;
        }
        cfg.ca_file = read("ca_file").map(|(_, v)| PathBuf::from(v));
        cfg.datacenter = read("datacenter").map(|(_, v)| v);
        cfg.datastore = read("datastore").map(|(_, v)| v);
        cfg.network = read("network").map(|(_, v)| v);
        cfg.resource_pool = read("resource_pool").map(|(_, v)| v);
        cfg.folder = read("folder").map(|(_, v)| v);
        cfg.normalized()
    }

    /// The SDK URL with `https://` and `/sdk` filled in and credentials moved out of it
    /// (govc accepts `https://user:pass@host/sdk`); credentials already set win.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when the URL is invalid or
    /// not http(s).
    pub fn normalized(mut self) -> Result<VsphereConfig> {
        let raw = self.url.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        // Never echo the URL: it may hold a password.
        let mut url = Url::parse(&with_scheme)
            .map_err(|e| Error::config("the vCenter URL is not a valid URL").with_source(e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "the vCenter URL must be http or https, not {}",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::config("the vCenter URL has no host"));
        }
        if !url.username().is_empty() {
            let user = percent_decode(url.username());
            if self.user.is_none() {
                self.user = Some(user);
            }
            if let Some(p) = url.password() {
                if self.password.is_none() {
                    self.password = Some(SecretString::from(percent_decode(p)));
                }
            }
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        if url.path().is_empty() || url.path() == "/" {
            url.set_path("/sdk");
        }
        self.url = url.to_string();
        if self.page_size == 0 {
            return Err(Error::config("page_size must be at least 1"));
        }
        if self.flavors.is_empty() {
            return Err(Error::config("the flavor catalogue is empty"));
        }
        if self.tag_category.trim().is_empty() {
            return Err(Error::config("tag_category must not be empty"));
        }
        if self.content_library.trim().is_empty() {
            return Err(Error::config("content_library must not be empty"));
        }
        for f in &self.flavors {
            if f.vcpus == 0 || f.ram_mib == 0 {
                return Err(Error::config(format!(
                    "flavor {} needs at least one vCPU and some memory",
                    f.id
                )));
            }
        }
        Ok(self)
    }

    /// The timeout of one SOAP call.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// The HTTP client options [`VsphereProvider::connect`](crate::VsphereProvider::connect)
    /// uses: hybrid-http's defaults (retries, total deadline, body limits) with this
    /// configuration's [`request_timeout`](Self::request_timeout), then
    /// [`apply_to`](Self::apply_to).
    ///
    /// # Errors
    /// As [`apply_to`](Self::apply_to).
    pub fn client_options(&self) -> Result<ClientOptions> {
        self.apply_to(ClientOptions::new().with_request_timeout(self.request_timeout()))
    }

    /// `base` with this configuration's TLS settings added: the CA file
    /// (`GOVC_TLS_CA_CERTS`; as in govc, several files may be joined with the path
    /// separator, `:` on Unix) is trusted besides the built-in roots, `insecure`
    /// (`GOVC_INSECURE`) switches certificate checks off (hybrid-http logs a warning
    /// whenever such a client is built), and the user agent becomes
    /// `hybrid-vsphere/<version>` unless `base` set its own. Everything else of `base`
    /// (timeouts, retry policy, proxy, body limits) is kept: this is what
    /// [`VsphereProvider::connect_with_options`](crate::VsphereProvider::connect_with_options)
    /// does with the options it is given.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when one of several CA
    /// files cannot be read (a single file is read, and checked, when the client is
    /// built).
    pub fn apply_to(&self, base: ClientOptions) -> Result<ClientOptions> {
        let mut o = base;
        if let Some(ca) = &self.ca_file {
            let files: Vec<PathBuf> = std::env::split_paths(ca)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            if files.len() > 1 {
                let mut pem = Vec::new();
                for f in &files {
                    let bytes = std::fs::read(f).map_err(|e| {
                        Error::config(format!("cannot read the CA bundle {}", f.display()))
                            .with_source(e)
                    })?;
                    pem.extend_from_slice(&bytes);
                    pem.push(b'\n');
                }
                o = o.with_ca_pem(pem);
            } else {
                o = o.with_ca_bundle(ca.clone());
            }
        }
        if self.insecure {
            o = o.with_danger_accept_invalid_certs(true);
        }
        if o.user_agent == hybrid_http::options::DEFAULT_USER_AGENT {
            o = o.with_user_agent(concat!("hybrid-vsphere/", env!("CARGO_PKG_VERSION")));
        }
        Ok(o)
    }

    /// The password as text (tests only).
    #[cfg(test)]
    pub(crate) fn password_str(&self) -> &str {
        self.password
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret)
            .unwrap_or("")
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Builds a [`VsphereConfig`] step by step.
///
/// ```
/// let cfg = hybrid_vsphere::VsphereBuilder::new("vcenter.example")
///     .with_credentials("administrator@vsphere.local", "s3cret")
///     .with_datacenter("DC0")
///     .build()
///     .unwrap();
/// assert_eq!(cfg.url, "https://vcenter.example/sdk");
/// ```
#[derive(Debug, Clone)]
pub struct VsphereBuilder {
    config: VsphereConfig,
}

impl VsphereBuilder {
    /// A builder for the vCenter at `url`.
    pub fn new(url: impl Into<String>) -> VsphereBuilder {
        VsphereBuilder {
            config: VsphereConfig::new(url),
        }
    }

    /// Starts from an existing configuration.
    pub fn from_config(config: VsphereConfig) -> VsphereBuilder {
        VsphereBuilder { config }
    }

    /// Sets the provider name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Sets the user and password.
    pub fn with_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.config.user = Some(user.into());
        self.config.password = Some(SecretString::from(password.into()));
        self
    }

    /// Accepts any server certificate (lab setups only).
    pub fn with_insecure(mut self, insecure: bool) -> Self {
        self.config.insecure = insecure;
        self
    }

    /// Trusts the CA certificates of a PEM file.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_file = Some(path.into());
        self
    }

    /// Sets the datacenter.
    pub fn with_datacenter(mut self, dc: impl Into<String>) -> Self {
        self.config.datacenter = Some(dc.into());
        self
    }

    /// Sets the default datastore.
    pub fn with_datastore(mut self, ds: impl Into<String>) -> Self {
        self.config.datastore = Some(ds.into());
        self
    }

    /// Sets the default VM folder.
    pub fn with_folder(mut self, folder: impl Into<String>) -> Self {
        self.config.folder = Some(folder.into());
        self
    }

    /// Sets the default resource pool.
    pub fn with_resource_pool(mut self, pool: impl Into<String>) -> Self {
        self.config.resource_pool = Some(pool.into());
        self
    }

    /// Sets the default network.
    pub fn with_network(mut self, network: impl Into<String>) -> Self {
        self.config.network = Some(network.into());
        self
    }

    /// Replaces the flavor catalogue.
    pub fn with_flavors(mut self, flavors: Vec<FlavorSpec>) -> Self {
        self.config.flavors = flavors;
        self
    }

    /// Sets the vSphere tag category of server tags.
    pub fn with_tag_category(mut self, category: impl Into<String>) -> Self {
        self.config.tag_category = category.into();
        self
    }

    /// Sets the content library images are uploaded to.
    pub fn with_content_library(mut self, library: impl Into<String>) -> Self {
        self.config.content_library = library.into();
        self
    }

    /// Sets the default page size of listings.
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.config.page_size = size;
        self
    }

    /// Validates and normalizes the configuration.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`VsphereConfig::normalized`].
    pub fn build(self) -> Result<VsphereConfig> {
        self.config.normalized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn govc_variables() {
        let c = VsphereConfig::from_lookup(lookup(&[
            ("GOVC_URL", "https://127.0.0.1:8989/sdk"),
            ("GOVC_USERNAME", "user"),
            ("GOVC_PASSWORD", "pass-word-123"),
            ("GOVC_INSECURE", "1"),
            ("GOVC_TLS_CA_CERTS", "/etc/ca.pem"),
            ("GOVC_DATACENTER", "DC0"),
            ("GOVC_DATASTORE", "LocalDS_0"),
            ("GOVC_NETWORK", "VM Network"),
            ("GOVC_RESOURCE_POOL", "DC0_C0/Resources"),
            ("GOVC_FOLDER", "vm"),
        ]))
        .unwrap();
        assert_eq!(c.url, "https://127.0.0.1:8989/sdk");
        assert_eq!(c.user.as_deref(), Some("user"));
        assert_eq!(c.password_str(), "pass-word-123");
        assert!(c.insecure);
        assert_eq!(c.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(c.datacenter.as_deref(), Some("DC0"));
        assert_eq!(c.datastore.as_deref(), Some("LocalDS_0"));
        assert_eq!(c.network.as_deref(), Some("VM Network"));
        assert_eq!(c.resource_pool.as_deref(), Some("DC0_C0/Resources"));
        assert_eq!(c.folder.as_deref(), Some("vm"));
        assert!(!format!("{c:?}").contains("pass-word-123"));
    }

    #[test]
    fn vsphere_variables_win_and_url_credentials_move_out() {
        let c = VsphereConfig::from_lookup(lookup(&[
            ("GOVC_URL", "https://u%40corp:p%3Aw@vc.example"),
            ("VSPHERE_DATACENTER", "DC9"),
            ("GOVC_DATACENTER", "DC0"),
            ("VSPHERE_ALLOW_UNVERIFIED_SSL", "true"),
        ]))
        .unwrap();
        assert_eq!(c.url, "https://vc.example/sdk");
        assert_eq!(c.user.as_deref(), Some("u@corp"));
        assert_eq!(c.password_str(), "p:w");
        assert_eq!(c.datacenter.as_deref(), Some("DC9"));
        assert!(c.insecure);
        let h = VsphereConfig::from_lookup(lookup(&[("VSPHERE_SERVER", "vc2")])).unwrap();
        assert_eq!(h.url, "https://vc2/sdk");
    }

    #[test]
    fn errors_never_echo_the_url_or_password() {
        let e = VsphereConfig::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::Config);
        let e = VsphereConfig::from_lookup(lookup(&[("GOVC_URL", "https://u:topsecret@[::1")]))
            .unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        let e =
            VsphereConfig::from_lookup(lookup(&[("GOVC_URL", "vc"), ("GOVC_INSECURE", "maybe")]))
                .unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::Config);
        let e = VsphereConfig::from_lookup(lookup(&[("GOVC_URL", "ftp://vc")])).unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::Config);
    }

    #[test]
    fn serde_and_builder() {
        let c: VsphereConfig = serde_json::from_str(
            r#"{"url": "vc.example", "password": "pw-4567", "flavors": [{"id": "x", "name": "x", "vcpus": 1, "ram_mib": 512, "disk_gib": 1}]}"#,
        )
        .unwrap();
        let c = c.normalized().unwrap();
        assert_eq!(c.flavors.len(), 1);
        assert!(!format!("{c:?}").contains("pw-4567"));
        assert!(serde_json::from_str::<VsphereConfig>(r#"{"url": "x", "bogus": 1}"#).is_err());
        let e = VsphereBuilder::new("vc")
            .with_flavors(vec![])
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::Config);
    }
}
