//! Azure Resource Manager resource ids.
//!
//! Every hybrid id of an Azure resource is its full ARM resource id, as ARM reports it:
//! `/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}`.
//! Where a call takes an id, a bare name is accepted too and means the resource of that
//! name in the configured resource group (`web-1` for a VM; `vnet-1/default` for a
//! subnet). ARM compares ids without regard to case; so does this module.
//!
//! URLs are always built from the parsed segments, each percent-encoded, so a crafted id
//! cannot change the path or query of a request.

use std::fmt;

use hybrid_core::{Error, Result};
use url::Url;

/// The scope a provider works in: a subscription, a resource group and a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The subscription id.
    pub subscription_id: String,
    /// The resource group new resources go to and lists read.
    pub resource_group: String,
    /// The location (region) new resources are created in, for example `westeurope`.
    pub location: String,
}

/// A parsed ARM resource id: subscription, optional resource group, provider namespace
/// and the chain of `(type, name)` pairs (`virtualNetworks/vnet-1/subnets/default`).
#[derive(Debug, Clone)]
pub struct ResourceId {
    subscription: String,
    resource_group: Option<String>,
    namespace: String,
    chain: Vec<(String, String)>,
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }
}

impl Eq for ResourceId {}

fn valid_segment(s: &str) -> bool {
    !s.is_empty() && !s.contains(['/', '?', '#']) && !s.chars().any(char::is_control)
}

impl ResourceId {
    /// A resource in `resource_group` of `subscription`, provider `namespace` (like
    /// `Microsoft.Compute`), with the `(type, name)` chain.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](hybrid_core::ErrorKind::InvalidInput) when a segment
    /// is empty or holds `/`, `?`, `#` or a control character.
    pub fn new(
        subscription: &str,
        resource_group: Option<&str>,
        namespace: &str,
        chain: &[(&str, &str)],
    ) -> Result<Self> {
        let mut all = vec![subscription, namespace];
        all.extend(resource_group);
        for (t, n) in chain {
            all.push(t);
            all.push(n);
        }
        if let Some(bad) = all.iter().find(|s| !valid_segment(s)) {
            return Err(Error::invalid_input(format!(
                "{bad:?} cannot be part of an Azure resource id (empty, or holds '/', '?', '#' or a control character)"
            )));
        }
        if chain.is_empty() {
            return Err(Error::invalid_input(
                "an Azure resource id needs a resource type and name",
            ));
        }
        Ok(ResourceId {
            subscription: subscription.to_owned(),
            resource_group: resource_group.map(str::to_owned),
            namespace: namespace.to_owned(),
            chain: chain
                .iter()
                .map(|(t, n)| ((*t).to_owned(), (*n).to_owned()))
                .collect(),
        })
    }

