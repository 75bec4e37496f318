//! ARM resource ids: parsing (case-insensitively, as ARM compares them) and
//! formatting.

/// A lower-cased `(resource group, name)` key of a top-level resource.
pub(crate) type Key = (String, String);

/// The key of a resource in resource group `rg` named `name`.
pub(crate) fn key(rg: &str, name: &str) -> Key {
    (rg.to_ascii_lowercase(), name.to_ascii_lowercase())
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{type_path}/{name}`.
pub(crate) fn rid(sub: &str, rg: &str, type_path: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{type_path}/{name}")
}

/// A parsed resource id below a resource group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArmId {
    pub(crate) subscription: String,
    pub(crate) resource_group: String,
    /// Lower-cased provider namespace, e.g. `microsoft.compute`.
    pub(crate) namespace: String,
    /// `(lower-cased type, name)` pairs: `[("virtualnetworks", "v"), ("subnets", "s")]`.
    pub(crate) parts: Vec<(String, String)>,
}

impl ArmId {
    /// Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]*`
    /// (the leading slash is optional, as in some ARM documents).
    pub(crate) fn parse(id: &str) -> Option<ArmId> {
        let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
        if segs.len() < 8 || segs.len() % 2 != 0 {
            return None;
        }
        if !segs[0].eq_ignore_ascii_case("subscriptions")
            || !segs[2].eq_ignore_ascii_case("resourcegroups")
            || !segs[4].eq_ignore_ascii_case("providers")
            || segs.iter().any(|s| s.is_empty())
        {
            return None;
        }
        let parts = segs[6..]
            .chunks(2)
            .map(|c| (c[0].to_ascii_lowercase(), c[1].to_owned()))
            .collect();
        Some(ArmId {
            subscription: segs[1].to_owned(),
            resource_group: segs[3].to_owned(),
            namespace: segs[5].to_ascii_lowercase(),
            parts,
        })
    }

    /// Whether this id names `namespace`/`types` (all lower case), e.g.
    /// `("microsoft.network", &["virtualnetworks", "subnets"])`.
    pub(crate) fn is(&self, namespace: &str, types: &[&str]) -> bool {
        self.namespace == namespace
            && self.parts.len() == types.len()
            && self.parts.iter().zip(types).all(|((t, _), want)| t == want)
    }

    /// The key of the top-level resource.
    pub(crate) fn key(&self) -> Key {
        key(&self.resource_group, &self.parts[0].1)
    }

    /// The name of part `i`.
    pub(crate) fn name(&self, i: usize) -> &str {
        &self.parts[i].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ids() {
        let id = ArmId::parse(
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v1/subnets/default",
        )
        .unwrap();
        assert!(id.is("microsoft.network", &["virtualnetworks", "subnets"]));
        assert_eq!(id.key(), ("rg".to_owned(), "v1".to_owned()));
        assert_eq!(id.name(1), "default");
        let no_slash =
            ArmId::parse("subscriptions/S/resourcegroups/rg/providers/microsoft.compute/disks/d")
                .unwrap();
        assert!(no_slash.is("microsoft.compute", &["disks"]));
        assert!(ArmId::parse("/subscriptions/S/resourceGroups/RG").is_none());
        assert!(ArmId::parse("/subscriptions/S/resourceGroups/RG/providers/x/y").is_none());
        assert!(ArmId::parse("/subscriptions/S/foo/RG/providers/x/y/z").is_none());
    }
}
