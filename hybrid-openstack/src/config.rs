//! Configuration as OpenStack users already have it: `clouds.yaml` with `secure.yaml`,
//! the standard search path, `OS_CLOUD`, `OS_CLIENT_CONFIG_FILE`, and the `OS_*`
//! variables, with the precedence openstacksdk uses:
//!
//! 1. The cloud is the one named by the caller, else `OS_CLOUD`.
//! 2. A named cloud comes from the first `clouds.yaml` found on the search path
//!    (`OS_CLIENT_CONFIG_FILE`, then `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
//!    `/etc/openstack/clouds.yaml`; `.yml` accepted), deep-merged with the same cloud in
//!    the first `secure.yaml` found (`OS_CLIENT_SECURE_FILE`, then the same folders).
//!    `OS_*` variables do not change a named cloud, as in openstacksdk.
//! 3. With no cloud named, the `OS_*` variables make a cloud called `envvars` (or
//!    `OS_CLOUD_NAME`), when `OS_AUTH_URL` is set.
//!
//! Secrets (password, application-credential secret, token) are
//! [`SecretString`]s from the moment they are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hybrid_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// User and password (`password`, `v3password`).
    Password,
    /// Application credential (`v3applicationcredential`).
    ApplicationCredential,
    /// An existing token (`token`, `v3token`).
    Token,
}

/// The `auth` section of a cloud.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Keystone URL, for example `http://127.0.0.1:5000/v3`.
    pub auth_url: Option<String>,
    /// User name (needs a user domain).
    pub username: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Password.
    pub password: Option<SecretString>,
    /// Project name (needs a project domain).
    pub project_name: Option<String>,
    /// Project id.
    pub project_id: Option<String>,
    /// User's domain name.
    pub user_domain_name: Option<String>,
    /// User's domain id.
    pub user_domain_id: Option<String>,
    /// Project's domain name.
    pub project_domain_name: Option<String>,
    /// Project's domain id.
    pub project_domain_id: Option<String>,
    /// Domain name, for a domain-scoped token.
    pub domain_name: Option<String>,
    /// Domain id, for a domain-scoped token.
    pub domain_id: Option<String>,
    /// `all` for a system-scoped token.
    pub system_scope: Option<String>,
    /// Application credential id.
    pub application_credential_id: Option<String>,
    /// Application credential name (needs the user).
    pub application_credential_name: Option<String>,
    /// Application credential secret.
    pub application_credential_secret: Option<SecretString>,
    /// An existing token.
    pub token: Option<SecretString>,
}

fn redact(s: &Option<SecretString>) -> Option<&'static str> {
    s.as_ref().map(|_| "[REDACTED]")
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("user_id", &self.user_id)
            .field("password", &redact(&self.password))
            .field("project_name", &self.project_name)
            .field("project_id", &self.project_id)
            .field("user_domain_name", &self.user_domain_name)
            .field("user_domain_id", &self.user_domain_id)
            .field("project_domain_name", &self.project_domain_name)
            .field("project_domain_id", &self.project_domain_id)
            .field("domain_name", &self.domain_name)
            .field("domain_id", &self.domain_id)
            .field("system_scope", &self.system_scope)
            .field("application_credential_id", &self.application_credential_id)
            .field(
                "application_credential_name",
                &self.application_credential_name,
            )
            .field(
                "application_credential_secret",
                &redact(&self.application_credential_secret),
            )
            .field("token", &redact(&self.token))
            .finish()
    }
}

/// One cloud's settings, resolved.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// The cloud's name (`envvars` for the environment's).
    pub name: String,
    /// Credentials and scope.
    pub auth: AuthConfig,
    /// How to authenticate.
    pub auth_type: AuthType,
    /// Region.
    pub region_name: Option<String>,
    /// The regions a `clouds.yaml` entry lists under `regions` (names, or maps with a
    /// `name`), for one provider per region; empty when not listed.
    pub regions: Vec<String>,
    /// Endpoint interface: `public` (default), `internal` or `admin`.
    pub interface: String,
    /// Extra CA bundle.
    pub cacert: Option<PathBuf>,
    /// Skip TLS verification (explicit opt-in only).
    pub insecure: bool,
}

/// Where to look for files and variables; the default reads the real environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigLoader {
    env: Option<BTreeMap<String, String>>,
    search_dirs: Option<Vec<PathBuf>>,
    clouds_file: Option<PathBuf>,
}

