//! Entra ID credentials: where ARM tokens come from.
//!
//! Each credential is a [`TokenSource`] for `hybrid-http`'s [`TokenCache`](hybrid_http::TokenCache)
//! (refresh before expiry, single-flight, one retry after a `401`):
//!
//! - [`ClientSecretCredential`]: `POST {authority}/{tenant}/oauth2/v2.0/token` with
//!   `grant_type=client_credentials`, `client_id`, `client_secret` and `scope`.
//! - [`ClientCertificateCredential`]: the same grant with a `client_assertion`: a JWT
//!   signed RS256 with the certificate's RSA key, carrying the certificate's SHA-1
//!   (`x5t`) and SHA-256 (`x5t#S256`) thumbprints, and the chain (`x5c`) on request.
//! - [`WorkloadIdentityCredential`]: the same grant with the federated token file's
//!   content (re-read for every token) as the `client_assertion`.
//! - [`ManagedIdentityCredential`]: `GET {imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`
//!   with `Metadata: true`.
//! - [`ChainedCredential`]: several of them in the caller's order. Each attempt runs in
//!   an `azure.credential` tracing span and is kept for inspection
//!   ([`ChainedCredential::last_attempts`]); when all fail, the error lists why each did.
//!
//! Secrets and tokens are [`SecretString`]s; every request goes out as an
//! [`auth_endpoint`](hybrid_http::RequestBuilder::auth_endpoint), so no response body
//! of Entra ID or IMDS reaches an error or a log.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::{ExposeSecret, HttpClient, SecretString, Token, TokenSource, Url};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tracing::Instrument;

use crate::config::{AzureConfig, CredentialKind};
use crate::error::AzureError;

/// The IMDS API version of managed identity tokens.
pub const IMDS_API_VERSION: &str = "2018-02-01";

/// How long a client assertion is valid.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// A source of ARM tokens that can say what it is.
pub trait Credential: TokenSource + fmt::Debug {
    /// A short description for traces and errors, for example
    /// `client secret (client 1b2c…)`. Never a secret.
    fn describe(&self) -> String;
}

/// The longest token lifetime believed from a token response: Entra ID access tokens
/// live at most a day, managed identity tokens 24 hours. A larger `expires_in` (or an
/// `expires_on` further ahead) is capped to it, so that a wrong answer can neither
/// overflow the clock nor keep a token in use forever.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A token response of Entra ID (`access_token`, `expires_in` as a number) or IMDS
/// (the same with string values, and `expires_on` in seconds since the epoch). Its
/// `Debug` never shows the token.
///
/// ```
/// let r: hybrid_azure::credential::TokenResponse =
///     serde_json::from_str(r#"{"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0"}"#).unwrap();
/// assert!(!format!("{r:?}").contains("eyJ0"));
/// assert!(r.into_token().expires_at().is_some());
/// ```
#[derive(Deserialize)]
pub struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    #[serde(default)]
    expires_on: Option<NumberOrString>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field(
                "expires_in",
                &self.expires_in.as_ref().and_then(NumberOrString::value),
            )
            .field(
                "expires_on",
                &self.expires_on.as_ref().and_then(NumberOrString::value),
            )
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

impl NumberOrString {
    fn value(&self) -> Option<u64> {
        match self {
            NumberOrString::Number(n) => Some(*n),
            NumberOrString::String(s) => s.trim().parse().ok(),
        }
    }
}

impl TokenResponse {
    /// The token, expiring after `expires_in` seconds, else at `expires_on`, else in
    /// five minutes; never later than [`MAX_TOKEN_LIFETIME`] from now.
    pub fn into_token(self) -> Token {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let lifetime = self
            .expires_in
            .as_ref()
            .and_then(NumberOrString::value)
            .or_else(|| {
                self.expires_on
                    .as_ref()
                    .and_then(NumberOrString::value)
                    .map(|on| on.saturating_sub(now))
            });
        match lifetime {
            Some(secs) => Token::expiring_in(
                self.access_token,
                Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME),
            ),
            // Entra ID always says; be safe when a proxy does not.
            None => Token::expiring_in(self.access_token, Duration::from_secs(300)),
        }
    }
}

