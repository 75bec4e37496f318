//! Reading SOAP responses: the method's `…Response` element, or a fault.

use super::types::MethodFault;
use super::xml::{self, Node};

/// What a SOAP response held, when it was not the method's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SoapError {
    /// A SOAP fault with a vim25 fault in its detail (or none).
    #[error("SOAP fault {}: {message}", fault.kind)]
    Fault {
        /// The vim25 fault (`kind` is `MethodFault` when the detail names none).
        fault: Box<MethodFault>,
        /// `faultstring`.
        message: String,
    },
    /// Not XML, truncated, or not a SOAP envelope of the expected shape.
    #[error("{0}")]
    Malformed(String),
}

/// Parses a response body for `method`: its `…Response` element on success.
pub(crate) fn parse_response(method: &str, body: &str) -> Result<Node, SoapError> {
    let mut root = xml::parse(body).map_err(|e| {
        SoapError::Malformed(format!(
            "the answer to {method} is not well-formed XML: {e}"
        ))
    })?;
    let mut soap_body = root.take_child("Body").ok_or_else(|| {
        SoapError::Malformed(format!("the answer to {method} is not a SOAP envelope"))
    })?;
    if let Some(fault) = soap_body.child("Fault") {
        return Err(parse_fault(fault));
    }
    let want = format!("{method}Response");
    // Moved out of the tree, not copied: a page of inventory is most of the answer.
    soap_body.take_child(&want).ok_or_else(|| {
        let got: Vec<&str> = soap_body.children.iter().map(|(k, _)| &**k).collect();
        SoapError::Malformed(format!(
            "the answer to {method} has no <{want}> (found {got:?})"
        ))
    })
}

/// Reads a `<Fault>` element.
pub(crate) fn parse_fault(fault: &Node) -> SoapError {
    let message = fault
        .child_text("faultstring")
        .unwrap_or("")
        .trim()
        .to_owned();
    let detail = fault.child("detail").and_then(|d| {
        d.children
            .first()
            .map(|(name, n)| (name.clone(), n.clone()))
    });
    let fault = match detail {
        Some((name, n)) => {
            let kind = n
                .xsi_type()
                .map(str::to_owned)
                .unwrap_or_else(|| name.strip_suffix("Fault").unwrap_or(&name).to_owned());
            Box::new(MethodFault {
                kind,
                message: message.clone(),
                detail: n,
            })
        }
        None => Box::new(MethodFault {
            kind: "MethodFault".to_owned(),
            message: message.clone(),
            detail: Node::default(),
        }),
    };
    SoapError::Fault { fault, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAULT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The object has already been deleted or has not been completely created</faultstring><detail><ManagedObjectNotFoundFault xmlns="urn:vim25" xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-404</obj></ManagedObjectNotFoundFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn fault_with_detail() {
        let SoapError::Fault { fault, message } =
            parse_response("RetrievePropertiesEx", FAULT).unwrap_err()
        else {
            panic!("not a fault")
        };
        assert_eq!(fault.kind, "ManagedObjectNotFound");
        assert!(message.contains("already been deleted"));
        assert_eq!(fault.detail.child_text("obj"), Some("vm-404"));
    }

    #[test]
    fn fault_without_xsi_type_uses_element_name() {
        let body = r#"<Envelope><Body><Fault><faultstring>no</faultstring><detail><InvalidLoginFault xmlns="urn:vim25"/></detail></Fault></Body></Envelope>"#;
        let SoapError::Fault { fault, .. } = parse_response("Login", body).unwrap_err() else {
            panic!()
        };
        assert_eq!(fault.kind, "InvalidLogin");
    }

    #[test]
    fn malformed_truncated_and_unexpected_bodies() {
        assert!(matches!(
            parse_response("Login", &FAULT[..120]),
            Err(SoapError::Malformed(_))
        ));
        assert!(matches!(
            parse_response("Login", "<html>oops</html>"),
            Err(SoapError::Malformed(_))
        ));
        assert!(matches!(
            parse_response("Login", "not xml at all"),
            Err(SoapError::Malformed(_))
        ));
        let other = r#"<Envelope><Body><LogoutResponse/></Body></Envelope>"#;
        let e = parse_response("Login", other).unwrap_err();
        assert!(e.to_string().contains("LoginResponse"), "{e}");
        let ok = r#"<Envelope><Body><LogoutResponse xmlns="urn:vim25"></LogoutResponse></Body></Envelope>"#;
        assert!(parse_response("Logout", ok).is_ok());
    }
}
