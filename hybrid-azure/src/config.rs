//! Configuration: where Azure is, who the caller is, and the scope it works in.
//!
//! [`AzureConfig`] deserializes from a configuration file (every field but the scope
//! has a default), is built with [`AzureBuilder`], or read from the environment with
//! [`AzureConfig::from_env`]:
//!
//! | variable | setting |
//! | --- | --- |
//! | `AZURE_TENANT_ID` | [`tenant_id`](AzureConfig::tenant_id) |
//! | `AZURE_CLIENT_ID` | [`client_id`](AzureConfig::client_id) (also the user-assigned managed identity) |
//! | `AZURE_CLIENT_SECRET` | [`client_secret`](AzureConfig::client_secret) |
//! | `AZURE_CLIENT_CERTIFICATE_PATH` | [`client_certificate_path`](AzureConfig::client_certificate_path) (PEM: certificate and unencrypted RSA key) |
//! | `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN` | [`send_certificate_chain`](AzureConfig::send_certificate_chain) |
//! | `AZURE_FEDERATED_TOKEN_FILE` | [`federated_token_file`](AzureConfig::federated_token_file) |
//! | `AZURE_AUTHORITY_HOST` | [`cloud.authority_host`](CloudEnvironment::authority_host) |
//! | `AZURE_CLOUD` | the cloud by name: `AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment` |
//! | `AZURE_RESOURCE_MANAGER_ENDPOINT` | [`cloud.resource_manager`](CloudEnvironment::resource_manager) |
//! | `AZURE_SUBSCRIPTION_ID` | [`subscription_id`](AzureConfig::subscription_id) (required) |
//! | `AZURE_RESOURCE_GROUP` | [`resource_group`](AzureConfig::resource_group) (required) |
//! | `AZURE_LOCATION` | [`location`](AzureConfig::location) (required) |
//! | `AZURE_IMDS_ENDPOINT` | [`managed_identity_endpoint`](AzureConfig::managed_identity_endpoint) |
//! | `HYBRID_AZURE_CREDENTIALS` | [`credentials`](AzureConfig::credentials): the chain's order, comma-separated (`client_secret,managed_identity`) |
//! | `REQUESTS_CA_BUNDLE` | [`http.ca_bundle`](hybrid_http::ClientOptions::ca_bundle): a PEM file of extra CAs to trust (an enterprise CA, a TLS-inspecting proxy) |
//!
//! `AZURE_IMDS_ENDPOINT`, `AZURE_RESOURCE_MANAGER_ENDPOINT`, `AZURE_CLOUD` and
//! `HYBRID_AZURE_CREDENTIALS` are hybrid's own names. `REQUESTS_CA_BUNDLE` is the
//! variable the Azure CLI and the Python SDKs read for a custom CA bundle; hybrid
//! trusts its CAs *besides* the built-in roots (Python's `requests` trusts only the
//! bundle). Certificate checks are never switched off by a variable: that takes
//! [`ClientOptions::with_danger_accept_invalid_certs`](hybrid_http::ClientOptions::with_danger_accept_invalid_certs)
//! (or `"http": {"danger_accept_invalid_certs": true}` in a configuration file), and
//! `hybrid-http` logs a warning whenever a client is built with it. `AZURE_CLIENT_CERTIFICATE_PASSWORD` is refused
//! with a `Config` error: encrypted keys are not read.
//!
//! Endpoints must be `https`, except on a loopback address (tests) and, for managed
//! identity, the link-local IMDS address `169.254.169.254`, which Azure serves over
//! plain HTTP.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use hybrid_core::{Error, Result};
use hybrid_http::{ClientOptions, SecretString, Url};
use serde::{Deserialize, Serialize};

use crate::throttle::ThrottleOptions;

/// Where a cloud's Entra ID and ARM live.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudEnvironment {
    /// The Entra ID authority, for example `https://login.microsoftonline.com`.
    pub authority_host: String,
    /// The ARM endpoint, for example `https://management.azure.com`. The token scope is
    /// this endpoint with `/.default`.
    pub resource_manager: String,
}