    /// Parses `/subscriptions/{s}[/resourceGroups/{g}]/providers/{namespace}/{type}/{name}[/{type}/{name}]…`.
    /// Returns `None` for anything else.
    pub fn parse(id: &str) -> Option<Self> {
        let rest = id.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|p| !valid_segment(p)) {
            return None;
        }
        let mut i = 0;
        if !parts.get(i)?.eq_ignore_ascii_case("subscriptions") {
            return None;
        }
        let subscription = parts.get(i + 1)?.to_string();
        i += 2;
        let mut resource_group = None;
        if parts.get(i)?.eq_ignore_ascii_case("resourceGroups") {
            resource_group = Some(parts.get(i + 1)?.to_string());
            i += 2;
        }
        if !parts.get(i)?.eq_ignore_ascii_case("providers") {
            return None;
        }
        let namespace = parts.get(i + 1)?.to_string();
        i += 2;
        let tail = &parts[i..];
        if tail.is_empty() || tail.len() % 2 != 0 {
            return None;
        }
        let chain = tail
            .chunks(2)
            .map(|c| (c[0].to_owned(), c[1].to_owned()))
            .collect();
        Some(ResourceId {
            subscription,
            resource_group,
            namespace,
            chain,
        })
    }

    /// The subscription id.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// The resource group, for resources that live in one.
    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.as_deref()
    }

    /// The provider namespace, for example `Microsoft.Network`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The resource's own name (the last name of the chain).
    pub fn name(&self) -> &str {
        self.chain.last().map(|(_, n)| n.as_str()).unwrap_or("")
    }

    /// The full type, for example `Microsoft.Network/virtualNetworks/subnets`.
    pub fn resource_type(&self) -> String {
        let mut t = self.namespace.clone();
        for (ty, _) in &self.chain {
            t.push('/');
            t.push_str(ty);
        }
        t
    }

    /// Whether the resource is of type `namespace/types…` (compared without case).
    pub fn is_type(&self, namespace: &str, types: &[&str]) -> bool {
        self.namespace.eq_ignore_ascii_case(namespace)
            && self.chain.len() == types.len()
            && self
                .chain
                .iter()
                .zip(types)
                .all(|((t, _), want)| t.eq_ignore_ascii_case(want))
    }

    /// The name at chain position `i` (0: the top-level resource).
    pub fn name_at(&self, i: usize) -> Option<&str> {
        self.chain.get(i).map(|(_, n)| n.as_str())
    }

    /// The parent resource (`…/virtualNetworks/vnet-1` of a subnet), if this is a child.
    pub fn parent(&self) -> Option<ResourceId> {
        if self.chain.len() < 2 {
            return None;
        }
        let mut p = self.clone();
        p.chain.pop();
        Some(p)
    }

    /// A child resource of this one.
    ///
    /// # Errors
    /// As [`ResourceId::new`].
    pub fn child(&self, ty: &str, name: &str) -> Result<ResourceId> {
        if !valid_segment(ty) || !valid_segment(name) {
            return Err(Error::invalid_input(format!(
                "{name:?} cannot be part of an Azure resource id"
            )));
        }
        let mut c = self.clone();
        c.chain.push((ty.to_owned(), name.to_owned()));
        Ok(c)
    }

    /// The path segments, unencoded.
    pub fn segments(&self) -> Vec<&str> {
        let mut s = vec!["subscriptions", self.subscription.as_str()];
        if let Some(g) = &self.resource_group {
            s.push("resourceGroups");
            s.push(g);
        }
        s.push("providers");
        s.push(&self.namespace);
        for (t, n) in &self.chain {
            s.push(t);
            s.push(n);
        }
        s
    }

    /// The URL of this resource under `base` (the ARM endpoint), each segment encoded.
    pub fn url(&self, base: &Url) -> Url {
        segments_url(base, &self.segments())
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in self.segments() {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

/// `base` with `segments` appended as path segments (each percent-encoded).
pub fn segments_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut p) = url.path_segments_mut() {
        p.pop_if_empty();
        for s in segments {
            p.push(s);
        }
    }
    url
}

/// How a caller's id failed to name a resource of the expected type.
#[derive(Debug)]
pub(crate) enum Unresolved {
    /// Not an id of this type: the caller's mistake.
    Invalid(Error),
    /// An id that can name no resource of this type (a bare name where the type needs
    /// its parent too): no such resource exists.
    Missing(Error),
}

impl Unresolved {
    pub(crate) fn into_error(self) -> Error {
        match self {
            Unresolved::Invalid(e) | Unresolved::Missing(e) => e,
        }
    }
}

/// What kind of resource an id must name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    /// For messages: `server`, `subnet`.
    pub what: &'static str,
    pub namespace: &'static str,
    pub types: &'static [&'static str],
}

pub(crate) const VM: Kind = Kind {
    what: "server",
    namespace: "Microsoft.Compute",
    types: &["virtualMachines"],
};
pub(crate) const DISK: Kind = Kind {
    what: "volume",
    namespace: "Microsoft.Compute",
    types: &["disks"],
};
pub(crate) const SNAPSHOT: Kind = Kind {
    what: "snapshot",
    namespace: "Microsoft.Compute",
    types: &["snapshots"],
};
pub(crate) const SSH_KEY: Kind = Kind {
    what: "key pair",
    namespace: "Microsoft.Compute",
    types: &["sshPublicKeys"],
};
pub(crate) const IMAGE: Kind = Kind {
    what: "image",
    namespace: "Microsoft.Compute",
    types: &["images"],
};
pub(crate) const GALLERY_IMAGE_VERSION: Kind = Kind {
    what: "gallery image version",
    namespace: "Microsoft.Compute",
    types: &["galleries", "images", "versions"],
};
pub(crate) const VNET: Kind = Kind {
    what: "network",
    namespace: "Microsoft.Network",
    types: &["virtualNetworks"],
};
pub(crate) const SUBNET: Kind = Kind {
    what: "subnet",
    namespace: "Microsoft.Network",
    types: &["virtualNetworks", "subnets"],
};
pub(crate) const NIC: Kind = Kind {
    what: "port",
    namespace: "Microsoft.Network",
    types: &["networkInterfaces"],
};
pub(crate) const NSG: Kind = Kind {
    what: "security group",
    namespace: "Microsoft.Network",
    types: &["networkSecurityGroups"],
};
pub(crate) const NSG_RULE: Kind = Kind {
    what: "security group rule",
    namespace: "Microsoft.Network",
    types: &["networkSecurityGroups", "securityRules"],
};
pub(crate) const PUBLIC_IP: Kind = Kind {
    what: "floating IP",
    namespace: "Microsoft.Network",
    types: &["publicIPAddresses"],
};

