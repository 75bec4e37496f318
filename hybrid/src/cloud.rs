//! [`Cloud`]: a provider handle from a serde config.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use hybrid_core::gate::gate;
use hybrid_core::{Error, Provider, Result};

/// Which provider to open, with its settings. Serialized with a `kind` tag:
///
/// ```json
/// {"kind": "mock", "profile": "openstack_on_vsphere", "servers": 100}
/// ```
///
/// Secrets are never serialized back out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per connection; boxing would only make matching on it clumsier"
)]
pub enum CloudConfig {
    /// The in-memory mock provider (feature `mock`).
    #[cfg(feature = "mock")]
    Mock(hybrid_core::mock::MockConfig),
    /// An OpenStack region (feature `openstack`).
    #[cfg(feature = "openstack")]
    Openstack(OpenstackConfig),
    /// A vCenter (feature `vsphere`).
    #[cfg(feature = "vsphere")]
    Vsphere(VsphereSettings),
    /// An Azure subscription's resource group (feature `azure`).
    #[cfg(feature = "azure")]
    Azure(AzureSettings),
}

/// Where an OpenStack cloud's settings come from: a `clouds.yaml` entry (with its
/// `secure.yaml`), found as openstacksdk finds it, or the `OS_*` variables.
///
/// ```json
/// {"kind": "openstack", "cloud": "prod", "region": "RegionOne"}
/// ```
#[cfg(feature = "openstack")]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenstackConfig {
    /// The `clouds.yaml` entry; else `OS_CLOUD`; else the `OS_*` variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    /// A `clouds.yaml` to read instead of the standard search path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clouds_yaml: Option<std::path::PathBuf>,
    /// The region, overriding the entry's `region_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[cfg(feature = "openstack")]
impl OpenstackConfig {
    /// The resolved cloud entry (credentials stay `SecretString`s).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`ConfigLoader::load`](hybrid_openstack::config::ConfigLoader::load).
    pub fn resolve(&self) -> Result<hybrid_openstack::config::CloudConfig> {
        let mut loader = hybrid_openstack::config::ConfigLoader::new();
        if let Some(p) = &self.clouds_yaml {
            loader = loader.with_clouds_file(p.clone());
        }
        let mut cloud = loader.load(self.cloud.as_deref())?;
        if let Some(r) = &self.region {
            cloud.region_name = Some(r.clone());
        }
        Ok(cloud)
    }
}

/// Where a vCenter's settings come from: the config itself, with the fields of
/// [`VsphereConfig`](hybrid_vsphere::VsphereConfig), or — when it names no field at
/// all — govc's `GOVC_*` variables and their `VSPHERE_*` twins, read when connecting.
///
/// ```json
/// {"kind": "vsphere", "url": "https://vcenter.example/sdk",
///  "user": "administrator@vsphere.local", "password": "…", "datacenter": "DC0"}
/// {"kind": "vsphere"}
/// ```
///
/// Unknown fields are rejected. A given config is normalized when it is parsed or built
/// ([`VsphereConfig::normalized`](hybrid_vsphere::VsphereConfig::normalized): credentials
/// in the URL are moved out of it), so neither `Debug` nor serialization ever shows the
/// password: it is never serialized back out.
#[cfg(feature = "vsphere")]
#[derive(Clone, Default)]
pub struct VsphereSettings {
    /// `None`: read the environment when connecting. Always normalized.
    config: Option<hybrid_vsphere::VsphereConfig>,
}

#[cfg(feature = "vsphere")]
impl VsphereSettings {
    /// Settings read from `GOVC_*` / `VSPHERE_*` when connecting (see
    /// [`VsphereConfig::from_env`](hybrid_vsphere::VsphereConfig::from_env)).
    pub fn from_environment() -> VsphereSettings {
        VsphereSettings { config: None }
    }

    /// Settings given in full.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`VsphereConfig::normalized`](hybrid_vsphere::VsphereConfig::normalized).
    pub fn new(config: hybrid_vsphere::VsphereConfig) -> Result<VsphereSettings> {
        Ok(VsphereSettings {
            config: Some(config.normalized()?),
        })
    }