impl Default for CloudEnvironment {
    fn default() -> Self {
        CloudEnvironment::public()
    }
}

impl CloudEnvironment {
    /// Azure's public cloud.
    pub fn public() -> Self {
        CloudEnvironment {
            authority_host: "https://login.microsoftonline.com".into(),
            resource_manager: "https://management.azure.com".into(),
        }
    }

    /// Azure operated by 21Vianet (China).
    pub fn china() -> Self {
        CloudEnvironment {
            authority_host: "https://login.chinacloudapi.cn".into(),
            resource_manager: "https://management.chinacloudapi.cn".into(),
        }
    }

    /// Azure Government (US).
    pub fn us_government() -> Self {
        CloudEnvironment {
            authority_host: "https://login.microsoftonline.us".into(),
            resource_manager: "https://management.usgovcloudapi.net".into(),
        }
    }

    /// The cloud called `name` as the Azure CLI names them (`AzureCloud`,
    /// `AzureChinaCloud`, `AzureUSGovernment`; case-insensitive).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) for another name.
    pub fn by_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "azurecloud" | "public" | "azurepubliccloud" => Ok(Self::public()),
            "azurechinacloud" | "china" => Ok(Self::china()),
            "azureusgovernment" | "azureusgovernmentcloud" | "usgovernment" => {
                Ok(Self::us_government())
            }
            _ => Err(Error::config(format!(
                "unknown Azure cloud {name:?} (AzureCloud, AzureChinaCloud or AzureUSGovernment)"
            ))),
        }
    }

    /// The ARM endpoint as a URL ending in `/`.
    ///
    /// # Errors
    /// `Config` when it is not an `https` URL (or `http` on a loopback address).
    pub fn resource_manager_url(&self) -> Result<Url> {
        endpoint_url(
            &self.resource_manager,
            "the resource manager endpoint",
            false,
        )
    }

    /// The authority as a URL ending in `/`.
    ///
    /// # Errors
    /// `Config` when it is not an `https` URL (or `http` on a loopback address).
    pub fn authority_url(&self) -> Result<Url> {
        endpoint_url(&self.authority_host, "the authority host", false)
    }

    /// The token scope for ARM: `{resource_manager}/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.resource_manager.trim_end_matches('/'))
    }
}

/// Parses an endpoint: `https`, or `http` on loopback (and on IMDS's link-local address
/// when `imds` is set); no credentials, query or fragment. The result ends in `/`.
pub(crate) fn endpoint_url(s: &str, what: &str, imds: bool) -> Result<Url> {
    let mut url = Url::parse(s.trim())
        .map_err(|e| Error::config(format!("{what} {s:?} is not a URL")).with_source(e))?;
    let host_ip = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok());
    let loopback =
        host_ip.is_some_and(|ip| ip.is_loopback()) || url.host_str() == Some("localhost");
    let link_local_imds = host_ip == Some(IpAddr::from([169, 254, 169, 254]));
    match url.scheme() {
        "https" => {}
        "http" if loopback || (imds && link_local_imds) => {}
        "http" => {
            return Err(Error::config(format!(
                "{what} must use https (plain http is allowed only on a loopback address)"
            )))
        }
        other => {
            return Err(Error::config(format!(
                "{what} has the unsupported scheme {other:?}"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!("{what} must not carry credentials")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "{what} must have no query or fragment"
        )));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// One way of getting a token, as a link of the credential chain. Serialized by its
/// snake-case name (`client_secret`, …) and deserialized by [`parse`](Self::parse),
/// which also reads the short names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum CredentialKind {
    /// A service principal's client secret.
    ClientSecret,
    /// A service principal's certificate: a signed JWT assertion.
    ClientCertificate,
    /// Workload identity federation: a token file (Kubernetes, GitHub Actions) as the
    /// client assertion.
    WorkloadIdentity,
    /// The managed identity of the Azure host (IMDS).
    ManagedIdentity,
}

impl TryFrom<String> for CredentialKind {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        CredentialKind::parse(&s)
    }
}

