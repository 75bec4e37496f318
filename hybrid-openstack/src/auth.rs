//! Keystone v3 authentication: a [`TokenSource`] that turns a resolved
//! [`CloudConfig`] into `POST /v3/auth/tokens`, keeps the
//! token's catalog and scope, and hands the token (from `X-Subject-Token`) with its
//! expiry to `hybrid-http`'s single-flight `TokenCache`.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::auth::{Token, TokenSource};
use hybrid_http::{ExposeSecret, HttpClient};

use crate::config::{AuthConfig, AuthType, CloudConfig};
use crate::protocol::keystone::{
    AppCredMethod, AuthRequest, CatalogService, DomainRef, Scope, TokenResponse, UserRef,
};

/// What the last token told us: catalog, scope, expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The service catalog.
    pub catalog: Vec<CatalogService>,
    /// The project the token is scoped to.
    pub project_id: Option<String>,
    /// The user.
    pub user_id: Option<String>,
    /// Expiry, RFC 3339, as Keystone sent it.
    pub expires_at: String,
}

/// Authenticates against Keystone v3. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct KeystoneAuth {
    client: HttpClient,
    tokens_url: String,
    auth_type: AuthType,
    auth: Arc<AuthConfig>,
    session: Arc<RwLock<Option<Session>>>,
}

impl std::fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field("tokens_url", &self.tokens_url)
            .field("auth_type", &self.auth_type)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// `POST` target for tokens: `auth_url` with `/v3` added when it names no version.
///
/// # Errors
/// [`ErrorKind::Config`] for a URL that is not http(s) or names Keystone v2.
pub fn tokens_url(auth_url: &str) -> Result<String> {
    let u = auth_url.trim().trim_end_matches('/');
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(Error::config(format!(
            "auth_url {u:?} is not an http or https URL"
        )));
    }
    if u.ends_with("/v2.0") {
        return Err(Error::config(format!(
            "auth_url {u:?} names Keystone v2.0, which is gone; use the v3 URL"
        )));
    }
    if u.ends_with("/v3") {
        Ok(format!("{u}/auth/tokens"))
    } else {
        Ok(format!("{u}/v3/auth/tokens"))
    }
}

fn domain(id: &Option<String>, name: &Option<String>) -> Option<DomainRef> {
    match (id, name) {
        (Some(id), _) => Some(DomainRef {
            id: Some(id.clone()),
            name: None,
        }),
        (None, Some(n)) => Some(DomainRef {
            id: None,
            name: Some(n.clone()),
        }),
        (None, None) => None,
    }
}

fn user(a: &AuthConfig) -> UserRef {
    match &a.user_id {
        Some(id) => UserRef {
            id: Some(id.clone()),
            name: None,
            domain: None,
        },
        None => UserRef {
            id: None,
            name: a.username.clone(),
            domain: domain(&a.user_domain_id, &a.user_domain_name),
        },
    }
}

fn scope(a: &AuthConfig) -> Option<Scope> {
    if let Some(id) = &a.project_id {
        return Some(Scope::Project {
            id: Some(id.clone()),
            name: None,
            domain: None,
        });
    }
    if let Some(name) = &a.project_name {
        return Some(Scope::Project {
            id: None,
            name: Some(name.clone()),
            domain: domain(&a.project_domain_id, &a.project_domain_name),
        });
    }
    if let Some(d) = domain(&a.domain_id, &a.domain_name) {
        return Some(Scope::Domain(d));
    }
    if a.system_scope.as_deref() == Some("all") {
        return Some(Scope::System { all: true });
    }
    None
}

impl KeystoneAuth {
    /// Authentication for `cloud`, sending through `client`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a missing or unusable `auth_url`.
    pub fn new(client: HttpClient, cloud: &CloudConfig) -> Result<Self> {
        let auth_url = cloud
            .auth
            .auth_url
            .as_deref()
            .ok_or_else(|| Error::config("auth_url is missing"))?;
        Ok(KeystoneAuth {
            client,
            tokens_url: tokens_url(auth_url)?,
            auth_type: cloud.auth_type,
            auth: Arc::new(cloud.auth.clone()),
            session: Arc::new(RwLock::new(None)),
        })
    }

    /// The URL tokens are requested from.
    pub fn tokens_url(&self) -> &str {
        &self.tokens_url
    }

    /// What the last token told us, once a token was fetched.
    pub fn session(&self) -> Option<Session> {
        self.session
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The body of the token request. Holds the secret: send it, never log it.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the credential the auth type needs is missing.
    pub fn request_body(&self) -> Result<AuthRequest> {
        let a = self.auth.as_ref();
        let need = |what: &str| Error::config(format!("{what} is missing"));
        Ok(match self.auth_type {
            AuthType::Password => {
                let pw = a.password.as_ref().ok_or_else(|| need("password"))?;
                AuthRequest::password(user(a), pw.expose_secret().to_owned(), scope(a))
            }
            AuthType::ApplicationCredential => {
                let secret = a
                    .application_credential_secret
                    .as_ref()
                    .ok_or_else(|| need("application_credential_secret"))?;
                AuthRequest::application_credential(AppCredMethod {
                    id: a.application_credential_id.clone(),
                    name: a.application_credential_name.clone(),
                    user: a.application_credential_id.is_none().then(|| user(a)),
                    secret: secret.expose_secret().to_owned(),
                })
            }
            AuthType::Token => {
                let t = a.token.as_ref().ok_or_else(|| need("token"))?;
                AuthRequest::token(t.expose_secret().to_owned(), scope(a))
            }
        })
    }
}

/// Parses Keystone's RFC 3339 `expires_at`.
///
/// # Errors
/// [`ErrorKind::InvalidResponse`] for anything else.
pub fn parse_expiry(s: &str) -> Result<SystemTime> {
    humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).map_err(|e| {
        Error::invalid_response(format!("Keystone sent an unreadable expires_at {s:?}"), e)
    })
}

#[hybrid_http::async_trait]
impl TokenSource for KeystoneAuth {
    async fn fetch_token(&self) -> Result<Token> {
        let body = self.request_body()?;
        let resp = self
            .client
            .post(&self.tokens_url)
            .auth_endpoint(true)
            .operation("authenticate")
            .json(&body)
            .send()
            .await?;
        let token = resp.secret_header("x-subject-token").ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidResponse,
                "Keystone answered without an X-Subject-Token header",
            )
        })?;
        let doc: TokenResponse = resp.json().await?;
        let expiry = parse_expiry(&doc.token.expires_at)?;
        let session = Session {
            catalog: doc.token.catalog,
            project_id: doc.token.project.map(|p| p.id),
            user_id: doc.token.user.map(|u| u.id),
            expires_at: doc.token.expires_at,
        };
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = Some(session);
        Ok(Token::expiring_at(token, expiry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_url_forms() {
        assert_eq!(
            tokens_url("http://127.0.0.1:5000/v3").unwrap(),
            "http://127.0.0.1:5000/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("http://127.0.0.1:5000/v3/").unwrap(),
            "http://127.0.0.1:5000/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("https://k.example/identity").unwrap(),
            "https://k.example/identity/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("https://k/v2.0").unwrap_err().kind(),
            ErrorKind::Config
        );
        assert_eq!(tokens_url("k:5000").unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn expiry_parsing() {
        let t = parse_expiry("2015-11-07T02:58:43.578887Z").unwrap();
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_446_865_123);
        assert_eq!(
            parse_expiry("tomorrow").unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }
}
