//! Keystone v3 at `/identity`: version documents, token issue (password,
//! application credential, token), validation, revocation, catalog.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::http::{ApiError, Resp, R};
use crate::service::{lock, App, Req};
use crate::util::{iso_micro_z, now_secs, stable_hex_id, Rng};

#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) domain: Domain,
    password: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) domain: Domain,
}

#[derive(Debug, Clone)]
struct AppCred {
    id: String,
    name: String,
    secret: String,
    user: usize,
}

/// What a token stands for.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) user: User,
    pub(crate) project: Option<Project>,
    domain: Option<Domain>,
    system: bool,
    methods: Vec<&'static str>,
    app_cred: Option<(String, String)>,
    expires: Instant,
    issued_at: i64,
    expires_at: i64,
    audit_id: String,
}

/// Keystone's users, projects and tokens.
#[derive(Debug)]
pub(crate) struct Keystone {
    users: Vec<User>,
    pub(crate) projects: Vec<Project>,
    app_creds: Vec<AppCred>,
    tokens: Mutex<HashMap<String, TokenInfo>>,
    /// Every token issued (the first 10 000), revoked or not, for secret-hygiene tests.
    issued: Mutex<Vec<String>>,
    rng: Mutex<Rng>,
    ttl: Duration,
    /// Identity's base URL (the first region's).
    base: String,
    /// Every region's name and the base URL its services sit under.
    regions: Vec<(String, String)>,
}

fn domain_named(name: &str) -> Domain {
    if name.eq_ignore_ascii_case("default") {
        Domain {
            id: "default".into(),
            name: "Default".into(),
        }
    } else {
        Domain {
            id: stable_hex_id("domain", name),
            name: name.to_owned(),
        }
    }
}

const ROLES: [(&str, &str); 3] = [
    ("member", "member"),
    ("reader", "reader"),
    ("admin", "admin"),
];

fn unauthorized() -> ApiError {
    ApiError::new(401, "The request you have made requires authentication.")
}

impl Keystone {
    pub(crate) fn new(cfg: &Config, base: &str, regions: Vec<(String, String)>) -> Keystone {
        let users: Vec<User> = cfg
            .users
            .iter()
            .map(|u| User {
                id: stable_hex_id("user", &format!("{}/{}", u.domain, u.name)),
                name: u.name.clone(),
                domain: domain_named(&u.domain),
                password: u.password.clone(),
            })
            .collect();
        let projects = cfg
            .projects
            .iter()
            .map(|p| Project {
                id: stable_hex_id("project", p),
                name: p.clone(),
                domain: domain_named("Default"),
            })
            .collect();
        let app_creds = cfg
            .app_creds
            .iter()
            .map(|a| AppCred {
                id: a.id.clone(),
                name: a.name.clone(),
                secret: a.secret.clone(),
                user: users.iter().position(|u| u.name == a.user).unwrap_or(0),
            })
            .collect();
        Keystone {
            users,
            projects,
            app_creds,
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            rng: Mutex::new(Rng::new()),
            ttl: cfg.token_ttl,
            base: base.to_owned(),
            regions,
        }
    }

    /// The default project (the first one configured).
    pub(crate) fn default_project(&self) -> Option<&Project> {
        self.projects.first()
    }

    /// The default user (the first one configured).
    pub(crate) fn default_user(&self) -> Option<&User> {
        self.users.first()
    }

    pub(crate) fn validate(&self, token: &str) -> Option<TokenInfo> {
        let mut tokens = lock(&self.tokens);
        let info = tokens.get(token)?;
        if info.expires <= Instant::now() {
            tokens.remove(token);
            return None;
        }
        Some(info.clone())
    }