fn yaml_err(path: &Path, e: serde_yaml_ng::Error) -> Error {
    Error::config(format!("{}: invalid YAML: {e}", path.display()))
}

fn merge(base: &mut Yaml, over: Yaml) {
    match (base, over) {
        (Yaml::Mapping(b), Yaml::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn truthy(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCloud {
    auth: AuthConfig,
    auth_type: Option<String>,
    region_name: Option<String>,
    regions: Vec<RegionEntry>,
    interface: Option<String>,
    cacert: Option<PathBuf>,
    verify: Option<bool>,
    insecure: Option<bool>,
}

/// A `regions` entry: a name, or a map with a `name` (and per-region overrides, which
/// are not applied).
#[derive(Deserialize)]
#[serde(untagged)]
enum RegionEntry {
    Name(String),
    Map { name: String },
}

impl ConfigLoader {
    /// A loader over the process environment and the standard search path.
    pub fn new() -> Self {
        ConfigLoader::default()
    }

    /// Uses `vars` instead of the process environment (for tests and embedding).
    pub fn with_env(mut self, vars: BTreeMap<String, String>) -> Self {
        self.env = Some(vars);
        self
    }

    /// Looks for `clouds.yaml` and `secure.yaml` in `dirs` instead of the standard
    /// folders (`OS_CLIENT_CONFIG_FILE` still comes first).
    pub fn with_search_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.search_dirs = Some(dirs);
        self
    }

    /// Reads `clouds.yaml` from `path` (before `OS_CLIENT_CONFIG_FILE` and the search
    /// path); a `secure.yaml` beside it is read first among the `secure.yaml`s.
    pub fn with_clouds_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.clouds_file = Some(path.into());
        self
    }

    fn var(&self, k: &str) -> Option<String> {
        match &self.env {
            Some(m) => m.get(k).cloned(),
            None => std::env::var(k).ok(),
        }
        .filter(|v| !v.is_empty())
    }

    fn dirs(&self) -> Vec<PathBuf> {
        if let Some(d) = &self.search_dirs {
            return d.clone();
        }
        let mut d = vec![PathBuf::from(".")];
        if let Some(home) = self.var("HOME") {
            d.push(Path::new(&home).join(".config/openstack"));
        }
        d.push(PathBuf::from("/etc/openstack"));
        d
    }

    fn find(&self, file_var: &str, stem: &str) -> Option<PathBuf> {
        if let Some(clouds) = &self.clouds_file {
            if stem == "clouds" {
                return Some(clouds.clone());
            }
            let beside = clouds.parent().map(|d| d.join(format!("{stem}.yaml")));
            if let Some(p) = beside.filter(|p| p.is_file()) {
                return Some(p);
            }
        }
        if let Some(f) = self.var(file_var) {
            let p = PathBuf::from(f);
            if p.is_file() {
                return Some(p);
            }
        }
        for d in self.dirs() {
            for ext in ["yaml", "yml"] {
                let p = d.join(format!("{stem}.{ext}"));
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        None
    }

    fn read(path: &Path) -> Result<Yaml> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
        serde_yaml_ng::from_str(&text).map_err(|e| yaml_err(path, e))
    }

    /// The clouds named in the `clouds.yaml` found, if any.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when the file is unreadable or invalid.
    pub fn cloud_names(&self) -> Result<Vec<String>> {
        let Some(path) = self.find("OS_CLIENT_CONFIG_FILE", "clouds") else {
            return Ok(Vec::new());
        };
        let doc = Self::read(&path)?;
        Ok(doc
            .get("clouds")
            .and_then(Yaml::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Resolves the cloud `name` (else `OS_CLOUD`, else the `OS_*` variables).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config): no such cloud, no
    /// configuration at all, invalid YAML, or incomplete credentials (each names what
    /// is missing, never a secret).
    pub fn load(&self, name: Option<&str>) -> Result<CloudConfig> {
        let name = name.map(str::to_owned).or_else(|| self.var("OS_CLOUD"));
        match name {
            Some(n) => self.load_named(&n),
            None => self.load_envvars(),
        }
    }

    fn load_named(&self, name: &str) -> Result<CloudConfig> {
        let path = self.find("OS_CLIENT_CONFIG_FILE", "clouds").ok_or_else(|| {
            Error::config(format!(
                "cloud {name:?} was asked for, but no clouds.yaml was found (set OS_CLIENT_CONFIG_FILE or create ~/.config/openstack/clouds.yaml)"
            ))
        })?;
        let doc = Self::read(&path)?;
        let mut cloud = doc
            .get("clouds")
            .and_then(|c| c.get(name))
            .cloned()
            .ok_or_else(|| {
                Error::config(format!("{} has no cloud named {name:?}", path.display()))
            })?;
        if let Some(secure) = self.find("OS_CLIENT_SECURE_FILE", "secure") {
            let sdoc = Self::read(&secure)?;
            if let Some(s) = sdoc.get("clouds").and_then(|c| c.get(name)) {
                merge(&mut cloud, s.clone());
            }
        }
        let raw: RawCloud = serde_yaml_ng::from_value(cloud)
            .map_err(|e| Error::config(format!("{}: cloud {name:?}: {e}", path.display())))?;
        Self::resolve(name.to_owned(), raw)
    }

    fn load_envvars(&self) -> Result<CloudConfig> {
        if self.var("OS_AUTH_URL").is_none() {
            return Err(Error::config(
                "no OpenStack cloud configured: set OS_CLOUD (with a clouds.yaml) or OS_AUTH_URL and the other OS_* variables",
            ));
        }
        let secret = |k: &str| self.var(k).map(SecretString::from);
        let auth = AuthConfig {
            auth_url: self.var("OS_AUTH_URL"),
            username: self.var("OS_USERNAME"),
            user_id: self.var("OS_USER_ID"),
            password: secret("OS_PASSWORD"),
            project_name: self
                .var("OS_PROJECT_NAME")
                .or_else(|| self.var("OS_TENANT_NAME")),
            project_id: self
                .var("OS_PROJECT_ID")
                .or_else(|| self.var("OS_TENANT_ID")),
            user_domain_name: self.var("OS_USER_DOMAIN_NAME"),
            user_domain_id: self.var("OS_USER_DOMAIN_ID"),
            project_domain_name: self.var("OS_PROJECT_DOMAIN_NAME"),
            project_domain_id: self.var("OS_PROJECT_DOMAIN_ID"),
            domain_name: self.var("OS_DOMAIN_NAME"),
            domain_id: self.var("OS_DOMAIN_ID"),
            system_scope: self.var("OS_SYSTEM_SCOPE"),
            application_credential_id: self.var("OS_APPLICATION_CREDENTIAL_ID"),
            application_credential_name: self.var("OS_APPLICATION_CREDENTIAL_NAME"),
            application_credential_secret: secret("OS_APPLICATION_CREDENTIAL_SECRET"),
            token: secret("OS_TOKEN"),
        };
        let raw = RawCloud {
            auth,
            auth_type: self.var("OS_AUTH_TYPE"),
            region_name: self.var("OS_REGION_NAME"),
            regions: Vec::new(),
            interface: self
                .var("OS_INTERFACE")
                .or_else(|| self.var("OS_ENDPOINT_TYPE")),
            cacert: self.var("OS_CACERT").map(PathBuf::from),
            verify: None,
            insecure: self.var("OS_INSECURE").map(|v| truthy(&v)),
        };
        let name = self
            .var("OS_CLOUD_NAME")
            .unwrap_or_else(|| "envvars".to_owned());
        Self::resolve(name, raw)
    }

    fn resolve(name: String, raw: RawCloud) -> Result<CloudConfig> {
        let a = &raw.auth;
        let missing = |what: &str| Error::config(format!("cloud {name:?}: {what}"));
        if a.auth_url.is_none() {
            return Err(missing("auth_url (OS_AUTH_URL) is missing"));
        }
        let auth_type = match raw.auth_type.as_deref() {
            Some("password" | "v3password") => AuthType::Password,
            Some("v3applicationcredential" | "application_credential") => {
                AuthType::ApplicationCredential
            }
            Some("token" | "v3token") => AuthType::Token,
            Some(other) => {
                return Err(missing(&format!(
                "auth_type {other:?} is not supported (password, v3applicationcredential, token)"
            )))
            }
            None if a.application_credential_secret.is_some() => AuthType::ApplicationCredential,
            None if a.token.is_some() && a.password.is_none() => AuthType::Token,
            None => AuthType::Password,
        };
        match auth_type {
            AuthType::Password => {
                if a.password
                    .as_ref()
                    .is_none_or(|p| p.expose_secret().is_empty())
                {
                    return Err(missing(
                        "password authentication needs a password (OS_PASSWORD or secure.yaml)",
                    ));
                }
                if a.user_id.is_none() && a.username.is_none() {
                    return Err(missing("password authentication needs username or user_id"));
                }
                if a.user_id.is_none() && a.user_domain_id.is_none() && a.user_domain_name.is_none()
                {
                    return Err(missing(
                        "a username needs user_domain_name or user_domain_id",
                    ));
                }
                if a.project_name.is_some()
                    && a.project_id.is_none()
                    && a.project_domain_id.is_none()
                    && a.project_domain_name.is_none()
                {
                    return Err(missing(
                        "a project_name needs project_domain_name or project_domain_id",
                    ));
                }
            }
            AuthType::ApplicationCredential => {
                if a.application_credential_secret.is_none() {
                    return Err(missing("an application credential needs its secret"));
                }
                if a.application_credential_id.is_none() {
                    if a.application_credential_name.is_none() {
                        return Err(missing(
                            "an application credential needs its id, or its name and user",
                        ));
                    }
                    if a.user_id.is_none() && a.username.is_none() {
                        return Err(missing(
                            "an application credential named by name needs its user",
                        ));
                    }
                }
            }
            AuthType::Token => {
                if a.token.is_none() {
                    return Err(missing("token authentication needs a token (OS_TOKEN)"));
                }
            }
        }
        let interface = raw
            .interface
            .unwrap_or_else(|| "public".to_owned())
            .trim_end_matches("URL")
            .to_owned();
        if !matches!(interface.as_str(), "public" | "internal" | "admin") {
            return Err(missing(&format!(
                "interface {interface:?} is not public, internal or admin"
            )));
        }
        let insecure = raw.insecure.unwrap_or(false) || raw.verify == Some(false);
        Ok(CloudConfig {
            name,
            auth: raw.auth,
            auth_type,
            region_name: raw.region_name,
            regions: raw
                .regions
                .into_iter()
                .map(|r| match r {
                    RegionEntry::Name(n) | RegionEntry::Map { name: n } => n,
                })
                .collect(),
            interface,
            cacert: raw.cacert,
            insecure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ErrorKind;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hybrid-os-config-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const CLOUDS: &str = r#"
clouds:
  devstack:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_id: default
    region_name: RegionOne
    interface: internal
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example/v3
      application_credential_id: ac-1
    verify: false
"#;

    const SECURE: &str = r#"
clouds:
  devstack:
    auth:
      password: pa55-from-secure-yaml
  appcred:
    auth:
      application_credential_secret: ac-secret-xyz
"#;

    #[test]
    fn clouds_yaml_merged_with_secure_yaml() {
        let d = tmpdir("merge");
        std::fs::write(d.join("clouds.yaml"), CLOUDS).unwrap();
        std::fs::write(d.join("secure.yaml"), SECURE).unwrap();
        let loader = ConfigLoader::new()
            .with_env(env(&[
                ("OS_CLOUD", "devstack"),
                ("OS_PASSWORD", "ignored-for-named-clouds"),
            ]))
            .with_search_dirs(vec![d.clone()]);
        let c = loader.load(None).unwrap();
        assert_eq!(c.name, "devstack");
        assert_eq!(c.auth_type, AuthType::Password);
        assert_eq!(
            c.auth.password.as_ref().unwrap().expose_secret(),
            "pa55-from-secure-yaml"
        );
        assert_eq!(c.region_name.as_deref(), Some("RegionOne"));
        assert_eq!(c.interface, "internal");
        assert!(!c.insecure);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("pa55"), "{dbg}");

        let a = loader.load(Some("appcred")).unwrap();
        assert_eq!(a.auth_type, AuthType::ApplicationCredential);
        assert!(a.insecure, "verify: false means insecure");
        assert!(!format!("{a:?}").contains("ac-secret-xyz"));
        assert_eq!(
            loader.cloud_names().unwrap(),
            vec!["devstack".to_owned(), "appcred".to_owned()]
        );

        let e = loader.load(Some("nope")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("nope"));
    }

    #[test]
    fn client_config_file_comes_first() {
        let d = tmpdir("first");
        let other = d.join("elsewhere.yaml");
        std::fs::write(&other, CLOUDS.replace("devstack", "special")).unwrap();
        std::fs::write(d.join("clouds.yaml"), CLOUDS).unwrap();
        std::fs::write(d.join("secure.yaml"), SECURE.replace("devstack", "special")).unwrap();
        let loader = ConfigLoader::new()
            .with_env(env(&[("OS_CLIENT_CONFIG_FILE", other.to_str().unwrap())]))
            .with_search_dirs(vec![d]);
        let c = loader.load(Some("special")).unwrap();
        assert_eq!(c.name, "special");
        assert!(loader.load(Some("devstack")).is_err());
    }

    #[test]
    fn envvars_cloud() {
        let loader = ConfigLoader::new()
            .with_env(env(&[
                ("OS_AUTH_URL", "http://127.0.0.1:5000/v3"),
                ("OS_USERNAME", "admin"),
                ("OS_PASSWORD", "env-secret-pw"),
                ("OS_PROJECT_NAME", "admin"),
                ("OS_USER_DOMAIN_NAME", "Default"),
                ("OS_PROJECT_DOMAIN_NAME", "Default"),
                ("OS_REGION_NAME", "RegionOne"),
                ("OS_INTERFACE", "publicURL"),
                ("OS_CACERT", "/etc/ssl/corp-ca.pem"),
                ("OS_INSECURE", "false"),
            ]))
            .with_search_dirs(Vec::new());
        let c = loader.load(None).unwrap();
        assert_eq!(c.name, "envvars");
        assert_eq!(c.interface, "public");
        assert_eq!(c.cacert.as_deref(), Some(Path::new("/etc/ssl/corp-ca.pem")));
        assert!(!c.insecure);
        assert!(!format!("{c:?}").contains("env-secret-pw"));

        let tok = ConfigLoader::new()
            .with_env(env(&[
                ("OS_AUTH_URL", "http://k/v3"),
                ("OS_TOKEN", "gAAAA-token"),
                ("OS_CLOUD_NAME", "mine"),
            ]))
            .with_search_dirs(Vec::new())
            .load(None)
            .unwrap();
        assert_eq!(tok.auth_type, AuthType::Token);
        assert_eq!(tok.name, "mine");
    }

    #[test]
    fn incomplete_configs_are_named_config_errors_without_secrets() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![], "no OpenStack cloud configured"),
            (
                vec![
                    ("OS_AUTH_URL", "http://k/v3"),
                    ("OS_USERNAME", "u"),
                    ("OS_USER_DOMAIN_NAME", "D"),
                ],
                "needs a password",
            ),
            (
                vec![
                    ("OS_AUTH_URL", "http://k/v3"),
                    ("OS_USERNAME", "u"),
                    ("OS_PASSWORD", "hunter2-secret"),
                ],
                "user_domain",
            ),
            (
                vec![
                    ("OS_AUTH_URL", "http://k/v3"),
                    ("OS_USER_ID", "u"),
                    ("OS_PASSWORD", "hunter2-secret"),
                    ("OS_PROJECT_NAME", "p"),
                ],
                "project_domain",
            ),
            (
                vec![
                    ("OS_AUTH_URL", "http://k/v3"),
                    ("OS_APPLICATION_CREDENTIAL_NAME", "n"),
                    ("OS_APPLICATION_CREDENTIAL_SECRET", "hunter2-secret"),
                ],
                "needs its user",
            ),
            (
                vec![
                    ("OS_AUTH_URL", "http://k/v3"),
                    ("OS_USER_ID", "u"),
                    ("OS_PASSWORD", "hunter2-secret"),
                    ("OS_INTERFACE", "weird"),
                ],
                "interface",
            ),
        ];
        for (vars, want) in cases {
            let e = ConfigLoader::new()
                .with_env(env(&vars))
                .with_search_dirs(Vec::new())
                .load(None)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            let msg = e.to_string();
            assert!(msg.contains(want), "{msg} should mention {want}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }

    #[test]
    fn invalid_yaml_is_a_config_error() {
        let d = tmpdir("bad");
        std::fs::write(d.join("clouds.yaml"), "clouds: [unclosed").unwrap();
        let e = ConfigLoader::new()
            .with_env(env(&[]))
            .with_search_dirs(vec![d])
            .load(Some("x"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("invalid YAML"), "{e}");
    }
}