    /// The given (normalized) config; `None` when the environment is to be read.
    pub fn config(&self) -> Option<&hybrid_vsphere::VsphereConfig> {
        self.config.as_ref()
    }

    /// The config to connect with: the given one, or the environment's.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`VsphereConfig::from_env`](hybrid_vsphere::VsphereConfig::from_env).
    pub fn resolve(&self) -> Result<hybrid_vsphere::VsphereConfig> {
        match &self.config {
            Some(c) => Ok(c.clone()),
            None => hybrid_vsphere::VsphereConfig::from_env(),
        }
    }
}

#[cfg(feature = "vsphere")]
impl std::fmt::Debug for VsphereSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.config {
            // VsphereConfig's Debug redacts the password; normalization took it out of the URL.
            Some(c) => f.debug_tuple("VsphereSettings").field(c).finish(),
            None => f.write_str("VsphereSettings(from GOVC_* / VSPHERE_*)"),
        }
    }
}

#[cfg(feature = "vsphere")]
impl Serialize for VsphereSettings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &self.config {
            // Every field but the password.
            m.serialize_entry("name", &c.name)?;
            m.serialize_entry("url", &c.url)?;
            if let Some(v) = &c.user {
                m.serialize_entry("user", v)?;
            }
            m.serialize_entry("insecure", &c.insecure)?;
            let optional = [
                ("datacenter", &c.datacenter),
                ("datastore", &c.datastore),
                ("folder", &c.folder),
                ("resource_pool", &c.resource_pool),
                ("network", &c.network),
            ];
            if let Some(v) = &c.ca_file {
                m.serialize_entry("ca_file", v)?;
            }
            for (k, v) in optional {
                if let Some(v) = v {
                    m.serialize_entry(k, v)?;
                }
            }
            m.serialize_entry("guest_id", &c.guest_id)?;
            m.serialize_entry("flavors", &c.flavors)?;
            m.serialize_entry("page_size", &c.page_size)?;
            m.serialize_entry("request_timeout_secs", &c.request_timeout_secs)?;
        }
        m.end()
    }
}

#[cfg(feature = "vsphere")]
impl<'de> Deserialize<'de> for VsphereSettings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        if fields.is_empty() {
            return Ok(VsphereSettings::from_environment());
        }
        let config: hybrid_vsphere::VsphereConfig =
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(D::Error::custom)?;
        VsphereSettings::new(config).map_err(|e| D::Error::custom(e.message()))
    }
}

/// Where an Azure resource group's settings come from: the config itself, with the
/// fields of [`AzureConfig`](hybrid_azure::AzureConfig), or — when it names no field at
/// all — the `AZURE_*` variables, read when connecting.
///
/// ```json
/// {"kind": "azure", "subscription_id": "00000000-0000-0000-0000-000000000000",
///  "resource_group": "web", "location": "westeurope",
///  "tenant_id": "contoso.onmicrosoft.com", "client_id": "…", "client_secret": "…"}
/// {"kind": "azure", "cloud": "china", "…": "…"}
/// {"kind": "azure"}
/// ```
///
/// `cloud` is a sovereign cloud's name (`public`, `china`, `us_government`) or a mapping
/// `{authority_host, resource_manager}`. Unknown fields are rejected, and a given config
/// is validated when it is parsed or built
/// ([`AzureConfig::validate`](hybrid_azure::AzureConfig::validate)). Neither `Debug` nor
/// serialization ever shows the client secret: it is never serialized back out, nor are
/// the `http` and `throttle` options.
#[cfg(feature = "azure")]
#[derive(Clone, Default)]
pub struct AzureSettings {
    /// `None`: read the environment when connecting. Always validated. Boxed: an
    /// `AzureConfig` is large beside the other kinds.
    config: Option<Box<hybrid_azure::AzureConfig>>,
}

