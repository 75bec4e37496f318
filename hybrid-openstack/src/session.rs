//! An authenticated session: one HTTP client, one single-flight token cache over
//! Keystone, and endpoint selection from the token's catalog by service type,
//! interface and region. Every service call of the `api` stratum starts here.

use std::sync::Arc;

use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::{Authorizer, HttpClient, Method, RequestBuilder, TokenCache, TokenHeader, Url};

use crate::auth::KeystoneAuth;
use crate::capabilities::Microversion;
use crate::config::CloudConfig;
use crate::protocol::keystone::find_endpoint;

/// The services hybrid talks to, with their catalog types and microversion headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Nova.
    Compute,
    /// Neutron.
    Network,
    /// Cinder v3.
    BlockStorage,
    /// Glance v2.
    Image,
}

impl Service {
    /// The service type in the catalog (aliases are tried too).
    pub fn catalog_type(self) -> &'static str {
        match self {
            Service::Compute => "compute",
            Service::Network => "network",
            Service::BlockStorage => "block-storage",
            Service::Image => "image",
        }
    }

    /// The name in `OpenStack-API-Version` headers, for services with microversions.
    pub fn microversion_name(self) -> Option<&'static str> {
        match self {
            Service::Compute => Some("compute"),
            Service::BlockStorage => Some("volume"),
            Service::Network | Service::Image => None,
        }
    }
}

/// An authenticated OpenStack session. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Session {
    client: HttpClient,
    auth: KeystoneAuth,
    tokens: Arc<TokenCache<KeystoneAuth>>,
    region: Option<String>,
    interface: String,
}

impl Session {
    /// A session for `cloud` over `client`. Makes no request until the first call.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable `auth_url`.
    pub fn new(client: HttpClient, cloud: &CloudConfig) -> Result<Self> {
        let auth = KeystoneAuth::new(client.clone(), cloud)?;
        let tokens =
            Arc::new(TokenCache::new(auth.clone()).with_header(TokenHeader::x_auth_token()));
        Ok(Session {
            client,
            auth,
            tokens,
            region: cloud.region_name.clone(),
            interface: cloud.interface.clone(),
        })
    }

    /// The same session (same token) for another region's endpoints.
    pub fn for_region(&self, region: Option<String>) -> Session {
        Session {
            region,
            ..self.clone()
        }
    }

    /// The HTTP client.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The Keystone authentication (for the session's catalog and scope).
    pub fn auth(&self) -> &KeystoneAuth {
        &self.auth
    }

    /// The region in use, if configured.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The token cache, as an authorizer for requests.
    pub fn authorizer(&self) -> Arc<dyn Authorizer> {
        self.tokens.clone()
    }

    /// Authenticates now if no valid token is cached.
    ///
    /// # Errors
    /// Keystone's errors (`Unauthenticated` for rejected credentials).
    pub async fn authenticate(&self) -> Result<()> {
        self.tokens.token().await.map(drop)
    }

    /// The base URL of `service` from the catalog, ending in `/`.
    ///
    /// # Errors
    /// [`ErrorKind::Unsupported`] when this region's catalog has no such endpoint;
    /// authentication errors.
    pub async fn endpoint(&self, service: Service) -> Result<Url> {
        self.authenticate().await?;
        let session = self
            .auth
            .session()
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated, "no Keystone session"))?;
        let url = find_endpoint(
            &session.catalog,
            service.catalog_type(),
            &self.interface,
            self.region.as_deref(),
        )
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the service catalog has no {} {} endpoint in region {}",
                    self.interface,
                    service.catalog_type(),
                    self.region.as_deref().unwrap_or("(any)")
                ),
            )
        })?;
        let mut url = Url::parse(url).map_err(|e| {
            Error::invalid_response(
                format!(
                    "the catalog's {} endpoint is not a URL",
                    service.catalog_type()
                ),
                e,
            )
        })?;
        if !url.path().ends_with('/') {
            let p = format!("{}/", url.path());
            url.set_path(&p);
        }
        Ok(url)
    }

    /// A request to `path` (relative to the service's endpoint) with the token, the
    /// operation name and, where the service has them, the microversion headers.
    ///
    /// # Errors
    /// As [`Session::endpoint`]; [`ErrorKind::InvalidInput`] for a path that is not a
    /// relative reference.
    pub async fn request(
        &self,
        service: Service,
        method: Method,
        path: &str,
        microversion: Option<Microversion>,
        operation: &str,
    ) -> Result<RequestBuilder> {
        let base = self.endpoint(service).await?;
        let url = base.join(path.trim_start_matches('/')).map_err(|e| {
            Error::invalid_input(format!("bad request path {path:?}")).with_source(e)
        })?;
        let req = self.client.request(method, url.as_str());
        Ok(self.dress(req, service, microversion, operation))
    }

    /// Adds the token, the operation name and the microversion headers to `req` (used
    /// for requests built from a full URL, such as the pages of a listing).
    pub fn dress(
        &self,
        req: RequestBuilder,
        service: Service,
        microversion: Option<Microversion>,
        operation: &str,
    ) -> RequestBuilder {
        let mut req = req.auth(self.authorizer()).operation(operation.to_owned());
        if let (Some(name), Some(v)) = (service.microversion_name(), microversion) {
            req = req.header("OpenStack-API-Version", format!("{name} {v}"));
            if service == Service::Compute {
                req = req.header("X-OpenStack-Nova-API-Version", v.to_string());
            }
        }
        req
    }
}