impl CredentialKind {
    /// The kind named `s` (`client_secret`, `client_certificate`, `workload_identity`,
    /// `managed_identity`; `secret`, `certificate`, `workload`, `managed` too).
    ///
    /// # Errors
    /// `Config` for another name.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "client_secret" | "secret" => Ok(CredentialKind::ClientSecret),
            "client_certificate" | "certificate" => Ok(CredentialKind::ClientCertificate),
            "workload_identity" | "workload" | "federated" => Ok(CredentialKind::WorkloadIdentity),
            "managed_identity" | "managed" | "msi" => Ok(CredentialKind::ManagedIdentity),
            other => Err(Error::config(format!(
                "unknown credential kind {other:?} (client_secret, client_certificate, workload_identity, managed_identity)"
            ))),
        }
    }

    /// A short name, for example `client secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ClientSecret => "client secret",
            CredentialKind::ClientCertificate => "client certificate",
            CredentialKind::WorkloadIdentity => "workload identity",
            CredentialKind::ManagedIdentity => "managed identity",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The default IMDS endpoint of managed identity.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// Everything needed to talk to Azure. `Debug` never shows the client secret.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureConfig {
    /// The provider's name in `info()` and errors. Default: `azure`.
    pub name: String,
    /// The Entra ID tenant (directory) id or domain.
    pub tenant_id: Option<String>,
    /// The application (client) id of the service principal, or of a user-assigned
    /// managed identity.
    pub client_id: Option<String>,
    /// The service principal's client secret.
    pub client_secret: Option<SecretString>,
    /// A PEM file with the service principal's certificate and its unencrypted RSA
    /// private key (PKCS#8 or PKCS#1).
    pub client_certificate_path: Option<PathBuf>,
    /// Whether the certificate chain goes with each assertion (`x5c`), for subject name
    /// and issuer authentication. Default: false.
    pub send_certificate_chain: bool,
    /// A file holding a federated token (workload identity), read for every token.
    pub federated_token_file: Option<PathBuf>,
    /// The managed identity endpoint (IMDS). Default: [`DEFAULT_IMDS_ENDPOINT`].
    pub managed_identity_endpoint: Option<String>,
    /// The credential chain in the order to try. Empty (the default): the kinds whose
    /// settings are present (secret, certificate, federated token file, in that order),
    /// or managed identity alone when none is.
    pub credentials: Vec<CredentialKind>,
    /// Where Entra ID and ARM are (sovereign clouds). Default: the public cloud.
    pub cloud: CloudEnvironment,
    /// The subscription id. Required.
    pub subscription_id: String,
    /// The resource group the provider works in. Required.
    pub resource_group: String,
    /// The location new resources are created in, for example `westeurope`. Required.
    pub location: String,
    /// The administrator user of new Linux VMs; SSH keys go to its
    /// `authorized_keys`. Default: `azureuser`.
    pub admin_username: String,
    /// Whether `stop_server` deallocates the VM (stops billing for its compute) rather
    /// than powering it off. Default: true.
    pub stop_deallocates: bool,
    /// The address space of new virtual networks. A subnet created outside it widens
    /// it. Default: `["10.0.0.0/16"]`.
    pub vnet_address_space: Vec<String>,
    /// The SKU of new public IP addresses. Default: `Standard`.
    pub public_ip_sku: String,
    /// The SKU of new managed disks when the spec names none. Default: `StandardSSD_LRS`.
    pub disk_sku: String,
    /// How to slow down when ARM's remaining-request counts run low.
    pub throttle: ThrottleOptions,
    /// HTTP client options (timeouts, proxy, CA bundle, retries).
    pub http: ClientOptions,
}