/// `{authority}/{tenant}/oauth2/v2.0/token`.
///
/// # Errors
/// `Config` when the tenant is not a tenant id or domain.
pub fn token_url(authority: &Url, tenant: &str) -> Result<Url> {
    if tenant.is_empty()
        || !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(Error::config(format!(
            "{tenant:?} is not a tenant id or domain"
        )));
    }
    Ok(crate::ids::segments_url(
        authority,
        &[tenant, "oauth2", "v2.0", "token"],
    ))
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Posts a client-credentials grant and reads the token.
async fn client_credentials(
    http: &HttpClient,
    url: &Url,
    body: String,
    what: &str,
) -> Result<Token> {
    let resp: TokenResponse = http
        .post(url.as_str())
        .header("accept", "application/json")
        .body(body, "application/x-www-form-urlencoded")
        // Entra ID does not act twice on a repeated token request.
        .idempotent(true)
        .auth_endpoint(true)
        .operation(format!("get a token ({what})"))
        .send_json()
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidInput if e.http_status().is_some() => {
                e.with_kind(ErrorKind::Unauthenticated)
            }
            _ => e,
        })?;
    Ok(resp.into_token())
}

/// A service principal authenticating with a client secret.
pub struct ClientSecretCredential {
    http: HttpClient,
    token_url: Url,
    client_id: String,
    secret: SecretString,
    scope: String,
}

impl ClientSecretCredential {
    /// A credential for `client_id` in `tenant` at `authority`, asking for `scope`.
    ///
    /// # Errors
    /// `Config` for an invalid tenant.
    pub fn new(
        http: HttpClient,
        authority: &Url,
        tenant: &str,
        client_id: impl Into<String>,
        secret: SecretString,
        scope: impl Into<String>,
    ) -> Result<Self> {
        Ok(ClientSecretCredential {
            http,
            token_url: token_url(authority, tenant)?,
            client_id: client_id.into(),
            secret,
            scope: scope.into(),
        })
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

#[async_trait]
impl TokenSource for ClientSecretCredential {
    async fn fetch_token(&self) -> Result<Token> {
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_secret", self.secret.expose_secret()),
            ("scope", &self.scope),
        ]);
        client_credentials(&self.http, &self.token_url, body, "client secret").await
    }
}

impl Credential for ClientSecretCredential {
    fn describe(&self) -> String {
        format!("client secret (client {})", self.client_id)
    }
}

