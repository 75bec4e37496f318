//! The vim25 session: `ServiceContent`, `Login` with the session cookie, one re-login
//! after a `NotAuthenticated` fault, `Logout`; a standalone ESXi host is refused.

use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::Mutex;

use hybrid_core::{Error, ErrorKind, Reason, ReasonKind, Result};

use crate::api;
use crate::config::VsphereConfig;
use crate::error::VimFault;
use crate::protocol::requests::envelope;
use crate::protocol::types::{Mor, ServiceContent, UserSession};
use crate::protocol::xml::Node;
use crate::transport::{Idempotency, Transport};

/// The sentence of the `Unsupported` error for a standalone ESXi host.
pub(crate) const ESXI_REFUSED: &str = "this endpoint is a standalone ESXi host (about.apiType HostAgent); hybrid-vsphere requires vCenter Server (apiType VirtualCenter): connect to the vCenter that manages the host";

pub(crate) struct Session {
    pub(crate) transport: Transport,
    user: String,
    password: SecretString,
    pub(crate) content: ServiceContent,
    login_generation: Mutex<u64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("transport", &self.transport)
            .field("user", &self.user)
            .field("about", &self.content.about.full_name)
            .finish_non_exhaustive()
    }
}

/// Refuses anything but vCenter.
pub(crate) fn require_vcenter(content: &ServiceContent) -> Result<()> {
    if content.about.api_type == "HostAgent" {
        return Err(Error::unsupported(Reason::new(
            ReasonKind::PlatformNever,
            ESXI_REFUSED,
        )));
    }
    if content.about.api_type != "VirtualCenter" {
        return Err(Error::unsupported(Reason::new(
            ReasonKind::PlatformNever,
            format!(
                "this endpoint reports about.apiType {:?}; hybrid-vsphere requires vCenter Server (apiType VirtualCenter)",
                content.about.api_type
            ),
        )));
    }
    Ok(())
}

fn is_not_authenticated(e: &Error) -> bool {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(f) = s.downcast_ref::<VimFault>() {
            return f.kind == "NotAuthenticated";
        }
        src = s.source();
    }
    false
}

impl Session {
    /// Reads `ServiceContent`, refuses a standalone ESXi host (before any credential is
    /// sent), and logs in.
    #[cfg(test)]
    pub(crate) async fn connect(cfg: &VsphereConfig) -> Result<Session> {
        let http = crate::transport::http_client(cfg, cfg.client_options()?)?;
        Session::connect_with(cfg, http).await
    }

    /// As [`connect`](Self::connect), over `http`.
    pub(crate) async fn connect_with(
        cfg: &VsphereConfig,
        http: hybrid_http::HttpClient,
    ) -> Result<Session> {
        let transport = Transport::with_client(cfg, http)?;
        let content = api::session::retrieve_service_content(&transport).await?;
        require_vcenter(&content)?;
        transport.set_version(&content.about.api_version);
        let user = cfg.user.clone().ok_or_else(|| {
            Error::config("no vCenter user: set GOVC_USERNAME or VSPHERE_USERNAME")
        })?;
        let password = cfg.password.clone().ok_or_else(|| {
            Error::config("no vCenter password: set GOVC_PASSWORD or VSPHERE_PASSWORD")
        })?;
        let session = Session {
            transport,
            user,
            password,
            content,
            login_generation: Mutex::new(0),
        };
        session.login().await?;
        Ok(session)
    }

    async fn login(&self) -> Result<UserSession> {
        let sm = self.content.session_manager.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidResponse,
                "ServiceContent names no sessionManager",
            )
        })?;
        self.transport.clear_cookie();
        let s = api::session::login(&self.transport, sm, &self.user, &self.password).await?;
        if !self.transport.has_cookie() {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "Login succeeded but the answer set no vmware_soap_session cookie",
            ));
        }
        Ok(s)
    }

    /// The current login generation, logging in first when there is no session cookie
    /// (after [`logout`](Self::logout), or when a login was cut short): one login for
    /// any number of concurrent callers.
    async fn ensure_logged_in(&self) -> Result<u64> {
        let mut g = self.login_generation.lock().await;
        if !self.transport.has_cookie() {
            tracing::debug!(target: "hybrid_vsphere", "no vim25 session: logging in");
            self.login().await?;
            *g += 1;
        }
        Ok(*g)
    }

    /// Calls `method` with `body`; after a `NotAuthenticated` fault (an expired
    /// session) logs in again once and repeats the call.
    pub(crate) async fn invoke<T: Serialize>(
        &self,
        method: &str,
        body: &T,
        idem: Idempotency,
    ) -> Result<Node> {
        let env = envelope(method, body).map_err(|e| {
            Error::invalid_input(format!("the {method} request cannot be serialized"))
                .with_source(e)
        })?;
        let generation = self.ensure_logged_in().await?;
        match self.transport.call(method, env.clone(), idem).await {
            Err(e) if is_not_authenticated(&e) => {
                {
                    let mut g = self.login_generation.lock().await;
                    if *g == generation {
                        tracing::info!(target: "hybrid_vsphere", method, "session expired (NotAuthenticated): logging in again");
                        self.login().await?;
                        *g += 1;
                    }
                }
                self.transport.call(method, env, idem).await
            }
            other => other,
        }
    }

    /// Ends the session (best effort); nothing to do without one.
    pub(crate) async fn logout(&self) -> Result<()> {
        let sm = match &self.content.session_manager {
            Some(sm) if self.transport.has_cookie() => sm.clone(),
            _ => return Ok(()),
        };
        api::session::logout(self, &sm).await?;
        self.transport.clear_cookie();
        Ok(())
    }

    pub(crate) fn property_collector(&self) -> &Mor {
        &self.content.property_collector
    }
}
