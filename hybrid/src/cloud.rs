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
    ///   `vsphere`) and `HYBRID_MOCK_SERVERS` for the mock.
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
    /// for real backends, authentication and transport errors.
    pub async fn connect(config: CloudConfig) -> Result<Cloud> {
        match config {
            #[cfg(feature = "mock")]
            CloudConfig::Mock(cfg) => Ok(Cloud::from_provider(Arc::new(
                hybrid_core::mock::MockProvider::from_config(cfg)?,
            ))),
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
