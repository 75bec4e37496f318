//! Fleets: many environments from one config file, opened lazily.
//!
//! Everything of [`hybrid_core::fleet`] (the [`Fleet`], [`WorkloadSpec`], placement,
//! inventory), plus [`FleetConfig`]: the environments, policy and deadlines of a fleet
//! from one YAML (or JSON) file.
//!
//! ```yaml
//! deadline_ms: 10000                  # per environment, unless it sets its own
//! environments:                       # in order: placement breaks ties by it
//!   vsphere-prod:
//!     kind: vsphere                   # any kind of CloudConfig: mock, openstack, vsphere, azure
//!     url: https://vcenter.example/sdk
//!     user: administrator@vsphere.local
//!     password_from: {env: VSPHERE_PROD_PASSWORD}   # or {file: /run/secrets/vc-prod}
//!     roles: [traditional]
//!     tags: {tier: production, certified: [oracle, sap]}
//!   openstack-kvm:
//!     kind: openstack                 # a clouds.yaml entry and one of its regions
//!     cloud: corp
//!     region: RegionOne
//!     roles: [dev-test, internal-web]
//!     tags: {tier: dev}
//!     deadline_ms: 5000
//!   azure-public:
//!     kind: azure                     # a subscription's resource group, Entra ID credentials
//!     subscription_id: 00000000-0000-0000-0000-000000000000
//!     resource_group: public-web
//!     location: westeurope
//!     tenant_id: contoso.onmicrosoft.com
//!     client_id: 11111111-1111-1111-1111-111111111111
//!     client_secret_from: {env: AZURE_CLIENT_SECRET}
//!     roles: [public-web]
//!     tags: {tier: production, public_bandwidth: high}
//! policy:
//!   - name: public-sites-need-bandwidth
//!     when: {tags: [public]}
//!     require: {tags: {public_bandwidth: high}}
//!     because: public sites serve the internet
//! ```
//!
//! An environment is a [`CloudConfig`] (its `kind` and that kind's fields, so an
//! OpenStack region is a `clouds.yaml` entry plus a region name, and `kind: vsphere`
//! `kind: openstack` or `kind: azure` with no other field reads `GOVC_*`, `OS_*` or
//! `AZURE_*`), plus `roles`,
//! policy `tags` and an optional `deadline_ms`. Secrets never have to be inline: any
//! field `X` can be given as `X_from: {env: VAR}` or `X_from: {file: path}` (read when
//! the environment is opened, trailing newline removed), or in a separate
//! `secrets_file` mapping environment names to fields (`vsphere-prod: {password:
//! …}`); OpenStack's own `secure.yaml` works as usual. Relative paths are relative to
//! the config file.
//!
//! ```no_run
//! use futures::StreamExt;
//! use hybrid::fleet::{FleetConfig, InventoryEvent, InventoryOptions, WorkloadSpec};
//!
//! async fn demo() -> hybrid::Result<()> {
//!     let fleet = FleetConfig::from_file("fleet.yaml")?.open()?; // connects to nothing yet
//!
//!     // Every environment at once; each within its deadline. A slow or failing one ends
//!     // in a report naming it and its error; the others are not held up.
//!     let mut inventory = fleet.inventory(InventoryOptions::new())?;
//!     while let Some(event) = inventory.next().await {
//!         match event {
//!             InventoryEvent::Item { environment, resource } => println!("{environment}: {}", resource.name()),
//!             InventoryEvent::Finished(report) => println!("{report}"),
//!             InventoryEvent::Opened { .. } => {}
//!         }
//!     }
//!
//!     let oracle = WorkloadSpec::new("oracle-db", 8, 64 * 1024)
//!         .with_disk_gib(200)
//!         .with_image("rhel-9-template")
//!         .with_vlan(120)
//!         .with_high_availability()
//!         .with_certification("oracle")
//!         .with_tag("production");
//!     println!("{}", fleet.place(&oracle).await?);            // the decision, explained
//!     println!("{}", fleet.image_plan(&oracle, "openstack-dev").await?); // import or convert?
//!     let made = fleet.provision(&oracle).await?;              // place, create, await
//!     println!("{made}");
//!     Ok(())
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

