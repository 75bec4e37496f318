//! How explanations spell sizes, networks and provider nouns.

use crate::model::{Flavor, Network, NetworkKind};
use crate::provider::ProviderKind;

/// Memory in MiB as people say it: `4 GiB`, `512 MiB`.
pub(crate) fn ram(mib: u64) -> String {
    if mib >= 1024 && mib % 1024 == 0 {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{mib} MiB")
    }
}

/// `2 vCPU, 4 GiB RAM, 20 GiB disk` (the disk only when not 0).
pub(crate) fn size(vcpus: u32, ram_mib: u64, disk_gib: u64) -> String {
    let mut s = format!("{vcpus} vCPU, {} RAM", ram(ram_mib));
    if disk_gib > 0 {
        s.push_str(&format!(", {disk_gib} GiB disk"));
    }
    s
}

/// How a flavor is named in explanations: its name, or its id where the name is a
/// phrase (vSphere sizes are often named `4 vCPU, 16 GiB`).
pub(crate) fn flavor_label(f: &Flavor) -> &str {
    if f.name.contains(char::is_whitespace) && !f.id.as_str().is_empty() {
        f.id.as_str()
    } else {
        &f.name
    }
}

/// `m1.small (1 vCPU, 2 GiB RAM, 20 GiB disk)`.
pub(crate) fn flavor(f: &Flavor) -> String {
    format!(
        "{} ({})",
        flavor_label(f),
        size(f.vcpus, f.ram_mib, f.disk_gib)
    )
}

/// What a platform calls a flavor: `flavor` on OpenStack, `size` on vSphere and Azure.
pub(crate) fn flavor_noun(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openstack => "flavor",
        _ => "size",
    }
}

/// `dvpg-prod-120 (VLAN 120)`, `private (overlay)`, `public (flat, external)`.
pub(crate) fn network(n: &Network) -> String {
    let kind = match (&n.kind, n.segmentation_id) {
        (NetworkKind::Vlan, Some(id)) => format!("VLAN {id}"),
        (k, _) => k.as_str().to_owned(),
    };
    if n.external {
        format!("{} ({kind}, external)", n.name)
    } else {
        format!("{} ({kind})", n.name)
    }
}

/// `a, b and c`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `1 flavor`, `4 sizes`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_sizes() {
        assert_eq!(ram(4096), "4 GiB");
        assert_eq!(ram(512), "512 MiB");
        assert_eq!(ram(1536), "1536 MiB");
        assert_eq!(size(2, 4096, 0), "2 vCPU, 4 GiB RAM");
        assert_eq!(size(2, 4096, 20), "2 vCPU, 4 GiB RAM, 20 GiB disk");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(count(1, "size"), "1 size");
        assert_eq!(count(3, "flavor"), "3 flavors");
    }
}