#[cfg(feature = "azure")]
impl AzureSettings {
    /// Settings read from the `AZURE_*` variables when connecting (see
    /// [`AzureConfig::from_env`](hybrid_azure::AzureConfig::from_env)).
    pub fn from_environment() -> AzureSettings {
        AzureSettings { config: None }
    }

    /// Settings given in full.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`AzureConfig::validate`](hybrid_azure::AzureConfig::validate).
    pub fn new(config: hybrid_azure::AzureConfig) -> Result<AzureSettings> {
        config.validate()?;
        Ok(AzureSettings {
            config: Some(Box::new(config)),
        })
    }

    /// The given (validated) config; `None` when the environment is to be read.
    pub fn config(&self) -> Option<&hybrid_azure::AzureConfig> {
        self.config.as_deref()
    }

    /// The config to connect with: the given one, or the environment's.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`AzureConfig::from_env`](hybrid_azure::AzureConfig::from_env).
    pub fn resolve(&self) -> Result<hybrid_azure::AzureConfig> {
        match &self.config {
            Some(c) => Ok(c.as_ref().clone()),
            None => hybrid_azure::AzureConfig::from_env(),
        }
    }
}

#[cfg(feature = "azure")]
impl std::fmt::Debug for AzureSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.config {
            // AzureConfig's Debug redacts the client secret.
            Some(c) => f.debug_tuple("AzureSettings").field(c).finish(),
            None => f.write_str("AzureSettings(from AZURE_*)"),
        }
    }
}

#[cfg(feature = "azure")]
impl Serialize for AzureSettings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &self.config {
            // Every field but the client secret and the http / throttle options.
            m.serialize_entry("name", &c.name)?;
            let optional = [
                ("tenant_id", &c.tenant_id),
                ("client_id", &c.client_id),
                ("managed_identity_endpoint", &c.managed_identity_endpoint),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    m.serialize_entry(k, v)?;
                }
            }
            if let Some(p) = &c.client_certificate_path {
                m.serialize_entry("client_certificate_path", p)?;
            }
            m.serialize_entry("send_certificate_chain", &c.send_certificate_chain)?;
            if let Some(p) = &c.federated_token_file {
                m.serialize_entry("federated_token_file", p)?;
            }
            if !c.credentials.is_empty() {
                m.serialize_entry("credentials", &c.credentials)?;
            }
            let mut cloud = serde_json::Map::new();
            cloud.insert(
                "authority_host".into(),
                c.cloud.authority_host.clone().into(),
            );
            cloud.insert(
                "resource_manager".into(),
                c.cloud.resource_manager.clone().into(),
            );
            m.serialize_entry("cloud", &cloud)?;
            m.serialize_entry("subscription_id", &c.subscription_id)?;
            m.serialize_entry("resource_group", &c.resource_group)?;
            m.serialize_entry("location", &c.location)?;
            m.serialize_entry("admin_username", &c.admin_username)?;
            m.serialize_entry("stop_deallocates", &c.stop_deallocates)?;
            m.serialize_entry("vnet_address_space", &c.vnet_address_space)?;
            m.serialize_entry("public_ip_sku", &c.public_ip_sku)?;
            m.serialize_entry("disk_sku", &c.disk_sku)?;
        }
        m.end()
    }
}

#[cfg(feature = "azure")]
impl<'de> Deserialize<'de> for AzureSettings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        if fields.is_empty() {
            return Ok(AzureSettings::from_environment());
        }
        // A sovereign cloud by name.
        let named_cloud = match fields.get("cloud") {
            Some(serde_json::Value::String(name)) => Some(
                hybrid_azure::CloudEnvironment::by_name(name)
                    .map_err(|e| D::Error::custom(e.message()))?,
            ),
            _ => None,
        };
        if named_cloud.is_some() {
            fields.remove("cloud");
        }
        let mut config: hybrid_azure::AzureConfig =
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(D::Error::custom)?;
        if let Some(cloud) = named_cloud {
            config.cloud = cloud;
        }
        AzureSettings::new(config).map_err(|e| D::Error::custom(e.message()))
    }
}

