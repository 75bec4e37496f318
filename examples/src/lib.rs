//! Small helpers shared by hybrid's examples.

use hybrid::model::Server;

/// One line describing a server: name, state, flavor and first address.
pub fn server_line(s: &Server) -> String {
    let addr = s
        .addresses
        .first()
        .map(|a| a.address.as_str())
        .unwrap_or("-");
    let flavor = s.flavor.as_ref().map(|f| f.as_str()).unwrap_or("-");
    format!("{:<16} {:<8} {:<14} {}", s.name, s.status, flavor, addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid::model::{AddressKind, ServerAddress, ServerId, ServerStatus};

    #[test]
    fn formats_a_server() {
        let s = Server {
            id: ServerId::new("1"),
            name: "web-1".into(),
            status: ServerStatus::Active,
            flavor: Some("m1.small".into()),
            image: None,
            addresses: vec![ServerAddress {
                network: "private".into(),
                address: "10.0.0.5".into(),
                kind: AddressKind::Fixed,
            }],
            key_name: None,
            availability_zone: None,
            tags: vec![],
            metadata: Default::default(),
            created_at: None,
            progress: None,
            fault: None,
            raw: None,
        };
        let line = server_line(&s);
        assert!(line.starts_with("web-1"));
        assert!(line.contains("ACTIVE") && line.contains("m1.small") && line.ends_with("10.0.0.5"));
    }
}