pub use hybrid_core::fleet::*;
use hybrid_core::{Error, Provider, Result};

use crate::{Cloud, CloudConfig};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file holding only the secret (a trailing newline is removed).
    File(PathBuf),
}

impl SecretSource {
    /// Reads the secret. Errors name the variable or file, never the value.
    fn read(&self, environment: &str, field: &str, base: Option<&Path>) -> Result<String> {
        match self {
            SecretSource::Env(var) => std::env::var(var).map_err(|_| {
                Error::config(format!(
                    "environment {environment}: {field}_from names the variable {var}, which is not set"
                ))
            }),
            SecretSource::File(path) => {
                let path = resolve_path(base, path);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::config(format!(
                        "environment {environment}: cannot read {field} from {}: {e}",
                        path.display()
                    ))
                })?;
                Ok(text.trim_end_matches(['\n', '\r']).to_owned())
            }
        }
    }
}

fn resolve_path(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path.to_owned(),
    }
}

/// What a secret placeholder looks like while a parsed environment is validated.
const PLACEHOLDER: &str = "(secret read when opening)";

#[derive(Clone)]
enum Settings {
    /// Built in code: connect with it as it is.
    Given(CloudConfig),
    /// Parsed from a file: the fields (which may hold inline secrets, so never
    /// printed), the secrets to read when opening, and the config as validated with
    /// placeholders (safe to print).
    Parsed {
        fields: Map<String, Value>,
        secrets: Vec<(String, SecretSource)>,
        validated: CloudConfig,
    },
}

/// One environment of a [`FleetConfig`]: a provider config, roles, policy tags and
/// an optional deadline.
#[derive(Clone)]
pub struct EnvironmentConfig {
    name: String,
    roles: Vec<String>,
    tags: PolicyTags,
    deadline: Option<Duration>,
    settings: Settings,
}

impl fmt::Debug for EnvironmentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EnvironmentConfig");
        d.field("name", &self.name)
            .field("roles", &self.roles)
            .field("tags", &self.tags)
            .field("deadline", &self.deadline);
        match &self.settings {
            // CloudConfig's Debug never shows a secret.
            Settings::Given(c) => d.field("cloud", c),
            Settings::Parsed {
                validated, secrets, ..
            } => d.field("cloud", validated).field(
                "secrets",
                &secrets.iter().map(|(k, s)| (k, s)).collect::<Vec<_>>(),
            ),
        };
        d.finish()
    }
}

impl EnvironmentConfig {
    /// An environment named `name` opened from `cloud`.
    pub fn new(name: impl Into<String>, cloud: CloudConfig) -> Self {
        EnvironmentConfig {
            name: name.into(),
            roles: Vec::new(),
            tags: PolicyTags::new(),
            deadline: None,
            settings: Settings::Given(cloud),
        }
    }