impl CloudConfig {
    /// Parses a JSON document.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when it is not a valid
    /// config, naming what is wrong.
    pub fn from_json(text: &str) -> Result<CloudConfig> {
        serde_json::from_str(text).map_err(|e| Error::config(format!("invalid cloud config: {e}")))
    }

    /// Reads a JSON config file.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when it cannot be read or
    /// parsed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<CloudConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read {}: {e}", path.display())).with_source(e)
        })?;
        CloudConfig::from_json(&text)
            .map_err(|e| Error::config(format!("{}: {}", path.display(), e.message())))
    }

    /// The config the environment describes:
    /// - `HYBRID_CONFIG`: path to a JSON config file; otherwise
    /// - `HYBRID_PROVIDER` (`mock`), with `HYBRID_MOCK_PROFILE` (for example
    ///   `vsphere`) and `HYBRID_MOCK_SERVERS` for the mock; or `openstack` (feature
    ///   `openstack`), configured by `OS_CLOUD` / `OS_CLIENT_CONFIG_FILE` / `OS_*`; or
    ///   `vsphere` (feature `vsphere`), configured by govc's `GOVC_URL`,
    ///   `GOVC_USERNAME`, `GOVC_PASSWORD`, `GOVC_INSECURE`, … or their `VSPHERE_*`
    ///   twins, read here (see
    ///   [`VsphereConfig::from_env`](hybrid_vsphere::VsphereConfig::from_env)); or
    ///   `azure` (feature `azure`), configured by `AZURE_SUBSCRIPTION_ID`,
    ///   `AZURE_RESOURCE_GROUP`, `AZURE_LOCATION`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    ///   `AZURE_CLIENT_SECRET`, … read here (see
    ///   [`AzureConfig::from_env`](hybrid_azure::AzureConfig::from_env)).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when the variables are
    /// missing, unknown or invalid.
    pub fn from_env() -> Result<CloudConfig> {
        if let Ok(path) = std::env::var("HYBRID_CONFIG") {
            return CloudConfig::from_file(path);
        }
        let provider = std::env::var("HYBRID_PROVIDER").map_err(|_| {
            Error::config("set HYBRID_CONFIG (a config file) or HYBRID_PROVIDER (a provider kind)")
        })?;
        match provider.as_str() {
            #[cfg(feature = "mock")]
            "mock" => {
                let mut cfg = hybrid_core::mock::MockConfig::default();
                if let Ok(p) = std::env::var("HYBRID_MOCK_PROFILE") {
                    cfg.profile = hybrid_core::mock::Profile::parse(&p)?;
                }
                if let Ok(n) = std::env::var("HYBRID_MOCK_SERVERS") {
                    cfg.servers = n.parse().map_err(|_| {
                        Error::config(format!("HYBRID_MOCK_SERVERS is not a number: {n:?}"))
                    })?;
                }
                Ok(CloudConfig::Mock(cfg))
            }
            #[cfg(feature = "openstack")]
            "openstack" => Ok(CloudConfig::Openstack(OpenstackConfig::default())),
            #[cfg(feature = "vsphere")]
            "vsphere" => Ok(CloudConfig::Vsphere(VsphereSettings::new(
                hybrid_vsphere::VsphereConfig::from_env()?,
            )?)),
            #[cfg(feature = "azure")]
            "azure" => Ok(CloudConfig::Azure(AzureSettings::new(
                hybrid_azure::AzureConfig::from_env()?,
            )?)),
            other => Err(Error::config(format!(
                "HYBRID_PROVIDER={other:?} is not a provider kind this build supports"
            ))),
        }
    }
}

/// A connected provider: a gated `Arc<dyn Provider>` that derefs to [`Provider`].
#[derive(Clone, Debug)]
pub struct Cloud {
    provider: Arc<dyn Provider>,
}

