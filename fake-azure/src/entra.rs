//! Entra ID: the v2.0 and v1 token endpoints (client credentials with a secret or a
//! signed assertion), the OpenID configuration document, the managed identity
//! endpoint of IMDS, and the store of issued access tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::http::Resp;
use crate::service::{App, Req};
use crate::util::{b64url_decode, b64url_encode, entra_time, now_secs, Rng};

/// Audiences ARM accepts (compared without a trailing slash, case-insensitively),
/// besides the fake's own URL.
const ARM_AUDIENCES: &[&str] = &[
    "https://management.azure.com",
    "https://management.core.windows.net",
    "https://management.chinacloudapi.cn",
    "https://management.core.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
    "https://management.core.usgovcloudapi.net",
];

#[derive(Debug, Clone)]
struct TokenInfo {
    expires: Instant,
    expires_secs: i64,
    audience: String,
    revoked: bool,
}

/// Why ARM refuses a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenRejection {
    Missing,
    Invalid,
    Expired(i64),
    Audience(String),
}

/// Issued access tokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    issued: HashMap<String, TokenInfo>,
    rng: Rng,
}

impl Tokens {
    pub(crate) fn new() -> Tokens {
        Tokens {
            issued: HashMap::new(),
            rng: Rng::new(),
        }
    }

    /// Issues a JWT-shaped access token for `client_id` and `audience`.
    fn issue(&mut self, cfg: &Config, client_id: &str, audience: &str, ttl: Duration) -> String {
        let now = now_secs();
        let exp = now + ttl.as_secs() as i64;
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": "fake-azure-signing-key"});
        let oid = self.rng.uuid();
        let payload = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{}/", cfg.tenant),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "appid": client_id,
            "appidacr": "1",
            "idp": format!("https://sts.windows.net/{}/", cfg.tenant),
            "oid": oid,
            "sub": oid,
            "tid": cfg.tenant,
            "uti": b64url_encode(&self.rng.bytes(16)),
            "ver": "1.0",
        });
        let token = format!(
            "{}.{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(payload.to_string().as_bytes()),
            b64url_encode(&self.rng.bytes(64)),
        );
        self.issued.insert(
            token.clone(),
            TokenInfo {
                expires: Instant::now() + ttl,
                expires_secs: exp,
                audience: audience.to_owned(),
                revoked: false,
            },
        );
        token
    }

    /// Every access token issued so far.
    pub(crate) fn issued(&self) -> Vec<String> {
        self.issued.keys().cloned().collect()
    }

    /// Every issued token is treated as expired from now on.
    pub(crate) fn revoke_all(&mut self) {
        for t in self.issued.values_mut() {
            t.revoked = true;
        }
    }

    /// Checks an `Authorization` header value for ARM.
    pub(crate) fn validate(&self, header: Option<&str>, base: &str) -> Result<(), TokenRejection> {
        let Some(h) = header else {
            return Err(TokenRejection::Missing);
        };
        let token = match h.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => return Err(TokenRejection::Invalid),
        };
        let Some(info) = self.issued.get(token) else {
            return Err(TokenRejection::Invalid);
        };
        if info.revoked || Instant::now() >= info.expires {
            return Err(TokenRejection::Expired(info.expires_secs));
        }
        let aud = info.audience.trim_end_matches('/');
        let base = base.trim_end_matches('/');
        // Behind a TLS front the fake sees `http://host:port`, the client used
        // `https://host:port`: the same origin for this check.
        let same_host = |a: &str| {
            let strip = |u: &str| {
                let l = u.to_ascii_lowercase();
                l.strip_prefix("https://")
                    .or_else(|| l.strip_prefix("http://"))
                    .map(str::to_owned)
            };
            strip(a).is_some_and(|h| Some(h) == strip(base))
        };
        let ok = ARM_AUDIENCES.iter().any(|a| a.eq_ignore_ascii_case(aud))
            || aud.eq_ignore_ascii_case(base)
            || same_host(aud);
        if !ok {
            return Err(TokenRejection::Audience(info.audience.clone()));
        }
        Ok(())
    }
}

/// An Entra error response.
struct EntraError {
    status: u16,
    error: &'static str,
    code: u32,
    description: String,
}