/// A certificate and its RSA key, read from a PEM file.
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// The certificate whose public key is the key's; then the rest of the chain.
    chain: Vec<Vec<u8>>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint_sha256())
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads a PEM document holding one or more certificates and an unencrypted RSA
    /// private key (PKCS#8 or PKCS#1). The certificate whose public key is the key's is
    /// the one presented; the others form the chain.
    ///
    /// # Errors
    /// `Config` when there is no certificate or key, the key is not RSA or is
    /// encrypted, or no certificate matches the key. Never quotes the file.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let bad = |m: &str| {
            Error::config("the client certificate is not usable")
                .with_source(AzureError::Certificate(m.to_owned()))
        };
        let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
            .filter_map(|c| c.ok())
            .map(|c| c.as_ref().to_vec())
            .collect();
        if certs.is_empty() {
            return Err(bad("the PEM file holds no CERTIFICATE section"));
        }
        if pem
            .windows(b"ENCRYPTED PRIVATE KEY".len())
            .any(|w| w == b"ENCRYPTED PRIVATE KEY")
        {
            return Err(bad("the private key is encrypted; give an unencrypted key"));
        }
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(k)) => {
                RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).map_err(|_| {
                    bad("the PKCS#8 private key is not an RSA key (or one of fewer than 2048 bits)")
                })?
            }
            Ok(PrivateKeyDer::Pkcs1(k)) => {
                RsaKeyPair::from_der(k.secret_pkcs1_der()).map_err(|_| {
                    bad("the PKCS#1 private key is not an RSA key of at least 2048 bits")
                })?
            }
            Ok(_) => {
                return Err(bad(
                    "the private key is not RSA; Entra ID client assertions are signed with RSA",
                ))
            }
            Err(_) => return Err(bad("the PEM file holds no PRIVATE KEY section")),
        };
        // The certificate's SubjectPublicKeyInfo embeds the RSAPublicKey DER verbatim.
        let public = key.public().as_ref().to_vec();
        let leaf = certs
            .iter()
            .position(|c| c.windows(public.len()).any(|w| w == public.as_slice()))
            .ok_or_else(|| bad("no certificate in the PEM file matches the private key"))?;
        let mut chain = certs;
        let leaf_der = chain.remove(leaf);
        chain.insert(0, leaf_der);
        Ok(ClientCertificate { key, chain })
    }

    /// Reads [`from_pem`](Self::from_pem) from a file.
    ///
    /// # Errors
    /// `Config` when the file cannot be read, as [`from_pem`](Self::from_pem) otherwise.
    pub fn from_pem_file(path: &Path) -> Result<Self> {
        let pem = std::fs::read(path).map_err(|e| {
            Error::config(format!(
                "cannot read the client certificate {}",
                path.display()
            ))
            .with_source(AzureError::ReadFile {
                path: path.display().to_string(),
                source: e,
            })
        })?;
        Self::from_pem(&pem)
    }

    /// The DER of the presented certificate.
    pub fn certificate_der(&self) -> &[u8] {
        &self.chain[0]
    }

    /// The base64url SHA-1 thumbprint (`x5t`).
    pub fn thumbprint_sha1(&self) -> String {
        let d = ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            self.certificate_der(),
        );
        URL_SAFE_NO_PAD.encode(d.as_ref())
    }

    /// The base64url SHA-256 thumbprint (`x5t#S256`).
    pub fn thumbprint_sha256(&self) -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, self.certificate_der());
        URL_SAFE_NO_PAD.encode(d.as_ref())
    }

    /// A signed client assertion for `client_id` at `audience` (the token URL), valid
    /// from `now` (seconds since the epoch) for ten minutes, with id `jti`.
    ///
    /// # Errors
    /// `Other` when signing fails.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: u64,
        jti: &str,
        send_chain: bool,
    ) -> Result<String> {
        let mut header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.thumbprint_sha1(),
            "x5t#S256": self.thumbprint_sha256(),
        });
        if send_chain {
            header["x5c"] = self.chain.iter().map(|c| STANDARD.encode(c)).collect();
        }
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": jti,
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| {
                Error::new(ErrorKind::Other, "cannot sign the client assertion")
                    .with_source(AzureError::Signing)
            })?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// A random version-4 UUID.
pub(crate) fn uuid_v4() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    if SystemRandom::new().fill(&mut b).is_err() {
        // The system RNG failing is not expected; fall back to the clock, which is
        // still unique enough for a correlation or assertion id.
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = n.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A service principal authenticating with a certificate (a signed JWT assertion).
pub struct ClientCertificateCredential {
    http: HttpClient,
    token_url: Url,
    client_id: String,
    certificate: ClientCertificate,
    send_chain: bool,
    scope: String,
}

impl ClientCertificateCredential {
    /// A credential for `client_id` in `tenant` at `authority` with `certificate`.
    ///
    /// # Errors
    /// `Config` for an invalid tenant.
    pub fn new(
        http: HttpClient,
        authority: &Url,
        tenant: &str,
        client_id: impl Into<String>,
        certificate: ClientCertificate,
        scope: impl Into<String>,
    ) -> Result<Self> {
        Ok(ClientCertificateCredential {
            http,
            token_url: token_url(authority, tenant)?,
            client_id: client_id.into(),
            certificate,
            send_chain: false,
            scope: scope.into(),
        })
    }

    /// Sends the certificate chain (`x5c`) with each assertion (subject name and issuer
    /// authentication).
    pub fn with_send_chain(mut self, send: bool) -> Self {
        self.send_chain = send;
        self
    }

    /// The certificate presented.
    pub fn certificate(&self) -> &ClientCertificate {
        &self.certificate
    }
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("certificate", &self.certificate)
            .field("send_chain", &self.send_chain)
            .field("scope", &self.scope)
            .finish()
    }
}