impl Cloud {
    /// Opens the provider `config` describes.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) for an invalid config;
    /// for real backends, authentication and transport errors (OpenStack: see
    /// [`OpenStackProvider::connect`](hybrid_openstack::OpenStackProvider::connect);
    /// vSphere: see [`VsphereProvider::connect`](hybrid_vsphere::VsphereProvider::connect),
    /// which also refuses a standalone
    /// ESXi host with [`ErrorKind::Unsupported`](hybrid_core::ErrorKind::Unsupported);
    /// Azure: see [`AzureProvider::connect`](hybrid_azure::AzureProvider::connect), which
    /// reports every credential of the chain that failed).
    pub async fn connect(config: CloudConfig) -> Result<Cloud> {
        match config {
            #[cfg(feature = "mock")]
            CloudConfig::Mock(cfg) => Ok(Cloud::from_provider(Arc::new(
                hybrid_core::mock::MockProvider::from_config(cfg)?,
            ))),
            #[cfg(feature = "openstack")]
            CloudConfig::Openstack(cfg) => {
                let cloud = cfg.resolve()?;
                let p = hybrid_openstack::OpenStackProvider::connect(&cloud).await?;
                Ok(Cloud::from_provider(p))
            }
            #[cfg(feature = "vsphere")]
            CloudConfig::Vsphere(settings) => Ok(Cloud::from_provider(
                hybrid_vsphere::connect(settings.resolve()?).await?,
            )),
            #[cfg(feature = "azure")]
            CloudConfig::Azure(settings) => Ok(Cloud::from_provider(
                hybrid_azure::connect(settings.resolve()?).await?,
            )),
        }
    }

    /// Opens the provider the environment describes (see [`CloudConfig::from_env`]).
    ///
    /// # Errors
    /// As [`CloudConfig::from_env`] and [`Cloud::connect`].
    pub async fn from_env() -> Result<Cloud> {
        Cloud::connect(CloudConfig::from_env()?).await
    }

    /// Wraps any provider (behind the capability gate).
    pub fn from_provider(provider: Arc<dyn Provider>) -> Cloud {
        Cloud {
            provider: gate(provider),
        }
    }

    /// A mock of `profile` with default settings.
    #[cfg(feature = "mock")]
    pub fn mock(profile: hybrid_core::mock::Profile) -> Cloud {
        Cloud::from_provider(Arc::new(hybrid_core::mock::MockProvider::new(profile)))
    }

    /// The provider, to share.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }
}

impl Deref for Cloud {
    type Target = dyn Provider;