    pub(crate) fn issued(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub(crate) fn revoke_all(&self) {
        lock(&self.tokens).clear();
    }

    fn issue(&self, info: TokenInfo) -> String {
        let token = {
            let mut rng = lock(&self.rng);
            format!("gAAAAA{}", rng.alnum(180))
        };
        lock(&self.tokens).insert(token.clone(), info);
        let mut issued = lock(&self.issued);
        if issued.len() < 10_000 {
            issued.push(token.clone());
        }
        token
    }

    fn catalog(&self, project: Option<&Project>) -> Value {
        let mut services: Vec<(&str, &str)> = vec![
            ("identity", "keystone"),
            ("compute", "nova"),
            ("network", "neutron"),
        ];
        if project.is_some() {
            services.push(("volumev3", "cinderv3"));
            services.push(("block-storage", "cinder"));
        }
        services.push(("image", "glance"));
        let list: Vec<Value> = services
            .into_iter()
            .map(|(ty, name)| {
                let mut endpoints = Vec::new();
                for (region, b) in &self.regions {
                    let url = match ty {
                        // One Keystone serves every region.
                        "identity" => format!("{}/identity", self.base),
                        "compute" => format!("{b}/compute/v2.1"),
                        "network" => format!("{b}/network"),
                        "image" => format!("{b}/image"),
                        _ => format!(
                            "{b}/volume/v3/{}",
                            project.map(|p| p.id.as_str()).unwrap_or_default()
                        ),
                    };
                    for iface in ["public", "internal", "admin"] {
                        endpoints.push(json!({
                            "id": stable_hex_id("endpoint", &format!("{region}/{ty}/{iface}")),
                            "interface": iface,
                            "region_id": region,
                            "url": url,
                            "region": region,
                        }));
                    }
                }
                json!({
                    "endpoints": endpoints,
                    "id": stable_hex_id("service", ty),
                    "type": ty,
                    "name": name,
                })
            })
            .collect();
        Value::Array(list)
    }

    fn token_body(&self, t: &TokenInfo, with_catalog: bool) -> Value {
        let mut tok = Map::new();
        tok.insert("methods".into(), json!(t.methods));
        tok.insert(
            "user".into(),
            json!({
                "domain": {"id": t.user.domain.id, "name": t.user.domain.name},
                "id": t.user.id,
                "name": t.user.name,
                "password_expires_at": null,
            }),
        );
        tok.insert("audit_ids".into(), json!([t.audit_id]));
        tok.insert("expires_at".into(), json!(iso_micro_z(t.expires_at)));
        tok.insert("issued_at".into(), json!(iso_micro_z(t.issued_at)));
        let scoped = t.project.is_some() || t.domain.is_some() || t.system;
        if let Some(p) = &t.project {
            tok.insert(
                "project".into(),
                json!({
                    "domain": {"id": p.domain.id, "name": p.domain.name},
                    "id": p.id,
                    "name": p.name,
                }),
            );
            tok.insert("is_domain".into(), json!(false));
        }
        if let Some(d) = &t.domain {
            tok.insert("domain".into(), json!({"id": d.id, "name": d.name}));
        }
        if t.system {
            tok.insert("system".into(), json!({"all": true}));
        }
        if let Some((id, name)) = &t.app_cred {
            tok.insert(
                "application_credential".into(),
                json!({"id": id, "name": name, "restricted": true}),
            );
        }
        if scoped {
            let roles: Vec<Value> = ROLES
                .iter()
                .map(|(k, n)| json!({"id": stable_hex_id("role", k), "name": n}))
                .collect();
            tok.insert("roles".into(), Value::Array(roles));
            if with_catalog {
                tok.insert("catalog".into(), self.catalog(t.project.as_ref()));
            }
        }
        json!({ "token": tok })
    }

    fn find_domain(&self, v: Option<&Value>) -> Result<Option<Domain>, ApiError> {
        let Some(d) = v else { return Ok(None) };
        if let Some(id) = d.get("id").and_then(Value::as_str) {
            let dom = self
                .users
                .iter()
                .map(|u| &u.domain)
                .chain(self.projects.iter().map(|p| &p.domain))
                .find(|dd| dd.id == id)
                .cloned();
            return Ok(Some(dom.ok_or_else(unauthorized)?));
        }
        if let Some(name) = d.get("name").and_then(Value::as_str) {
            return Ok(Some(domain_named(name)));
        }
        Err(ApiError::bad(
            "Invalid input for field 'domain': 'id' or 'name' is required.",
        ))
    }

    fn find_user(&self, u: &Value) -> Result<usize, ApiError> {
        if let Some(id) = u.get("id").and_then(Value::as_str) {
            return self
                .users
                .iter()
                .position(|x| x.id == id)
                .ok_or_else(unauthorized);
        }
        let name = u.get("name").and_then(Value::as_str).ok_or_else(|| {
            ApiError::bad("Invalid input for field 'user': 'id' or 'name' is required.")
        })?;
        let domain = self
            .find_domain(u.get("domain"))?
            .ok_or_else(|| ApiError::bad("Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."))?;
        self.users
            .iter()
            .position(|x| x.name == name && x.domain.id == domain.id)
            .ok_or_else(unauthorized)
    }

    fn authenticate(&self, body: &Value) -> Result<TokenInfo, ApiError> {
        let auth = body.get("auth").ok_or_else(|| {
            ApiError::bad("Invalid input for field 'auth': 'auth' is a required property")
        })?;
        let identity = auth.get("identity").ok_or_else(|| {
            ApiError::bad("Invalid input for field 'identity': 'identity' is a required property")
        })?;
        let methods: Vec<&str> = identity
            .get("methods")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if methods.is_empty() {
            return Err(ApiError::bad(
                "Invalid input for field 'identity/methods': [] is too short",
            ));
        }
        let now = now_secs();
        let ttl = self.ttl;
        let mut expires = Instant::now() + ttl;
        let mut expires_at = now + ttl.as_secs() as i64;
        let (user, method, app_cred, preset_project): (usize, &'static str, _, Option<Project>) =
            match methods[0] {
                "password" => {
                    let pw = identity
                        .get("password")
                        .and_then(|p| p.get("user"))
                        .ok_or_else(|| {
                            ApiError::bad(
                                "Invalid input for field 'password': 'user' is a required property",
                            )
                        })?;
                    let idx = self.find_user(pw)?;
                    let given = pw.get("password").and_then(Value::as_str).unwrap_or("");
                    if self.users[idx].password != given {
                        return Err(unauthorized());
                    }
                    (idx, "password", None, None)
                }
                "application_credential" => {
                    let ac = identity.get("application_credential").ok_or_else(|| {
                        ApiError::bad("Invalid input for field 'application_credential': required")
                    })?;
                    let secret = ac.get("secret").and_then(Value::as_str).unwrap_or("");
                    let found = if let Some(id) = ac.get("id").and_then(Value::as_str) {
                        self.app_creds.iter().find(|a| a.id == id)
                    } else {
                        let name = ac.get("name").and_then(Value::as_str).unwrap_or("");
                        let user = ac.get("user").ok_or_else(|| {
                            ApiError::bad("Could not find user for application credential: a name needs a user.")
                        })?;
                        let u = self.find_user(user)?;
                        self.app_creds
                            .iter()
                            .find(|a| a.name == name && a.user == u)
                    };
                    let ac = found.ok_or_else(unauthorized)?;
                    if ac.secret != secret {
                        return Err(unauthorized());
                    }
                    if auth.get("scope").is_some() {
                        return Err(ApiError::new(
                            401,
                            "Application credentials cannot request a scope.",
                        ));
                    }
                    (
                        ac.user,
                        "application_credential",
                        Some((ac.id.clone(), ac.name.clone())),
                        self.default_project().cloned(),
                    )
                }
                "token" => {
                    let id = identity
                        .get("token")
                        .and_then(|t| t.get("id"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            ApiError::bad(
                                "Invalid input for field 'token': 'id' is a required property",
                            )
                        })?;
                    let old = self.validate(id).ok_or_else(unauthorized)?;
                    expires = old.expires;
                    expires_at = old.expires_at;
                    let idx = self
                        .users
                        .iter()
                        .position(|u| u.id == old.user.id)
                        .ok_or_else(unauthorized)?;
                    (idx, "token", None, None)
                }
                other => {
                    return Err(ApiError::new(
                        401,
                        format!("Attempted to authenticate with an unsupported method: {other}"),
                    ))
                }
            };
        let mut info = TokenInfo {
            user: self.users[user].clone(),
            project: preset_project,
            domain: None,
            system: false,
            methods: vec![method],
            app_cred,
            expires,
            issued_at: now,
            expires_at,
            audit_id: lock(&self.rng).alnum(22),
        };
        if let Some(scope) = auth.get("scope") {
            if let Some(p) = scope.get("project") {
                let project = if let Some(id) = p.get("id").and_then(Value::as_str) {
                    self.projects.iter().find(|x| x.id == id)
                } else {
                    let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
                        ApiError::bad(
                            "Invalid input for field 'project': 'id' or 'name' is required.",
                        )
                    })?;
                    let dom = self.find_domain(p.get("domain"))?.ok_or_else(|| {
                        ApiError::bad("Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
                    })?;
                    self.projects
                        .iter()
                        .find(|x| x.name == name && x.domain.id == dom.id)
                };
                info.project = Some(project.cloned().ok_or_else(unauthorized)?);
            } else if let Some(d) = scope.get("domain") {
                info.domain = Some(self.find_domain(Some(d))?.ok_or_else(unauthorized)?);
            } else if scope.get("system").is_some() {
                info.system = true;
            } else {
                return Err(ApiError::bad("Invalid input for field 'scope'."));
            }
        }
        Ok(info)
    }
}

fn versions_doc(app: &App) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{}/identity/v3/", app.base)}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    })
}