#[async_trait]
impl TokenSource for ClientCertificateCredential {
    async fn fetch_token(&self) -> Result<Token> {
        let assertion = self.certificate.assertion(
            &self.client_id,
            self.token_url.as_str(),
            unix_now(),
            &uuid_v4(),
            self.send_chain,
        )?;
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("scope", &self.scope),
        ]);
        client_credentials(&self.http, &self.token_url, body, "client certificate").await
    }
}

impl Credential for ClientCertificateCredential {
    fn describe(&self) -> String {
        format!(
            "client certificate (client {}, x5t#S256 {})",
            self.client_id,
            self.certificate.thumbprint_sha256()
        )
    }
}

/// Workload identity federation: a federated token file as the client assertion.
pub struct WorkloadIdentityCredential {
    http: HttpClient,
    token_url: Url,
    client_id: String,
    token_file: PathBuf,
    scope: String,
}

impl WorkloadIdentityCredential {
    /// A credential for `client_id` in `tenant` at `authority`, reading the assertion
    /// from `token_file` for every token.
    ///
    /// # Errors
    /// `Config` for an invalid tenant.
    pub fn new(
        http: HttpClient,
        authority: &Url,
        tenant: &str,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
        scope: impl Into<String>,
    ) -> Result<Self> {
        Ok(WorkloadIdentityCredential {
            http,
            token_url: token_url(authority, tenant)?,
            client_id: client_id.into(),
            token_file: token_file.into(),
            scope: scope.into(),
        })
    }
}

impl fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadIdentityCredential")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("token_file", &self.token_file)
            .field("scope", &self.scope)
            .finish()
    }
}

#[async_trait]
impl TokenSource for WorkloadIdentityCredential {
    async fn fetch_token(&self) -> Result<Token> {
        let raw = tokio::fs::read_to_string(&self.token_file)
            .await
            .map_err(|e| {
                Error::config(format!(
                    "cannot read the federated token file {}",
                    self.token_file.display()
                ))
                .with_source(AzureError::ReadFile {
                    path: self.token_file.display().to_string(),
                    source: e,
                })
            })?;
        let assertion = SecretString::from(raw.trim().to_owned());
        if assertion.expose_secret().is_empty() {
            return Err(Error::config(format!(
                "the federated token file {} is empty",
                self.token_file.display()
            )));
        }
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.expose_secret()),
            ("scope", &self.scope),
        ]);
        client_credentials(&self.http, &self.token_url, body, "workload identity").await
    }
}

impl Credential for WorkloadIdentityCredential {
    fn describe(&self) -> String {
        format!(
            "workload identity (client {}, token file {})",
            self.client_id,
            self.token_file.display()
        )
    }
}

/// The managed identity of the Azure host, from the instance metadata service (IMDS).
pub struct ManagedIdentityCredential {
    http: HttpClient,
    endpoint: Url,
    client_id: Option<String>,
    resource: String,
}

impl ManagedIdentityCredential {
    /// A credential asking the IMDS at `endpoint` for a token for `scope` (its resource
    /// is the scope without `/.default`), for the user-assigned identity `client_id` or
    /// the system-assigned one.
    pub fn new(http: HttpClient, endpoint: Url, client_id: Option<String>, scope: &str) -> Self {
        ManagedIdentityCredential {
            http,
            endpoint,
            client_id,
            resource: scope.trim_end_matches("/.default").to_owned(),
        }
    }