impl Default for AzureConfig {
    fn default() -> Self {
        AzureConfig {
            name: "azure".into(),
            tenant_id: None,
            client_id: None,
            client_secret: None,
            client_certificate_path: None,
            send_certificate_chain: false,
            federated_token_file: None,
            managed_identity_endpoint: None,
            credentials: Vec::new(),
            cloud: CloudEnvironment::public(),
            subscription_id: String::new(),
            resource_group: String::new(),
            location: String::new(),
            admin_username: "azureuser".into(),
            stop_deallocates: true,
            vnet_address_space: vec!["10.0.0.0/16".into()],
            public_ip_sku: "Standard".into(),
            disk_sku: "StandardSSD_LRS".into(),
            throttle: ThrottleOptions::default(),
            http: ClientOptions::default(),
        }
    }
}

impl fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureConfig")
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("client_certificate_path", &self.client_certificate_path)
            .field("send_certificate_chain", &self.send_certificate_chain)
            .field("federated_token_file", &self.federated_token_file)
            .field("managed_identity_endpoint", &self.managed_identity_endpoint)
            .field("credentials", &self.credentials)
            .field("cloud", &self.cloud)
            .field("subscription_id", &self.subscription_id)
            .field("resource_group", &self.resource_group)
            .field("location", &self.location)
            .field("admin_username", &self.admin_username)
            .field("stop_deallocates", &self.stop_deallocates)
            .field("vnet_address_space", &self.vnet_address_space)
            .field("public_ip_sku", &self.public_ip_sku)
            .field("disk_sku", &self.disk_sku)
            .field("throttle", &self.throttle)
            .field("http", &self.http)
            .finish()
    }
}