    /// Adds a role.
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Adds `value` to policy tag `key`.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key, value);
        self
    }

    /// Sets the environment's own deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// The policy tags.
    pub fn tags(&self) -> &PolicyTags {
        &self.tags
    }

    /// The own deadline, when set.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The provider config, with placeholders where secrets are read when opening.
    pub fn cloud(&self) -> &CloudConfig {
        match &self.settings {
            Settings::Given(c) => c,
            Settings::Parsed { validated, .. } => validated,
        }
    }

    /// The fields read from secret sources when opening, with their sources.
    pub fn secret_sources(&self) -> Vec<(&str, &SecretSource)> {
        match &self.settings {
            Settings::Given(_) => Vec::new(),
            Settings::Parsed { secrets, .. } => {
                secrets.iter().map(|(k, s)| (k.as_str(), s)).collect()
            }
        }
    }

    /// Parses one `environments:` entry.
    fn parse(name: String, value: Value) -> Result<Self> {
        let bad = |m: String| Error::config(format!("environment {name}: {m}"));
        let Value::Object(mut fields) = value else {
            return Err(bad("expected a mapping with a `kind`".into()));
        };
        let roles: Vec<String> = take(&mut fields, "roles")
            .map_err(&bad)?
            .unwrap_or_default();
        let tags: PolicyTags = take(&mut fields, "tags").map_err(&bad)?.unwrap_or_default();
        let deadline = take::<u64>(&mut fields, "deadline_ms")
            .map_err(&bad)?
            .map(Duration::from_millis);
        let mut secrets = Vec::new();
        let keys: Vec<String> = fields
            .keys()
            .filter(|k| k.ends_with("_from"))
            .cloned()
            .collect();
        for key in keys {
            let field = key.trim_end_matches("_from").to_owned();
            if fields.contains_key(&field) {
                return Err(bad(format!("{field} is given both inline and as {key}")));
            }
            let source: SecretSource = take(&mut fields, &key)
                .map_err(&bad)?
                .ok_or_else(|| bad(format!("{key} is empty")))?;
            secrets.push((field, source));
        }
        if !fields.contains_key("kind") {
            return Err(bad(
                "needs a `kind` (mock, openstack, vsphere, azure)".into()
            ));
        }
        // Kinds whose config has a `name` are named after their environment by default,
        // so reports and errors say which environment failed. (An OpenStack provider is
        // named by its clouds.yaml entry.) `{"kind": "vsphere"}` or `{"kind": "azure"}`
        // alone reads the environment's variables and stays nameless here.
        let named_kind = match fields.get("kind").and_then(Value::as_str) {
            Some("mock") => true,
            Some("vsphere" | "azure") => fields.len() > 1 || !secrets.is_empty(),
            _ => false,
        };
        if named_kind && !fields.contains_key("name") {
            fields.insert("name".into(), Value::String(name.clone()));
        }
        let mut probe = fields.clone();
        for (field, _) in &secrets {
            probe.insert(field.clone(), Value::String(PLACEHOLDER.into()));
        }
        let validated = cloud_config(probe).map_err(|e| bad(e.message().to_owned()))?;
        Ok(EnvironmentConfig {
            name,
            roles,
            tags,
            deadline,
            settings: Settings::Parsed {
                fields,
                secrets,
                validated,
            },
        })
    }

    /// The config to connect with: secrets read, the secrets file's fields merged.
    fn resolve(&self, base: Option<&Path>, secrets_file: Option<&Path>) -> Result<CloudConfig> {
        let (fields, secrets) = match &self.settings {
            Settings::Given(c) => return Ok(c.clone()),
            Settings::Parsed {
                fields, secrets, ..
            } => (fields, secrets),
        };
        let mut fields = fields.clone();
        for (field, source) in secrets {
            fields.insert(
                field.clone(),
                Value::String(source.read(&self.name, field, base)?),
            );
        }
        if let Some(path) = secrets_file {
            for (field, value) in read_secrets_file(path, &self.name)? {
                if fields.contains_key(&field) {
                    return Err(Error::config(format!(
                        "environment {}: {field} is given both in the config and in {}",
                        self.name,
                        path.display()
                    )));
                }
                fields.insert(field, value);
            }
        }
        // The error names fields, never their values.
        cloud_config(fields)
            .map_err(|e| Error::config(format!("environment {}: {}", self.name, e.message())))
    }
}

fn take<T: serde::de::DeserializeOwned>(
    fields: &mut Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<T>, String> {
    match fields.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| format!("invalid {key}: {e}")),
    }
}

fn cloud_config(fields: Map<String, Value>) -> Result<CloudConfig> {
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| Error::config(format!("invalid provider config: {e}")))
}

/// The fields the secrets file gives `environment` (none when it names it not).
fn read_secrets_file(path: &Path, environment: &str) -> Result<Vec<(String, Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!(
            "cannot read the secrets file {}: {e}",
            path.display()
        ))
    })?;
    // Never echo the parser's message: it may quote a secret.
    let all: BTreeMap<String, BTreeMap<String, String>> = serde_yaml_ng::from_str(&text)
        .map_err(|_| {
            Error::config(format!(
                "the secrets file {} is not a mapping of environment names to mappings of fields to strings",
                path.display()
            ))
        })?;
    Ok(all
        .get(environment)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default())
}

