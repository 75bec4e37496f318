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
pub enum CloudConfig {
    /// The in-memory mock provider (feature `mock`).
    #[cfg(feature = "mock")]
    Mock(hybrid_core::mock::MockConfig),
    /// An OpenStack region (feature `openstack`).
    #[cfg(feature = "openstack")]
    Openstack(OpenstackConfig),
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
    ///   `openstack`), configured by `OS_CLOUD` / `OS_CLIENT_CONFIG_FILE` / `OS_*`.
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
    /// [`OpenStackProvider::connect`](hybrid_openstack::OpenStackProvider::connect)).
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