impl EntraError {
    fn new(status: u16, error: &'static str, code: u32, description: impl Into<String>) -> Self {
        EntraError {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    fn missing(param: &str) -> Self {
        EntraError::new(
            400,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{param}'."),
        )
    }
}

/// Renders an Entra error the way login.microsoftonline.com does.
pub(crate) fn entra_error(
    app: &App,
    status: u16,
    error: &str,
    code: u32,
    description: &str,
) -> Resp {
    let (trace, corr) = {
        let mut t = app.tokens();
        (t.rng.uuid(), t.rng.uuid())
    };
    let ts = entra_time(now_secs());
    Resp::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {ts}"),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("{}/error?code={code}", app.base),
        }),
    )
    .header("Cache-Control", "no-store, no-cache")
}

fn render(app: &App, e: EntraError) -> Resp {
    entra_error(app, e.status, e.error, e.code, &e.description)
}

/// Routes `/{tenant}/...` (Entra) and `/metadata/...` (IMDS) requests; `None` when
/// the path belongs to neither.
pub(crate) fn handle(app: &App, req: &Req) -> Option<Resp> {
    let l: Vec<&str> = req.lsegs.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["metadata", "identity", "oauth2", "token"] => Some(imds(app, req)),
        [_, "oauth2", "v2.0", "token"] | [_, "oauth2", "token"] => Some(token(app, req)),
        [_, "v2.0", ".well-known", "openid-configuration"] => Some(openid(app, req)),
        _ => None,
    }
}

fn tenant_matches(app: &App, t: &str) -> bool {
    t.eq_ignore_ascii_case(&app.cfg.tenant)
}