fn valid_resource_group(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 90
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

fn valid_tenant(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
}

impl AzureConfig {
    /// A configuration for `subscription_id`, `resource_group` and `location`, with
    /// every other setting at its default (no credential yet).
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
        AzureConfig {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            location: location.into(),
            ..AzureConfig::default()
        }
    }

    /// Reads the `AZURE_*` variables (see the [module docs](self)) and validates.
    ///
    /// # Errors
    /// `Config` when a required variable is missing or a value is unusable.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `get`.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |k: &str| {
            var(k).ok_or_else(|| Error::config(format!("the environment variable {k} is not set")))
        };
        if var("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
            return Err(Error::config(
                "AZURE_CLIENT_CERTIFICATE_PASSWORD is set, but encrypted private keys are not read: \
                 give a PEM file with an unencrypted key",
            ));
        }
        let mut c = AzureConfig::new(
            required("AZURE_SUBSCRIPTION_ID")?,
            required("AZURE_RESOURCE_GROUP")?,
            required("AZURE_LOCATION")?,
        );
        c.tenant_id = var("AZURE_TENANT_ID");
        c.client_id = var("AZURE_CLIENT_ID");
        c.client_secret = get("AZURE_CLIENT_SECRET")
            .filter(|v| !v.is_empty())
            .map(SecretString::from);
        c.client_certificate_path = var("AZURE_CLIENT_CERTIFICATE_PATH").map(PathBuf::from);
        c.send_certificate_chain = match var("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") {
            None => false,
            Some(v) => matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
        };
        c.federated_token_file = var("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from);
        c.managed_identity_endpoint = var("AZURE_IMDS_ENDPOINT");
        if let Some(cloud) = var("AZURE_CLOUD") {
            c.cloud = CloudEnvironment::by_name(&cloud)?;
        }
        if let Some(a) = var("AZURE_AUTHORITY_HOST") {
            c.cloud.authority_host = a;
        }
        if let Some(r) = var("AZURE_RESOURCE_MANAGER_ENDPOINT") {
            c.cloud.resource_manager = r;
        }
        if let Some(ca) = var("REQUESTS_CA_BUNDLE") {
            c.http = c.http.with_ca_bundle(PathBuf::from(ca));
        }
        if let Some(list) = var("HYBRID_AZURE_CREDENTIALS") {
            c.credentials = list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(CredentialKind::parse)
                .collect::<Result<_>>()?;
        }
        c.validate()?;
        Ok(c)
    }

    /// The credential chain in force: [`credentials`](Self::credentials), or the
    /// default order when it is empty.
    pub fn credential_order(&self) -> Vec<CredentialKind> {
        if !self.credentials.is_empty() {
            return self.credentials.clone();
        }
        let mut order = Vec::new();
        if self.client_secret.is_some() {
            order.push(CredentialKind::ClientSecret);
        }
        if self.client_certificate_path.is_some() {
            order.push(CredentialKind::ClientCertificate);
        }
        if self.federated_token_file.is_some() {
            order.push(CredentialKind::WorkloadIdentity);
        }
        if order.is_empty() {
            order.push(CredentialKind::ManagedIdentity);
        }
        order
    }

    /// The IMDS endpoint in force.
    ///
    /// # Errors
    /// `Config` for an unusable URL.
    pub fn imds_url(&self) -> Result<Url> {
        endpoint_url(
            self.managed_identity_endpoint
                .as_deref()
                .unwrap_or(DEFAULT_IMDS_ENDPOINT),
            "the managed identity endpoint",
            true,
        )
    }

    /// Checks that the configuration is complete and consistent.
    ///
    /// # Errors
    /// `Config`, naming the setting: a missing subscription, resource group or location;
    /// an invalid name; an endpoint that is not `https`; a credential of the chain whose
    /// settings are missing; an address space that is not a CIDR.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::config("the provider name is empty"));
        }
        if self.subscription_id.trim().is_empty() {
            return Err(Error::config("subscription_id is required"));
        }
        if !valid_tenant(&self.subscription_id) {
            return Err(Error::config(format!(
                "the subscription id {:?} is not valid",
                self.subscription_id
            )));
        }
        if !valid_resource_group(&self.resource_group) {
            return Err(Error::config(format!(
                "the resource group name {:?} is not valid (1-90 letters, digits, '-', '_', '.', '(', ')'; not ending in '.')",
                self.resource_group
            )));
        }
        if self.location.trim().is_empty()
            || !self
                .location
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ')
        {
            return Err(Error::config(format!(
                "the location {:?} is not valid (for example westeurope)",
                self.location
            )));
        }
        self.cloud.resource_manager_url()?;
        self.cloud.authority_url()?;
        if self.admin_username.trim().is_empty() {
            return Err(Error::config("admin_username is empty"));
        }
        for cidr in &self.vnet_address_space {
            crate::protocol::network::Cidr::parse(cidr)
                .map_err(|e| Error::config(format!("vnet_address_space: {}", e.message())))?;
        }
        if self.vnet_address_space.is_empty() {
            return Err(Error::config("vnet_address_space is empty"));
        }
        let needs_app = |kind: CredentialKind| -> Result<()> {
            let tenant = self.tenant_id.as_deref().unwrap_or("");
            if !valid_tenant(tenant) {
                return Err(Error::config(format!(
                    "the {kind} credential needs a valid tenant id (AZURE_TENANT_ID)"
                )));
            }
            if self.client_id.as_deref().unwrap_or("").trim().is_empty() {
                return Err(Error::config(format!(
                    "the {kind} credential needs a client id (AZURE_CLIENT_ID)"
                )));
            }
            Ok(())
        };
        for kind in self.credential_order() {
            match kind {
                CredentialKind::ClientSecret => {
                    needs_app(kind)?;
                    if self.client_secret.is_none() {
                        return Err(Error::config(
                            "the client secret credential needs a secret (AZURE_CLIENT_SECRET)",
                        ));
                    }
                }
                CredentialKind::ClientCertificate => {
                    needs_app(kind)?;
                    if self.client_certificate_path.is_none() {
                        return Err(Error::config(
                            "the client certificate credential needs a PEM file (AZURE_CLIENT_CERTIFICATE_PATH)",
                        ));
                    }
                }
                CredentialKind::WorkloadIdentity => {
                    needs_app(kind)?;
                    if self.federated_token_file.is_none() {
                        return Err(Error::config(
                            "the workload identity credential needs a token file (AZURE_FEDERATED_TOKEN_FILE)",
                        ));
                    }
                }
                CredentialKind::ManagedIdentity => {
                    self.imds_url()?;
                }
            }
        }
        Ok(())
    }
}