/// The environments in file order.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of environment names to environments")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    if out.iter().any(|(n, _)| n == &k) {
                        return Err(serde::de::Error::custom(format!(
                            "environment {k:?} is named twice"
                        )));
                    }
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    environments: Ordered,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    deadline_ms: Option<u64>,
    #[serde(default)]
    operation_timeout_ms: Option<u64>,
    #[serde(default)]
    secrets_file: Option<PathBuf>,
}

/// A fleet's environments, policy and deadlines, from a YAML or JSON file (see the
/// [module documentation](self) for the format) or built in code. [`open`](FleetConfig::open)
/// turns it into a [`Fleet`] without connecting to anything.
#[derive(Debug, Clone, Default)]
pub struct FleetConfig {
    /// The environments, in order.
    pub environments: Vec<EnvironmentConfig>,
    /// The policy.
    pub policy: Policy,
    /// The deadline of environments without their own (default
    /// [`DEFAULT_DEADLINE`]).
    pub deadline: Option<Duration>,
    /// How long provisioning waits for its operations (default
    /// [`DEFAULT_OPERATION_TIMEOUT`]).
    pub operation_timeout: Option<Duration>,
    /// A YAML file of secrets per environment (`name: {field: value}`), read when an
    /// environment is opened.
    pub secrets_file: Option<PathBuf>,
    /// The directory relative paths are resolved against (the config file's).
    pub base_dir: Option<PathBuf>,
}

impl FleetConfig {
    /// An empty config.
    pub fn new() -> Self {
        FleetConfig::default()
    }

    /// Adds an environment.
    pub fn with_environment(mut self, env: EnvironmentConfig) -> Self {
        self.environments.push(env);
        self
    }