    fn deref(&self) -> &Self::Target {
        self.provider.as_ref()
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use hybrid_core::{ErrorKind, ProviderKind};

    #[tokio::test]
    async fn connects_from_json() {
        let cfg = CloudConfig::from_json(
            r#"{"kind": "mock", "profile": "azure", "servers": 2, "name": "az-prod"}"#,
        )
        .unwrap();
        let cloud = Cloud::connect(cfg).await.unwrap();
        let info = cloud.info();
        assert_eq!(info.kind, ProviderKind::Azure);
        assert_eq!(info.name, "az-prod");
        cloud.check().await.unwrap();
        let n = hybrid_core::ComputeExt::count_servers(cloud.compute(), Default::default())
            .await
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn bad_configs_are_config_errors() {
        let e = CloudConfig::from_json(r#"{"kind": "esxi"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("esxi"), "{e}");
        let e = CloudConfig::from_json(r#"{"kind": "mock", "profile": "nope"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = CloudConfig::from_file("/nonexistent/hybrid.json").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn secrets_are_not_serialized_or_printed() {
        let cfg =
            CloudConfig::from_json(r#"{"kind": "mock", "api_key": "top-secret-key"}"#).unwrap();
        assert!(!format!("{cfg:?}").contains("top-secret-key"));
        assert!(!serde_json::to_string(&cfg)
            .unwrap()
            .contains("top-secret-key"));
    }
}

#[cfg(all(test, feature = "openstack"))]
mod openstack_tests {
    use super::*;
    use hybrid_core::ErrorKind;

    #[test]
    fn openstack_configs_parse_and_reject_unknown_fields() {
        let cfg = CloudConfig::from_json(
            r#"{"kind": "openstack", "cloud": "prod", "region": "RegionTwo", "clouds_yaml": "/etc/x/clouds.yaml"}"#,
        )
        .unwrap();
        let CloudConfig::Openstack(os) = cfg else {
            panic!("not an openstack config")
        };
        assert_eq!(os.cloud.as_deref(), Some("prod"));
        assert_eq!(os.region.as_deref(), Some("RegionTwo"));
        assert_eq!(
            os.clouds_yaml.as_deref(),
            Some(std::path::Path::new("/etc/x/clouds.yaml"))
        );
        let e = CloudConfig::from_json(r#"{"kind": "openstack", "clod": "prod"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("clod"), "{e}");
    }

    #[test]
    fn an_entry_resolves_from_the_named_clouds_yaml_with_its_region_override() {
        let dir = std::env::temp_dir().join(format!("hybrid-facade-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("clouds.yaml");
        std::fs::write(
            &file,
            "clouds:\n  lab:\n    auth:\n      auth_url: http://127.0.0.1:9/identity\n      username: u\n      password: pw-facade-secret\n      project_name: p\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n",
        )
        .unwrap();
        let os = OpenstackConfig {
            cloud: Some("lab".into()),
            clouds_yaml: Some(file.clone()),
            region: Some("RegionTwo".into()),
        };
        let cloud = os.resolve().unwrap();
        assert_eq!(cloud.name, "lab");
        assert_eq!(cloud.region_name.as_deref(), Some("RegionTwo"));
        assert!(!format!("{cloud:?}").contains("pw-facade-secret"));
        let missing = OpenstackConfig {
            cloud: Some("nope".into()),
            ..os
        };
        assert_eq!(missing.resolve().unwrap_err().kind(), ErrorKind::Config);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(all(test, feature = "vsphere"))]
mod vsphere_tests {
    use super::*;
    use hybrid_core::ErrorKind;

    const SECRET: &str = "pw-vsphere-facade-7731";

    fn explicit(cfg: &CloudConfig) -> &hybrid_vsphere::VsphereConfig {
        match cfg {
            CloudConfig::Vsphere(s) => s.config().expect("an explicit config"),
            #[allow(unreachable_patterns)]
            _ => panic!("not a vsphere config"),
        }
    }

    #[test]
    fn vsphere_configs_parse_and_normalize() {
        let cfg = CloudConfig::from_json(&format!(
            r#"{{"kind": "vsphere", "url": "vc.example", "user": "administrator@vsphere.local",
                "password": "{SECRET}", "insecure": true, "datacenter": "DC0",
                "datastore": "LocalDS_0", "page_size": 50}}"#
        ))
        .unwrap();
        let vc = explicit(&cfg);
        assert_eq!(vc.url, "https://vc.example/sdk");
        assert_eq!(vc.user.as_deref(), Some("administrator@vsphere.local"));
        assert!(vc.password.is_some());
        assert!(vc.insecure);
        assert_eq!(vc.datacenter.as_deref(), Some("DC0"));
        assert_eq!(vc.datastore.as_deref(), Some("LocalDS_0"));
        assert_eq!(vc.page_size, 50);
    }

    #[test]
    fn an_empty_vsphere_config_reads_the_environment() {
        let cfg = CloudConfig::from_json(r#"{"kind": "vsphere"}"#).unwrap();
        let CloudConfig::Vsphere(s) = &cfg else {
            panic!("not a vsphere config")
        };
        assert!(s.config().is_none());
        assert!(format!("{cfg:?}").contains("GOVC_"), "{cfg:?}");
        assert_eq!(
            serde_json::to_value(&cfg).unwrap(),
            serde_json::json!({"kind": "vsphere"})
        );
    }

    #[test]
    fn vsphere_configs_reject_unknown_fields_and_bad_urls() {
        let e = CloudConfig::from_json(r#"{"kind": "vsphere", "url": "vc", "datacentre": "DC0"}"#)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("datacentre"), "{e}");
        let e = CloudConfig::from_json(r#"{"kind": "vsphere", "user": "u"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("url"), "{e}");
        let e = CloudConfig::from_json(&format!(
            r#"{{"kind": "vsphere", "url": "ftp://u:{SECRET}@vc"}}"#
        ))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!e.to_string().contains(SECRET), "{e}");
        assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
    }

    #[test]
    fn vsphere_secrets_are_not_serialized_or_printed() {
        for json in [
            format!(
                r#"{{"kind": "vsphere", "url": "https://vc.example/sdk", "user": "u", "password": "{SECRET}"}}"#
            ),
            // govc-style credentials in the URL are moved out of it.
            format!(r#"{{"kind": "vsphere", "url": "https://u:{SECRET}@vc.example/sdk"}}"#),
        ] {
            let cfg = CloudConfig::from_json(&json).unwrap();
            let vc = explicit(&cfg);
            assert_eq!(vc.url, "https://vc.example/sdk");
            assert_eq!(vc.user.as_deref(), Some("u"));
            assert!(vc.password.is_some());
            assert!(!format!("{cfg:?}").contains(SECRET), "{cfg:?}");
            assert!(!format!("{cfg:#?}").contains(SECRET));
            let out = serde_json::to_string(&cfg).unwrap();
            assert!(!out.contains(SECRET), "{out}");
            assert!(!out.contains("password"), "{out}");
            // What is serialized parses back (without the password).
            let back = CloudConfig::from_json(&out).unwrap();
            let vb = explicit(&back);
            assert_eq!(vb.url, vc.url);
            assert_eq!(vb.user, vc.user);
            assert!(vb.password.is_none());
            assert_eq!(vb.flavors, vc.flavors);
        }
    }

    #[test]
    fn built_settings_are_normalized() {
        let raw = hybrid_vsphere::VsphereConfig::new(format!("https://u:{SECRET}@vc.example"));
        let s = VsphereSettings::new(raw).unwrap();
        assert_eq!(s.config().unwrap().url, "https://vc.example/sdk");
        assert!(!format!("{s:?}").contains(SECRET));
        assert_eq!(s.resolve().unwrap().url, "https://vc.example/sdk");
        assert!(VsphereSettings::new(hybrid_vsphere::VsphereConfig::new("ftp://vc")).is_err());
    }

    #[test]
    fn hybrid_provider_vsphere_reads_the_govc_variables() {
        // The only test of this crate that touches these variables.
        std::env::remove_var("HYBRID_CONFIG");
        std::env::set_var("HYBRID_PROVIDER", "vsphere");
        std::env::set_var("VSPHERE_URL", "https://u:pw@vc-env.example");
        std::env::set_var("VSPHERE_PASSWORD", SECRET);
        let cfg = CloudConfig::from_env();
        std::env::remove_var("VSPHERE_URL");
        let missing = CloudConfig::from_env();
        for v in ["HYBRID_PROVIDER", "VSPHERE_PASSWORD"] {
            std::env::remove_var(v);
        }
        let cfg = cfg.unwrap();
        let vc = explicit(&cfg);
        assert_eq!(vc.url, "https://vc-env.example/sdk");
        assert_eq!(vc.user.as_deref(), Some("u"));
        assert!(!format!("{cfg:?}").contains(SECRET));
        if std::env::var_os("GOVC_URL").is_none() {
            assert_eq!(missing.unwrap_err().kind(), ErrorKind::Config);
        }
    }

    #[tokio::test]
    async fn connecting_to_nothing_fails_fast_as_transport_without_the_password() {
        let cfg = CloudConfig::from_json(&format!(
            r#"{{"kind": "vsphere", "url": "http://127.0.0.1:9/sdk", "user": "u",
                "password": "{SECRET}", "request_timeout_secs": 5}}"#
        ))
        .unwrap();
        let started = std::time::Instant::now();
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), Cloud::connect(cfg))
            .await
            .expect("connect gave up within 30 s")
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout),
            "{:?}: {e}",
            e.kind()
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        assert!(!e.to_string().contains(SECRET), "{e}");
        assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
    }
}