/// Builds an [`AzureConfig`] step by step.
///
/// ```
/// let config = hybrid_azure::AzureBuilder::new("00000000-0000-0000-0000-000000000000", "rg-prod", "westeurope")
///     .with_client_secret("tenant-id", "client-id", "s3cr3t")
///     .build()
///     .unwrap();
/// assert!(!format!("{config:?}").contains("s3cr3t"));
/// ```
#[derive(Debug, Clone)]
pub struct AzureBuilder {
    config: AzureConfig,
}

impl AzureBuilder {
    /// A builder for `subscription_id`, `resource_group` and `location`.
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
        AzureBuilder {
            config: AzureConfig::new(subscription_id, resource_group, location),
        }
    }

    /// A builder starting from `config`.
    pub fn from_config(config: AzureConfig) -> Self {
        AzureBuilder { config }
    }

    /// Sets the provider name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// A service principal with a client secret.
    pub fn with_client_secret(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.config.tenant_id = Some(tenant_id.into());
        self.config.client_id = Some(client_id.into());
        self.config.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// A service principal with a certificate (PEM file with the certificate and key).
    pub fn with_client_certificate(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        pem_path: impl Into<PathBuf>,
    ) -> Self {
        self.config.tenant_id = Some(tenant_id.into());
        self.config.client_id = Some(client_id.into());
        self.config.client_certificate_path = Some(pem_path.into());
        self
    }

    /// Sends the certificate chain (`x5c`) with each assertion.
    pub fn with_send_certificate_chain(mut self, send: bool) -> Self {
        self.config.send_certificate_chain = send;
        self
    }

    /// Workload identity: an application and a federated token file.
    pub fn with_federated_token_file(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.config.tenant_id = Some(tenant_id.into());
        self.config.client_id = Some(client_id.into());
        self.config.federated_token_file = Some(path.into());
        self
    }

    /// The managed identity endpoint (IMDS), for tests or a proxy.
    pub fn with_managed_identity_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config.managed_identity_endpoint = Some(endpoint.into());
        self
    }

    /// The credential chain, in the order to try.
    pub fn with_credentials(mut self, order: impl IntoIterator<Item = CredentialKind>) -> Self {
        self.config.credentials = order.into_iter().collect();
        self
    }

    /// The cloud (sovereign clouds, or a test server).
    pub fn with_cloud(mut self, cloud: CloudEnvironment) -> Self {
        self.config.cloud = cloud;
        self
    }

    /// The administrator user of new Linux VMs.
    pub fn with_admin_username(mut self, user: impl Into<String>) -> Self {
        self.config.admin_username = user.into();
        self
    }

    /// Whether `stop_server` deallocates (true) or powers off (false).
    pub fn with_stop_deallocates(mut self, deallocate: bool) -> Self {
        self.config.stop_deallocates = deallocate;
        self
    }

    /// The address space of new virtual networks.
    pub fn with_vnet_address_space(mut self, cidrs: impl IntoIterator<Item = String>) -> Self {
        self.config.vnet_address_space = cidrs.into_iter().collect();
        self
    }

    /// The throttle options.
    pub fn with_throttle(mut self, throttle: ThrottleOptions) -> Self {
        self.config.throttle = throttle;
        self
    }

    /// The HTTP client options.
    pub fn with_http(mut self, http: ClientOptions) -> Self {
        self.config.http = http;
        self
    }

    /// The validated configuration.
    ///
    /// # Errors
    /// As [`AzureConfig::validate`].
    pub fn build(self) -> Result<AzureConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ErrorKind;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const SCOPE: &[(&str, &str)] = &[
        (
            "AZURE_SUBSCRIPTION_ID",
            "11111111-2222-3333-4444-555555555555",
        ),
        ("AZURE_RESOURCE_GROUP", "rg-hybrid"),
        ("AZURE_LOCATION", "westeurope"),
    ];

    #[test]
    fn env_with_secret() {
        let mut vars = SCOPE.to_vec();
        vars.extend([
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "app-1"),
            ("AZURE_CLIENT_SECRET", "pa55-w0rd-xyz"),
        ]);
        let c = AzureConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.resource_group, "rg-hybrid");
        assert_eq!(c.credential_order(), vec![CredentialKind::ClientSecret]);
        assert_eq!(c.cloud.scope(), "https://management.azure.com/.default");
        assert!(!format!("{c:?}").contains("pa55-w0rd-xyz"));
        assert_eq!(c.http.ca_bundle, None);
        assert!(!c.http.danger_accept_invalid_certs);
        vars.push(("REQUESTS_CA_BUNDLE", "/etc/pki/corp-ca.pem"));
        let c = AzureConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(
            c.http.ca_bundle.as_deref(),
            Some(std::path::Path::new("/etc/pki/corp-ca.pem"))
        );
    }

    #[test]
    fn env_defaults_to_managed_identity_and_reads_the_chain() {
        let c = AzureConfig::from_lookup(lookup(SCOPE)).unwrap();
        assert_eq!(c.credential_order(), vec![CredentialKind::ManagedIdentity]);
        assert_eq!(c.imds_url().unwrap().as_str(), "http://169.254.169.254/");
        let mut vars = SCOPE.to_vec();
        vars.extend([
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("HYBRID_AZURE_CREDENTIALS", "workload, managed"),
            ("AZURE_CLOUD", "AzureChinaCloud"),
        ]);
        let c = AzureConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(
            c.credential_order(),
            vec![
                CredentialKind::WorkloadIdentity,
                CredentialKind::ManagedIdentity
            ]
        );
        assert_eq!(c.cloud, CloudEnvironment::china());
    }

    #[test]
    fn env_errors_are_config_errors() {
        let e = AzureConfig::from_lookup(lookup(&SCOPE[..2])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("AZURE_LOCATION"), "{e}");
        let mut vars = SCOPE.to_vec();
        vars.push(("AZURE_CLIENT_SECRET", "x"));
        let e = AzureConfig::from_lookup(lookup(&vars)).unwrap_err();
        assert!(e.to_string().contains("AZURE_TENANT_ID"), "{e}");
        let mut vars = SCOPE.to_vec();
        vars.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"));
        let e = AzureConfig::from_lookup(lookup(&vars)).unwrap_err();
        assert!(e.to_string().contains("encrypted"), "{e}");
        let mut vars = SCOPE.to_vec();
        vars.push(("AZURE_RESOURCE_MANAGER_ENDPOINT", "http://arm.example.com"));
        let e = AzureConfig::from_lookup(lookup(&vars)).unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        let mut vars = SCOPE.to_vec();
        vars.push(("HYBRID_AZURE_CREDENTIALS", "password"));
        assert_eq!(
            AzureConfig::from_lookup(lookup(&vars)).unwrap_err().kind(),
            ErrorKind::Config
        );
    }

    #[test]
    fn endpoints() {
        assert!(endpoint_url("http://127.0.0.1:8080", "x", false).is_ok());
        assert!(endpoint_url("http://[::1]:8080", "x", false).is_ok());
        assert!(endpoint_url("http://169.254.169.254", "x", false).is_err());
        assert!(endpoint_url("http://169.254.169.254", "x", true).is_ok());
        assert!(endpoint_url("https://u:p@h", "x", false).is_err());
        assert_eq!(
            endpoint_url("https://h/base", "x", false).unwrap().as_str(),
            "https://h/base/"
        );
    }

    #[test]
    fn deserializes_from_a_file() {
        let c: AzureConfig = serde_json::from_str(
            r#"{"subscription_id": "s1", "resource_group": "rg", "location": "eastus",
                "tenant_id": "t", "client_id": "c", "client_secret": "zz-secret",
                "credentials": ["client_secret"], "cloud": {"authority_host": "https://login.microsoftonline.us", "resource_manager": "https://management.usgovcloudapi.net"},
                "throttle": {"low_watermark": 5, "max_delay": 250}}"#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.cloud, CloudEnvironment::us_government());
        assert_eq!(c.throttle.max_delay, std::time::Duration::from_millis(250));
        assert!(!format!("{c:?}").contains("zz-secret"));
    }
}