    /// The token request URL.
    pub fn token_url(&self) -> Url {
        let mut url =
            crate::ids::segments_url(&self.endpoint, &["metadata", "identity", "oauth2", "token"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", IMDS_API_VERSION);
            q.append_pair("resource", &self.resource);
            if let Some(c) = &self.client_id {
                q.append_pair("client_id", c);
            }
        }
        url
    }
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("endpoint", &self.endpoint.as_str())
            .field("client_id", &self.client_id)
            .field("resource", &self.resource)
            .finish()
    }
}

#[async_trait]
impl TokenSource for ManagedIdentityCredential {
    async fn fetch_token(&self) -> Result<Token> {
        let resp: TokenResponse = self
            .http
            .get(self.token_url().as_str())
            .header("metadata", "true")
            .auth_endpoint(true)
            .operation("get a token (managed identity)")
            .send_json()
            .await
            .map_err(|e| match e.http_status() {
                Some(400) | Some(404) => e.with_kind(ErrorKind::Unauthenticated),
                _ => e,
            })?;
        Ok(resp.into_token())
    }
}

impl Credential for ManagedIdentityCredential {
    fn describe(&self) -> String {
        match &self.client_id {
            Some(c) => format!("managed identity (client {c})"),
            None => "managed identity (system-assigned)".to_owned(),
        }
    }
}

/// One try of a credential of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The credential's description.
    pub credential: String,
    /// Why it failed, or `None` when it got the token.
    pub error: Option<String>,
}

/// Several credentials tried in the caller's order until one gets a token.
pub struct ChainedCredential {
    members: Vec<Arc<dyn Credential>>,
    last: Mutex<Vec<Attempt>>,
}

impl ChainedCredential {
    /// A chain of `members`, tried in this order.
    pub fn new(members: Vec<Arc<dyn Credential>>) -> Self {
        ChainedCredential {
            members,
            last: Mutex::new(Vec::new()),
        }
    }

    /// The members' descriptions, in order.
    pub fn members(&self) -> Vec<String> {
        self.members.iter().map(|m| m.describe()).collect()
    }

    /// The attempts of the last token request, in order.
    pub fn last_attempts(&self) -> Vec<Attempt> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl fmt::Debug for ChainedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedCredential")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for ChainedCredential {
    async fn fetch_token(&self) -> Result<Token> {
        let mut attempts = Vec::with_capacity(self.members.len());
        let mut kinds = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let name = m.describe();
            let span = tracing::info_span!(target: "hybrid_azure::credential", "azure.credential", position = i + 1, credential = %name);
            match m.fetch_token().instrument(span).await {
                Ok(token) => {
                    tracing::debug!(target: "hybrid_azure::credential", credential = %name, "got a token");
                    attempts.push(Attempt {
                        credential: name,
                        error: None,
                    });
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = attempts;
                    return Ok(token);
                }
                Err(e) => {
                    tracing::info!(target: "hybrid_azure::credential", credential = %name, error = %e, "credential failed; trying the next");
                    kinds.push(e.kind());
                    attempts.push(Attempt {
                        credential: name,
                        error: Some(e.to_string()),
                    });
                }
            }
        }
        let list: Vec<String> = attempts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                format!(
                    "{}. {}: {}",
                    i + 1,
                    a.credential,
                    a.error.as_deref().unwrap_or("succeeded")
                )
            })
            .collect();
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = attempts;
        let kind = if kinds.is_empty() || kinds.iter().all(|k| *k == ErrorKind::Config) {
            ErrorKind::Config
        } else {
            ErrorKind::Unauthenticated
        };
        let what = if list.is_empty() {
            "the credential chain is empty".to_owned()
        } else {
            format!(
                "no credential of the chain got a token: {}",
                list.join("; ")
            )
        };
        Err(Error::new(kind, what))
    }
}

impl Credential for ChainedCredential {
    fn describe(&self) -> String {
        format!("chain [{}]", self.members().join(", "))
    }
}