    /// Sets the policy.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the deadline of environments without their own.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Parses a YAML (or JSON) document. Reads no secret and opens nothing.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) naming what is wrong: the
    /// YAML, an unknown top-level field, an environment without a `kind` or with an
    /// invalid provider config (checked with placeholders for its secrets), a field
    /// given both inline and as `X_from`, an invalid policy rule.
    pub fn from_yaml(text: &str) -> Result<FleetConfig> {
        let file: File = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::config(format!("invalid fleet config: {e}")))?;
        let environments = file
            .environments
            .0
            .into_iter()
            .map(|(name, v)| EnvironmentConfig::parse(name, v))
            .collect::<Result<Vec<_>>>()?;
        file.policy.validate()?;
        Ok(FleetConfig {
            environments,
            policy: file.policy,
            deadline: file.deadline_ms.map(Duration::from_millis),
            operation_timeout: file.operation_timeout_ms.map(Duration::from_millis),
            secrets_file: file.secrets_file,
            base_dir: None,
        })
    }

    /// Reads a YAML (or JSON) file; relative paths in it are relative to its directory.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when it cannot be read, or
    /// as [`from_yaml`](FleetConfig::from_yaml), prefixed with the path.
    pub fn from_file(path: impl AsRef<Path>) -> Result<FleetConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read {}: {e}", path.display())).with_source(e)
        })?;
        let mut cfg = FleetConfig::from_yaml(&text)
            .map_err(|e| Error::config(format!("{}: {}", path.display(), e.message())))?;
        cfg.base_dir = path.parent().map(Path::to_owned);
        Ok(cfg)
    }

    /// The fleet config file named by `HYBRID_FLEET`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when the variable is not
    /// set, or as [`from_file`](FleetConfig::from_file).
    pub fn from_env() -> Result<FleetConfig> {
        let path = std::env::var_os("HYBRID_FLEET")
            .ok_or_else(|| Error::config("set HYBRID_FLEET to a fleet config file"))?;
        FleetConfig::from_file(PathBuf::from(path))
    }

    /// The [`Fleet`]: each environment is opened on first use (secrets are read then),
    /// through [`Cloud::connect`]. Connects to nothing now.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) as
    /// [`FleetBuilder::build`]: no environment, duplicate names, an invalid policy.
    pub fn open(self) -> Result<Fleet> {
        let base = self.base_dir.clone();
        let secrets_file = self
            .secrets_file
            .as_ref()
            .map(|p| resolve_path(base.as_deref(), p));
        let mut b = Fleet::builder().with_policy(self.policy);
        if let Some(d) = self.deadline {
            b = b.with_deadline(d);
        }
        if let Some(t) = self.operation_timeout {
            b = b.with_operation_timeout(t);
        }
        for env in self.environments {
            let env = Arc::new(env);
            let (base, secrets_file) = (base.clone(), secrets_file.clone());
            let opener = env.clone();
            let mut e = Environment::lazy(env.name.clone(), move || {
                let env = opener.clone();
                let (base, secrets_file) = (base.clone(), secrets_file.clone());
                async move {
                    let cfg = env.resolve(base.as_deref(), secrets_file.as_deref())?;
                    let cloud = Cloud::connect(cfg).await?;
                    Ok::<Arc<dyn Provider>, Error>(cloud.provider().clone())
                }
            })
            .with_roles(env.roles.iter().cloned())
            .with_tags(env.tags.clone());
            if let Some(d) = env.deadline {
                e = e.with_deadline(d);
            }
            b = b.with_environment(e);
        }
        b.build()
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use futures::StreamExt;
    use hybrid_core::ErrorKind;

    const DUAL_MODE: &str = include_str!("../../examples/dual_mode.yaml");

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hybrid-fleet-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn the_shipped_dual_mode_fleet_parses_in_order_and_opens_lazily() {
        let cfg = FleetConfig::from_yaml(DUAL_MODE).unwrap();
        let names: Vec<&str> = cfg.environments.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["vsphere-prod", "openstack-dev", "azure-public"]);
        let vc = &cfg.environments[0];
        assert_eq!(vc.roles(), ["traditional"]);
        assert_eq!(vc.tags().get("certified"), ["oracle", "sap"]);
        assert_eq!(vc.tags().get("tier"), ["production"]);
        assert_eq!(
            cfg.environments[2].deadline(),
            Some(Duration::from_millis(800))
        );
        assert_eq!(cfg.deadline, Some(Duration::from_secs(2)));
        assert_eq!(cfg.operation_timeout, Some(Duration::from_secs(60)));
        assert_eq!(cfg.policy.rules.len(), 4);
        assert_eq!(cfg.policy.rules[3].weight, 10);
        let CloudConfig::Mock(m) = cfg.environments[1].cloud() else {
            panic!("not a mock")
        };
        // A mock without a name takes the environment's.
        assert_eq!(m.name.as_deref(), Some("openstack-dev"));
        assert_eq!(m.servers, 25);

        let fleet = cfg.open().unwrap();
        assert!(fleet.environments().all(|e| !e.is_open()));
        let spec = WorkloadSpec::new("ci", 2, 4096)
            .with_image("ubuntu-22.04")
            .with_tag("dev");
        let p = fleet.place(&spec).await.unwrap();
        assert_eq!(p.chosen().unwrap().environment, "openstack-dev");
        assert!(fleet.environments().all(|e| e.is_open()));
        let p = fleet
            .environment("vsphere-prod")
            .unwrap()
            .provider()
            .await
            .unwrap();
        assert_eq!(p.info().name, "vsphere-prod");
        assert_eq!(p.info().region.as_deref(), Some("dc-stavanger"));
    }

    #[tokio::test]
    async fn the_readme_placement_text_is_what_the_shipped_fleet_says() {
        let fleet = FleetConfig::from_yaml(DUAL_MODE).unwrap().open().unwrap();
        let wiki = WorkloadSpec::new("intranet-wiki", 2, 4096)
            .with_disk_gib(20)
            .with_image("ubuntu-22.04")
            .with_security_group("web-internal")
            .with_tag("internal");
        let shown = fleet.place(&wiki).await.unwrap().to_string();
        let readme = include_str!("../../README.md");
        assert!(readme.contains(&shown), "{shown}");
        assert!(shown.starts_with("intranet-wiki → openstack-dev: preferred by policy"));
    }

    #[tokio::test]
    async fn the_shipped_fleet_reports_azure_partial_at_its_deadline() {
        let fleet = FleetConfig::from_yaml(DUAL_MODE).unwrap().open().unwrap();
        let mut reports = Vec::new();
        let mut items = 0;
        let mut stream = fleet.inventory(InventoryOptions::new()).unwrap();
        while let Some(ev) = stream.next().await {
            match ev {
                InventoryEvent::Item { .. } => items += 1,
                InventoryEvent::Finished(r) => reports.push(r),
                InventoryEvent::Opened { .. } => {}
            }
        }
        assert_eq!(items, 40 + 2 + 2 + 25 + 2 + 2 + 12 + 1 + 2);
        let az = reports
            .iter()
            .find(|r| r.environment == "azure-public")
            .unwrap();
        assert!(az.timed_out);
        assert_eq!(
            az.summary(),
            "azure-public: partial — 12 servers, 1 network, 0 volumes, 2 images; not listed in full: volumes; inventory on azure-public failed: timeout: did not finish within 800ms"
        );
        assert!(reports.iter().filter(|r| r.is_complete()).count() == 2);
    }

    #[tokio::test]
    async fn secrets_come_from_the_environment_when_opening_and_never_show() {
        const SECRET: &str = "fleet-env-secret-9313";
        let yaml = |var: &str| {
            format!("environments:\n  keyed:\n    kind: mock\n    api_key_from: {{env: {var}}}\n")
        };
        std::env::set_var("HYBRID_FLEET_TEST_KEY_SET", SECRET);
        std::env::set_var("HYBRID_FLEET_TEST_KEY_EMPTY", "");
        std::env::remove_var("HYBRID_FLEET_TEST_KEY_UNSET");
        let cfg = FleetConfig::from_yaml(&yaml("HYBRID_FLEET_TEST_KEY_SET")).unwrap();
        assert_eq!(
            cfg.environments[0].secret_sources(),
            [(
                "api_key",
                &SecretSource::Env("HYBRID_FLEET_TEST_KEY_SET".into())
            )]
        );
        let fleet = cfg.clone().open().unwrap();
        let p = fleet
            .environment("keyed")
            .unwrap()
            .provider()
            .await
            .unwrap();
        p.check().await.unwrap();
        for shown in [format!("{cfg:?}"), format!("{fleet:?}"), format!("{p:?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
        // The value read is the one used: an empty key fails the mock's check.
        let empty = FleetConfig::from_yaml(&yaml("HYBRID_FLEET_TEST_KEY_EMPTY"))
            .unwrap()
            .open()
            .unwrap();
        let p = empty
            .environment("keyed")
            .unwrap()
            .provider()
            .await
            .unwrap();
        assert_eq!(
            p.check().await.unwrap_err().kind(),
            ErrorKind::Unauthenticated
        );
        // An unset variable fails that environment when it is opened, not the parse.
        let unset = FleetConfig::from_yaml(&yaml("HYBRID_FLEET_TEST_KEY_UNSET"))
            .unwrap()
            .open()
            .unwrap();
        let e = unset
            .environment("keyed")
            .unwrap()
            .provider()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!(
            e.to_string(),
            "keyed: config: environment keyed: api_key_from names the variable HYBRID_FLEET_TEST_KEY_UNSET, which is not set"
        );
        std::env::remove_var("HYBRID_FLEET_TEST_KEY_SET");
        std::env::remove_var("HYBRID_FLEET_TEST_KEY_EMPTY");
    }

    #[tokio::test]
    async fn secrets_come_from_files_relative_to_the_config() {
        const SECRET: &str = "fleet-file-secret-5120";
        let dir = temp_dir("files");
        std::fs::write(dir.join("key.txt"), format!("{SECRET}\n")).unwrap();
        std::fs::write(
            dir.join("secrets.yaml"),
            format!("from-secrets-file:\n  api_key: {SECRET}\nother: {{api_key: x}}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("fleet.yaml"),
            "secrets_file: secrets.yaml\nenvironments:\n  from-file:\n    kind: mock\n    api_key_from: {file: key.txt}\n  from-secrets-file:\n    kind: mock\n",
        )
        .unwrap();
        let cfg = FleetConfig::from_file(dir.join("fleet.yaml")).unwrap();
        assert_eq!(cfg.base_dir.as_deref(), Some(dir.as_path()));
        let base = cfg.base_dir.clone();
        let secrets = Some(dir.join("secrets.yaml"));
        for env in &cfg.environments {
            let CloudConfig::Mock(m) = env.resolve(base.as_deref(), secrets.as_deref()).unwrap()
            else {
                panic!("not a mock")
            };
            use secrecy::ExposeSecret;
            assert_eq!(m.api_key.unwrap().expose_secret(), SECRET, "{}", env.name());
        }
        let fleet = cfg.clone().open().unwrap();
        for name in ["from-file", "from-secrets-file"] {
            let p = fleet.environment(name).unwrap().provider().await.unwrap();
            p.check().await.unwrap();
        }
        assert!(!format!("{cfg:?}{fleet:?}").contains(SECRET));
        // A field given twice is refused, naming the file but not the value.
        std::fs::write(
            dir.join("secrets.yaml"),
            format!("from-file:\n  api_key: {SECRET}\n"),
        )
        .unwrap();
        let e = cfg.environments[0]
            .resolve(base.as_deref(), secrets.as_deref())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("api_key is given both in the config and in"),
            "{e}"
        );
        assert!(!e.to_string().contains(SECRET));
        std::fs::write(dir.join("secrets.yaml"), format!("[{SECRET}")).unwrap();
        let e = cfg.environments[0]
            .resolve(base.as_deref(), secrets.as_deref())
            .unwrap_err();
        assert!(!e.to_string().contains(SECRET), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_configs_are_config_errors_naming_the_problem() {
        let cases = [
            ("environments: {a: {kind: mock}}\ncolour: blue\n", "unknown field `colour`"),
            ("environments: {a: {profile: azure}}\n", "environment a: needs a `kind`"),
            ("environments: {a: {kind: esxi}}\n", "environment a: invalid provider config: unknown variant `esxi`"),
            ("environments: {a: {kind: mock, profile: aws}}\n", "environment a: invalid provider config: unknown variant `aws`"),
            (
                "environments: {a: {kind: mock, api_key: k, api_key_from: {env: K}}}\n",
                "environment a: api_key is given both inline and as api_key_from",
            ),
            (
                "environments: {a: {kind: mock, api_key_from: {vault: K}}}\n",
                "environment a: invalid api_key_from: unknown variant `vault`",
            ),
            ("environments: {a: {kind: mock, tags: {x: {y: 1}}}}\n", "environment a: invalid tags: tag \"x\" must be a scalar or a list"),
            ("environments: {a: {kind: mock}, a: {kind: mock}}\n", "named twice"),
            (
                "environments: {a: {kind: mock}}\npolicy: [{name: r, prefer: {roles: [x]}, forbid: {roles: [y]}}]\n",
                "policy rule \"r\" has more than one of require, forbid and prefer",
            ),
            ("environments: [a]\n", "a mapping of environment names to environments"),
        ];
        for (yaml, want) in cases {
            let e = FleetConfig::from_yaml(yaml).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{yaml}");
            assert!(e.to_string().contains(want), "{yaml}: {e}");
        }
        // JSON is YAML too.
        let cfg = FleetConfig::from_yaml(
            r#"{"environments": {"j": {"kind": "mock", "profile": "vsphere_nsx", "roles": ["dmz"]}}}"#,
        )
        .unwrap();
        assert_eq!(cfg.environments[0].roles(), ["dmz"]);
        let e = FleetConfig::from_file("/nonexistent/fleet.yaml").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = FleetConfig::new().open().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[tokio::test]
    async fn fleets_can_be_built_in_code() {
        let fleet = FleetConfig::new()
            .with_environment(
                EnvironmentConfig::new(
                    "edge",
                    CloudConfig::from_json(
                        r#"{"kind": "mock", "profile": "openstack_on_vsphere"}"#,
                    )
                    .unwrap(),
                )
                .with_role("edge")
                .with_tag("tier", "dev")
                .with_deadline(Duration::from_secs(3)),
            )
            .with_deadline(Duration::from_secs(9))
            .open()
            .unwrap();
        let env = fleet.environment("edge").unwrap();
        assert_eq!(env.deadline(), Some(Duration::from_secs(3)));
        assert_eq!(fleet.deadline(), Duration::from_secs(9));
        let spec = WorkloadSpec::new("intranet", 1, 2048)
            .with_os_family("linux")
            .with_security_group("web");
        let e = fleet.resolve_on(&spec, "edge").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(
            e.to_string(),
            "resolve on edge failed: unsupported: needs security groups (web): security groups need NSX: this region's Nova drives vCenter and its Neutron uses VMware port groups without NSX [resource intranet]"
        );
    }
}

#[cfg(all(test, feature = "openstack"))]
mod openstack_tests {
    use super::*;

    #[test]
    fn an_environment_can_be_a_clouds_yaml_entry_and_a_region() {
        let cfg = FleetConfig::from_yaml(
            "environments:\n  vmware-region:\n    kind: openstack\n    cloud: corp\n    region: RegionVMware\n    clouds_yaml: /etc/corp/clouds.yaml\n    roles: [traditional]\n  kvm-region:\n    kind: openstack\n    cloud: corp\n    region: RegionOne\n",
        )
        .unwrap();
        let regions: Vec<Option<&str>> = cfg
            .environments
            .iter()
            .map(|e| match e.cloud() {
                CloudConfig::Openstack(o) => {
                    assert_eq!(o.cloud.as_deref(), Some("corp"));
                    o.region.as_deref()
                }
                #[allow(unreachable_patterns)]
                _ => panic!("not openstack"),
            })
            .collect();
        assert_eq!(regions, [Some("RegionVMware"), Some("RegionOne")]);
        // OpenStack reads its secrets from secure.yaml or OS_*: no password field here.
        let e = FleetConfig::from_yaml(
            "environments:\n  r:\n    kind: openstack\n    cloud: corp\n    password_from: {env: X}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `password`"), "{e}");
    }
}

#[cfg(all(test, feature = "vsphere"))]
mod vsphere_tests {
    use super::*;

    #[tokio::test]
    async fn a_vcenter_password_comes_from_a_variable_and_never_shows() {
        const SECRET: &str = "vc-fleet-secret-2207";
        std::env::set_var("HYBRID_FLEET_TEST_VC_PASSWORD", SECRET);
        let cfg = FleetConfig::from_yaml(
            "environments:\n  vc:\n    kind: vsphere\n    url: http://127.0.0.1:9/sdk\n    user: administrator@vsphere.local\n    password_from: {env: HYBRID_FLEET_TEST_VC_PASSWORD}\n    request_timeout_secs: 5\n",
        )
        .unwrap();
        let fleet = cfg.clone().open().unwrap();
        let e = fleet
            .environment("vc")
            .unwrap()
            .provider()
            .await
            .unwrap_err();
        std::env::remove_var("HYBRID_FLEET_TEST_VC_PASSWORD");
        assert!(
            matches!(
                e.kind(),
                hybrid_core::ErrorKind::Transport | hybrid_core::ErrorKind::Timeout
            ),
            "{e}"
        );
        for shown in [
            format!("{cfg:?}"),
            format!("{fleet:?}"),
            e.to_string(),
            format!("{e:?}"),
        ] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
    }
}