pub(crate) fn handle(app: &App, req: &Req) -> R {
    let ks = &app.keystone;
    let segs = req.seg_refs();
    let m = &req.method;
    match segs.as_slice() {
        [] => Ok(Resp::json(
            300,
            &json!({"versions": {"values": [versions_doc(app)]}}),
        )),
        ["v3"] => Ok(Resp::json(200, &json!({"version": versions_doc(app)}))),
        ["v3", "auth", "tokens"] => match *m {
            Method::POST => {
                let body = req.json()?;
                let info = ks.authenticate(&body)?;
                let nocatalog = req.query.get("nocatalog").is_some();
                let doc = ks.token_body(&info, !nocatalog);
                let token = ks.issue(info);
                Ok(Resp::json(201, &doc)
                    .header("X-Subject-Token", &token)
                    .header("Vary", "X-Auth-Token"))
            }
            Method::GET | Method::HEAD | Method::DELETE => {
                let caller = req.header("x-auth-token").unwrap_or("");
                ks.validate(caller).ok_or_else(unauthorized)?;
                let subject = req.header("x-subject-token").unwrap_or("");
                let info = ks.validate(subject).ok_or_else(|| {
                    ApiError::not_found(format!("Could not find token: {subject}."))
                })?;
                if *m == Method::DELETE {
                    lock(&ks.tokens).remove(subject);
                    return Ok(Resp::empty(204));
                }
                if *m == Method::HEAD {
                    return Ok(Resp::empty(200).header("X-Subject-Token", subject));
                }
                let nocatalog = req.query.get("nocatalog").is_some();
                Ok(Resp::json(200, &ks.token_body(&info, !nocatalog))
                    .header("X-Subject-Token", subject))
            }
            _ => Err(ApiError::new(
                405,
                "The method is not allowed for the requested URL.",
            )),
        },
        ["v3", "auth", "catalog"] if *m == Method::GET => {
            let caller = req.header("x-auth-token").unwrap_or("");
            let info = ks.validate(caller).ok_or_else(unauthorized)?;
            Ok(Resp::json(
                200,
                &json!({
                    "catalog": ks.catalog(info.project.as_ref()),
                    "links": {"self": format!("{}/identity/v3/auth/catalog", app.base), "previous": null, "next": null}
                }),
            ))
        }
        ["v3", "auth", "projects"] if *m == Method::GET => {
            let caller = req.header("x-auth-token").unwrap_or("");
            ks.validate(caller).ok_or_else(unauthorized)?;
            let projects: Vec<Value> = ks
                .projects
                .iter()
                .map(|p| {
                    json!({
                        "domain_id": p.domain.id, "enabled": true, "id": p.id, "name": p.name,
                        "links": {"self": format!("{}/identity/v3/projects/{}", app.base, p.id)}
                    })
                })
                .collect();
            Ok(Resp::json(
                200,
                &json!({"projects": projects, "links": {"self": format!("{}/identity/v3/auth/projects", app.base), "previous": null, "next": null}}),
            ))
        }
        _ => Err(ApiError::not_found("The resource could not be found.")),
    }
}