/// The credential `config` asks for: its one kind, or a [`ChainedCredential`] over
/// [`AzureConfig::credential_order`].
///
/// # Errors
/// `Config` for missing settings or an unusable certificate file.
pub fn from_config(config: &AzureConfig, http: &HttpClient) -> Result<Arc<dyn Credential>> {
    let authority = config.cloud.authority_url()?;
    let scope = config.cloud.scope();
    let tenant = config.tenant_id.clone().unwrap_or_default();
    let client = config.client_id.clone().unwrap_or_default();
    let mut members: Vec<Arc<dyn Credential>> = Vec::new();
    for kind in config.credential_order() {
        let m: Arc<dyn Credential> = match kind {
            CredentialKind::ClientSecret => {
                let secret = config.client_secret.clone().ok_or_else(|| {
                    Error::config(
                        "the client secret credential needs a secret (AZURE_CLIENT_SECRET)",
                    )
                })?;
                Arc::new(ClientSecretCredential::new(
                    http.clone(),
                    &authority,
                    &tenant,
                    client.clone(),
                    secret,
                    scope.clone(),
                )?)
            }
            CredentialKind::ClientCertificate => {
                let path = config.client_certificate_path.as_ref().ok_or_else(|| {
                    Error::config("the client certificate credential needs a PEM file (AZURE_CLIENT_CERTIFICATE_PATH)")
                })?;
                let cert = ClientCertificate::from_pem_file(path)?;
                Arc::new(
                    ClientCertificateCredential::new(
                        http.clone(),
                        &authority,
                        &tenant,
                        client.clone(),
                        cert,
                        scope.clone(),
                    )?
                    .with_send_chain(config.send_certificate_chain),
                )
            }
            CredentialKind::WorkloadIdentity => {
                let file = config.federated_token_file.clone().ok_or_else(|| {
                    Error::config("the workload identity credential needs a token file (AZURE_FEDERATED_TOKEN_FILE)")
                })?;
                Arc::new(WorkloadIdentityCredential::new(
                    http.clone(),
                    &authority,
                    &tenant,
                    client.clone(),
                    file,
                    scope.clone(),
                )?)
            }
            CredentialKind::ManagedIdentity => Arc::new(ManagedIdentityCredential::new(
                http.clone(),
                config.imds_url()?,
                config.client_id.clone(),
                &scope,
            )),
        };
        members.push(m);
    }
    if members.len() == 1 {
        return Ok(members.remove(0));
    }
    Ok(Arc::new(ChainedCredential::new(members)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4() {
        let a = uuid_v4();
        let b = uuid_v4();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn token_lifetimes() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token": "x", "expires_in": "3599", "expires_on": "1"}"#,
        )
        .unwrap();
        let tok = t.into_token();
        let left = tok.expires_at().unwrap() - tokio::time::Instant::now();
        assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3599));
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token": "x", "expires_in": 60}"#).unwrap();
        assert!(t.into_token().expires_at().is_some());
    }

    #[test]
    fn absurd_lifetimes_are_capped_not_a_panic() {
        for body in [
            r#"{"access_token": "x", "expires_in": 18446744073709551615}"#,
            r#"{"access_token": "x", "expires_in": "18446744073709551615"}"#,
            r#"{"access_token": "x", "expires_on": 18446744073709551615}"#,
        ] {
            let t: TokenResponse = serde_json::from_str(body).unwrap();
            let left = t.into_token().expires_at().unwrap() - tokio::time::Instant::now();
            assert!(
                left <= MAX_TOKEN_LIFETIME && left > MAX_TOKEN_LIFETIME / 2,
                "{body}"
            );
        }
    }

    #[test]
    fn tenants_are_checked() {
        let a = Url::parse("https://login.microsoftonline.com/").unwrap();
        assert_eq!(
            token_url(&a, "contoso.onmicrosoft.com").unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(token_url(&a, "a/b").is_err());
        assert!(token_url(&a, "").is_err());
    }
}
