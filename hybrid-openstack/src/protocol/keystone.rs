//! Keystone v3: token requests (password, application credential, token; project,
//! domain and system scope), token responses and the service catalog.

use serde::{Deserialize, Serialize};

/// A domain named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRef {
    /// Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A user named by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRef {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's domain, needed with a name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
}

/// What the token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A project, by id or by name within a domain.
    Project {
        /// Id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Name.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The project's domain, needed with a name.
        #[serde(skip_serializing_if = "Option::is_none")]
        domain: Option<DomainRef>,
    },
    /// A domain.
    Domain(DomainRef),
    /// The whole deployment.
    System {
        /// Always true.
        all: bool,
    },
}

/// The body of `POST /v3/auth/tokens`. Holds a secret: built just before sending and
/// never logged. Its `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AuthRequest {
    /// `{"identity": .., "scope": ..}`.
    pub auth: Auth,
}

impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("methods", &self.auth.identity.methods)
            .field("scope", &self.auth.scope)
            .finish_non_exhaustive()
    }
}

/// The `auth` object.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// Who.
    pub identity: Identity,
    /// Scope; omitted for an unscoped token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// The `identity` object: one method and its credentials.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `["password"]`, `["application_credential"]` or `["token"]`.
    pub methods: Vec<&'static str>,
    /// Password credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordMethod>,
    /// Application-credential credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_credential: Option<AppCredMethod>,
    /// An existing token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenMethod>,
}

/// `{"user": {.., "password": ..}}`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PasswordMethod {
    /// The user and password.
    pub user: PasswordUser,
}

/// A user with a password.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PasswordUser {
    /// Who.
    #[serde(flatten)]
    pub user: UserRef,
    /// The password.
    pub password: String,
}

/// An application credential by id, or by name with its user.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AppCredMethod {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name (needs `user`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The owner, with a name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRef>,
    /// The secret.
    pub secret: String,
}

/// `{"id": token}`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenMethod {
    /// The token.
    pub id: String,
}

impl AuthRequest {
    /// Password authentication.
    pub fn password(user: UserRef, password: String, scope: Option<Scope>) -> Self {
        AuthRequest {
            auth: Auth {
                identity: Identity {
                    methods: vec!["password"],
                    password: Some(PasswordMethod {
                        user: PasswordUser { user, password },
                    }),
                    application_credential: None,
                    token: None,
                },
                scope,
            },
        }
    }

    /// Application-credential authentication (the credential carries its own scope).
    pub fn application_credential(cred: AppCredMethod) -> Self {
        AuthRequest {
            auth: Auth {
                identity: Identity {
                    methods: vec!["application_credential"],
                    password: None,
                    application_credential: Some(cred),
                    token: None,
                },
                scope: None,
            },
        }
    }

    /// Token authentication (rescoping an existing token).
    pub fn token(token: String, scope: Option<Scope>) -> Self {
        AuthRequest {
            auth: Auth {
                identity: Identity {
                    methods: vec!["token"],
                    password: None,
                    application_credential: None,
                    token: Some(TokenMethod { id: token }),
                },
                scope,
            },
        }
    }
}

/// `{"token": ..}`: the body of a token response (the token itself is the
/// `X-Subject-Token` header).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenResponse {
    /// The token's facts.
    pub token: TokenBody,
}

/// A token's facts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenBody {
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// Issue time, RFC 3339.
    #[serde(default)]
    pub issued_at: Option<String>,
    /// Methods used.
    #[serde(default)]
    pub methods: Vec<String>,
    /// The user.
    #[serde(default)]
    pub user: Option<NamedRef>,
    /// The project, when project-scoped.
    #[serde(default)]
    pub project: Option<NamedRef>,
    /// The domain, when domain-scoped.
    #[serde(default)]
    pub domain: Option<NamedRef>,
    /// `{"all": true}` when system-scoped.
    #[serde(default)]
    pub system: Option<serde_json::Value>,
    /// The service catalog (absent for unscoped tokens).
    #[serde(default)]
    pub catalog: Vec<CatalogService>,
}

/// An id/name pair with an optional domain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NamedRef {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Domain.
    #[serde(default)]
    pub domain: Option<DomainRef>,
}

/// One service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogService {
    /// Service type, for example `compute`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// Service name, for example `nova`.
    #[serde(default)]
    pub name: Option<String>,
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Endpoints.
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// One endpoint of a catalog service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// Region name (older deployments).
    #[serde(default)]
    pub region: Option<String>,
    /// Region id.
    #[serde(default)]
    pub region_id: Option<String>,
    /// Base URL.
    pub url: String,
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
}

/// The service types that mean the same service, newest first, as the
/// service-types authority lists them.
pub fn service_type_aliases(service_type: &str) -> &'static [&'static str] {
    match service_type {
        "block-storage" | "volumev3" | "volume" | "volumev2" => {
            &["block-storage", "volumev3", "volume", "volumev2"]
        }
        "compute" => &["compute"],
        "network" => &["network"],
        "image" => &["image"],
        "identity" => &["identity"],
        "object-store" => &["object-store"],
        "placement" => &["placement"],
        _ => &[],
    }
}

/// Finds the endpoint URL of `service_type` (or an alias) for `interface` (accepting
/// `publicURL`-style spellings) in `region` (any region when `None`).
pub fn find_endpoint<'a>(
    catalog: &'a [CatalogService],
    service_type: &str,
    interface: &str,
    region: Option<&str>,
) -> Option<&'a str> {
    let want_iface = interface.trim_end_matches("URL");
    let aliases = service_type_aliases(service_type);
    let types: Vec<&str> = if aliases.is_empty() {
        vec![service_type]
    } else {
        aliases.to_vec()
    };
    for t in types {
        for svc in catalog.iter().filter(|s| s.service_type == t) {
            let hit = svc.endpoints.iter().find(|e| {
                e.interface == want_iface
                    && region.is_none_or(|r| {
                        e.region_id.as_deref() == Some(r) || e.region.as_deref() == Some(r)
                    })
            });
            if let Some(e) = hit {
                return Some(e.url.as_str());
            }
        }
    }
    None
}

/// Whether the catalog has any endpoint of `service_type` (or an alias) in `region`.
pub fn has_service(catalog: &[CatalogService], service_type: &str, region: Option<&str>) -> bool {
    ["public", "internal", "admin"]
        .iter()
        .any(|i| find_endpoint(catalog, service_type, i, region).is_some())
}