/// Resolves a caller's id: a full ARM id of `kind`, or names (`name`, or
/// `parent/child` for child types) in the scope's resource group.
pub(crate) fn resolve(
    id: &str,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<ResourceId, Unresolved> {
    let id = id.trim();
    if id.starts_with('/') {
        let parsed = ResourceId::parse(id).ok_or_else(|| {
            Unresolved::Invalid(Error::invalid_input(format!(
                "{id:?} is not an Azure resource id"
            )))
        })?;
        if !parsed.is_type(kind.namespace, kind.types) {
            return Err(Unresolved::Invalid(Error::invalid_input(format!(
                "{id} is a {}, not a {} ({}/{})",
                parsed.resource_type(),
                kind.what,
                kind.namespace,
                kind.types.join("/")
            ))));
        }
        return Ok(parsed);
    }
    let names: Vec<&str> = id.split('/').collect();
    if names.len() != kind.types.len() || names.iter().any(|n| !valid_segment(n)) {
        if names.len() < kind.types.len() && names.iter().all(|n| valid_segment(n)) {
            return Err(Unresolved::Missing(Error::not_found(format!(
                "{} {id} (a {} id names its {}: /subscriptions/…/{})",
                kind.what,
                kind.what,
                kind.types[..kind.types.len() - 1].join(", "),
                kind.types.join("/{name}/")
            ))));
        }
        return Err(Unresolved::Invalid(Error::invalid_input(format!(
            "{id:?} is neither an Azure resource id nor a {} name",
            kind.what
        ))));
    }
    let chain: Vec<(&str, &str)> = kind.types.iter().copied().zip(names).collect();
    ResourceId::new(
        &scope.subscription_id,
        Some(&scope.resource_group),
        kind.namespace,
        &chain,
    )
    .map_err(Unresolved::Invalid)
}

/// As [`resolve`], as a plain error.
pub(crate) fn resolve_id(id: &str, kind: Kind, scope: &Scope) -> Result<ResourceId> {
    resolve(id, kind, scope).map_err(Unresolved::into_error)
}

/// Whether two ARM ids name the same resource (ARM ids compare without case).
pub fn same_id(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            subscription_id: "sub-1".into(),
            resource_group: "rg-1".into(),
            location: "westeurope".into(),
        }
    }

    #[test]
    fn parses_and_prints_ids() {
        let s = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1/subnets/default";
        let id = ResourceId::parse(s).unwrap();
        assert_eq!(id.to_string(), s);
        assert_eq!(id.name(), "default");
        assert_eq!(
            id.resource_type(),
            "Microsoft.Network/virtualNetworks/subnets"
        );
        assert!(id.is_type("microsoft.network", &["VIRTUALNETWORKS", "subnets"]));
        assert_eq!(
            id.parent().unwrap().to_string(),
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1"
        );
        let lower = ResourceId::parse(&s.to_lowercase()).unwrap();
        assert_eq!(lower, id);
        for bad in [
            "",
            "subscriptions/x",
            "/subscriptions/x/providers/A",
            "/subscriptions/x/resourceGroups/rg/providers/A/b",
            "/subscriptions//resourceGroups/rg/providers/A/b/c",
            "/subscriptions/x/resourceGroups/rg/providers/A/b/c?x=1",
        ] {
            assert!(ResourceId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn urls_encode_every_segment() {
        let base = Url::parse("https://management.azure.com/").unwrap();
        let id = ResourceId::new(
            "s",
            Some("my rg"),
            "Microsoft.Compute",
            &[("virtualMachines", "a%b")],
        )
        .unwrap();
        assert_eq!(
            id.url(&base).as_str(),
            "https://management.azure.com/subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Compute/virtualMachines/a%25b"
        );
        assert!(ResourceId::new(
            "s",
            Some("rg"),
            "Microsoft.Compute",
            &[("virtualMachines", "a/../b")]
        )
        .is_err());
    }

    #[test]
    fn resolves_names_and_ids() {
        let s = scope();
        let vm = resolve_id("web-1", VM, &s).unwrap();
        assert_eq!(
            vm.to_string(),
            "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/web-1"
        );
        let full =
            "/subscriptions/other/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/x";
        assert_eq!(resolve_id(full, VM, &s).unwrap().to_string(), full);
        let e = resolve_id(
            "/subscriptions/o/resourceGroups/g/providers/Microsoft.Compute/disks/d",
            VM,
            &s,
        )
        .unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::InvalidInput);
        let sn = resolve_id("vnet/default", SUBNET, &s).unwrap();
        assert_eq!(sn.name(), "default");
        let e = resolve_id("00000000-0000-4000-8000-00000000dead", SUBNET, &s).unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::NotFound);
        let e = resolve_id("a/b/c", VM, &s).unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::InvalidInput);
    }
}
