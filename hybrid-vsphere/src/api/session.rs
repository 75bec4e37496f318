//! `ServiceInstance.RetrieveServiceContent`, `SessionManager.Login` and `Logout`.

use secrecy::{ExposeSecret, SecretString};

use hybrid_core::Result;

use crate::error::shape_error;
use crate::protocol::requests::{envelope, Login, This, VIM25_NS};
use crate::protocol::types::{Mor, ServiceContent, UserSession};
use crate::session::Session;
use crate::transport::{Idempotency, Transport};

fn ser_error(method: &str, e: quick_xml::SeError) -> hybrid_core::Error {
    hybrid_core::Error::invalid_input(format!("the {method} request cannot be serialized"))
        .with_source(e)
}

/// `RetrieveServiceContent` on `ServiceInstance` (no session needed).
pub(crate) async fn retrieve_service_content(t: &Transport) -> Result<ServiceContent> {
    const M: &str = "RetrieveServiceContent";
    let si = Mor::new("ServiceInstance", "ServiceInstance");
    let env = envelope(M, &This::new(&si)).map_err(|e| ser_error(M, e))?;
    let resp = t.call(M, env, Idempotency::ReadOnly).await?;
    let rv = resp.req("returnval").map_err(|e| shape_error(M, e))?;
    ServiceContent::from_node(rv).map_err(|e| shape_error(M, e))
}

/// `Login`; the transport keeps the session cookie it sets.
pub(crate) async fn login(
    t: &Transport,
    session_manager: &Mor,
    user: &str,
    password: &SecretString,
) -> Result<UserSession> {
    const M: &str = "Login";
    let body = Login {
        xmlns: VIM25_NS,
        _this: session_manager,
        userName: user,
        password: password.expose_secret(),
    };
    let env = envelope(M, &body).map_err(|e| ser_error(M, e))?;
    let resp = t.call(M, env, Idempotency::Mutating).await?;
    let rv = resp.req("returnval").map_err(|e| shape_error(M, e))?;
    UserSession::from_node(rv).map_err(|e| shape_error(M, e))
}

/// `Logout`.
pub(crate) async fn logout(s: &Session, session_manager: &Mor) -> Result<()> {
    s.invoke("Logout", &This::new(session_manager), Idempotency::Mutating)
        .await
        .map(drop)
}