fn openid(app: &App, req: &Req) -> Resp {
    let t = &req.segs[0];
    if !tenant_matches(app, t) {
        return render(
            app,
            EntraError::new(
                400,
                "invalid_tenant",
                90002,
                format!("Tenant '{t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
            ),
        );
    }
    if req.method != http::Method::GET {
        return render(
            app,
            EntraError::new(
                405,
                "invalid_request",
                900561,
                "The endpoint only accepts GET requests.",
            ),
        );
    }
    let base = &app.base;
    let tenant = &app.cfg.tenant;
    Resp::json(
        200,
        &json!({
            "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{tenant}/v2.0"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }),
    )
}

fn token(app: &App, req: &Req) -> Resp {
    match issue_client_token(app, req) {
        Ok(r) => r,
        Err(e) => render(app, e),
    }
}

fn issue_client_token(app: &App, req: &Req) -> Result<Resp, EntraError> {
    let tenant = &req.segs[0];
    let v1 = req.lsegs[2] == "token";
    if req.method != http::Method::POST {
        return Err(EntraError::new(
            405,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
        ));
    }
    if !tenant_matches(app, tenant) {
        return Err(EntraError::new(
            400,
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
        ));
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let grant = get("grant_type").ok_or_else(|| EntraError::missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(EntraError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let audience = if v1 {
        get("resource")
            .ok_or_else(|| EntraError::missing("resource"))?
            .to_owned()
    } else {
        let scope = get("scope").ok_or_else(|| EntraError::missing("scope"))?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if scopes.len() != 1 || !scopes[0].ends_with("/.default") {
            return Err(EntraError::new(
                400,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ));
        }
        scopes[0].trim_end_matches("/.default").to_owned()
    };
    let client_id = match (get("client_assertion"), get("client_secret")) {
        (Some(assertion), _) => {
            let kind = get("client_assertion_type").unwrap_or("");
            if kind != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
                return Err(EntraError::new(
                    400,
                    "invalid_request",
                    7000016,
                    "The client_assertion_type parameter must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
                ));
            }
            check_assertion(app, assertion, get("client_id"))?
        }
        (None, Some(secret)) => {
            let id = get("client_id").ok_or_else(|| EntraError::missing("client_id"))?;
            let client = known_client(app, id)?;
            if client.secret != secret {
                return Err(EntraError::new(
                    401,
                    "invalid_client",
                    7000215,
                    format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{id}'."),
                ));
            }
            id.to_owned()
        }
        (None, None) => {
            let id = get("client_id").ok_or_else(|| EntraError::missing("client_id"))?;
            known_client(app, id)?;
            return Err(EntraError::new(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    };
    let ttl = app.cfg.token_ttl;
    let token = app.tokens().issue(&app.cfg, &client_id, &audience, ttl);
    let secs = ttl.as_secs();
    let body = if v1 {
        let now = now_secs();
        json!({
            "token_type": "Bearer",
            "expires_in": secs.to_string(),
            "ext_expires_in": secs.to_string(),
            "expires_on": (now + secs as i64).to_string(),
            "not_before": now.to_string(),
            "resource": audience,
            "access_token": token,
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": secs,
            "ext_expires_in": secs,
            "access_token": token,
        })
    };
    Ok(Resp::json(200, &body).header("Cache-Control", "no-store, no-cache"))
}

fn known_client<'a>(app: &'a App, id: &str) -> Result<&'a crate::config::ClientSpec, EntraError> {
    app.cfg
        .clients
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            EntraError::new(
                400,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", app.cfg.tenant),
            )
        })
}

fn decode_segment(s: &str) -> Option<Map<String, Value>> {
    let bytes = b64url_decode(s)?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Accepts a well-formed three-part JWT: a certificate assertion (`iss` and `sub`
/// both the client id) or a federated token whose (`iss`, `sub`) pair was
/// configured. The signature is not verified.
fn check_assertion(
    app: &App,
    assertion: &str,
    client_id: Option<&str>,
) -> Result<String, EntraError> {
    let malformed = || {
        EntraError::new(
            400,
            "invalid_request",
            50027,
            "JWT token is invalid or is malformed.",
        )
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(malformed());
    }
    decode_segment(parts[0]).ok_or_else(malformed)?;
    let claims = decode_segment(parts[1]).ok_or_else(malformed)?;
    b64url_decode(parts[2]).ok_or_else(malformed)?;
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    let (iss, sub) = (claim("iss"), claim("sub"));
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        if exp <= now_secs() {
            return Err(EntraError::new(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
    }
    let cert = !sub.is_empty() && iss.eq_ignore_ascii_case(sub);
    if cert {
        let id = client_id.unwrap_or(sub);
        let client = known_client(app, id)?;
        if !client.id.eq_ignore_ascii_case(sub) {
            return Err(EntraError::new(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
            ));
        }
        return Ok(client.id.clone());
    }
    let Some(id) = client_id else {
        return Err(EntraError::missing("client_id"));
    };
    let client = known_client(app, id)?;
    let trusted = app
        .cfg
        .federated_subjects
        .iter()
        .any(|(i, s)| i == iss && s == sub);
    if !trusted {
        return Err(EntraError::new(
            400,
            "invalid_request",
            70021,
            format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'.", claim("aud")),
        ));
    }
    Ok(client.id.clone())
}

fn imds(app: &App, req: &Req) -> Resp {
    let bad = |d: &str| {
        Resp::json(
            400,
            &json!({"error": "invalid_request", "error_description": d}),
        )
    };
    if req.method != http::Method::GET {
        return Resp::json(
            405,
            &json!({"error": "invalid_request", "error_description": "The request method is not supported."}),
        );
    }
    if !req
        .header("metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return bad("Required metadata header not specified");
    }
    if req.header("x-forwarded-for").is_some() {
        return bad("Request with X-Forwarded-For header is not allowed");
    }
    if req.query.get("api-version").is_none() {
        return bad("Required query variable 'api-version' is missing");
    }
    let Some(resource) = req.query.get("resource").filter(|r| !r.is_empty()) else {
        return bad("Required audience parameter not specified");
    };
    let mi = &app.cfg.managed_identity;
    for k in ["client_id", "object_id", "msi_res_id", "mi_res_id"] {
        if let Some(v) = req.query.get(k) {
            if k != "client_id" || !v.eq_ignore_ascii_case(mi) {
                return bad("Identity not found");
            }
        }
    }
    let ttl = app.cfg.token_ttl;
    let audience = resource.to_owned();
    let token = app.tokens().issue(&app.cfg, mi, &audience, ttl);
    let now = now_secs();
    let secs = ttl.as_secs();
    Resp::json(
        200,
        &json!({
            "access_token": token,
            "client_id": mi,
            "expires_in": secs.to_string(),
            "expires_on": (now + secs as i64).to_string(),
            "ext_expires_in": secs.to_string(),
            "not_before": now.to_string(),
            "resource": audience,
            "token_type": "Bearer",
        }),
    )
}
