//! The portable description of a workload.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a workload needs from the network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkNeeds {
    /// A network by name; otherwise the environment's first internal network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A flat VLAN (port group, provider network) rather than an overlay.
    #[serde(default)]
    pub flat_vlan: bool,
    /// That VLAN id (implies `flat_vlan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<u32>,
    /// Security groups by name; missing ones are created when provisioning. Needs
    /// [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// A public address mapped to the server's port. Needs
    /// [`Feature::FloatingIps`](crate::Feature::FloatingIps) and
    /// [`Feature::Ports`](crate::Feature::Ports).
    #[serde(default)]
    pub public_ip: bool,
}

impl NetworkNeeds {
    /// Whether a flat VLAN is needed.
    pub fn needs_flat_vlan(&self) -> bool {
        self.flat_vlan || self.vlan_id.is_some()
    }
}

/// A portable server spec: resources, image, network needs, platform needs,
/// certifications and tags. [`Fleet::resolve`](super::Fleet::resolve) turns it into a
/// concrete flavor, image and network per environment;
/// [`Fleet::place`](super::Fleet::place) chooses the environment.
///
/// ```
/// use hybrid_core::fleet::WorkloadSpec;
///
/// let oracle = WorkloadSpec::new("oracle-db", 8, 64 * 1024)
///     .with_disk_gib(200)
///     .with_image("rhel-9-template")
///     .with_vlan(120)
///     .with_high_availability()
///     .with_certification("oracle")
///     .with_tag("production");
/// assert!(oracle.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The server's name.
    pub name: String,
    /// Virtual CPUs, at least.
    pub vcpus: u32,
    /// Memory in MiB, at least.
    pub ram_mib: u64,
    /// Root disk in GiB, at least (0: whatever the image needs).
    #[serde(default)]
    pub disk_gib: u64,
    /// An image by exact name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An operating-system family (`linux`, `windows`): any image of it will do, where
    /// `image` is not given or not present in the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// Network needs.
    #[serde(default)]
    pub network: NetworkNeeds,
    /// The platform restarts it on another host when one fails (vSphere HA).
    #[serde(default)]
    pub high_availability: bool,
    /// It moves between hosts without downtime (vMotion, live migration).
    #[serde(default)]
    pub live_migration: bool,
    /// Certifications the environment must hold (its `certified` tag), for example
    /// `oracle` or `sap`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<String>,
    /// Tags: matched by policy rules, and set on the server where the environment
    /// supports server tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl WorkloadSpec {
    /// A workload named `name` needing `vcpus` and `ram_mib` MiB of memory.
    pub fn new(name: impl Into<String>, vcpus: u32, ram_mib: u64) -> Self {
        WorkloadSpec {
            name: name.into(),
            vcpus,
            ram_mib,
            ..WorkloadSpec::default()
        }
    }

    /// Needs a root disk of at least `gib` GiB.
    pub fn with_disk_gib(mut self, gib: u64) -> Self {
        self.disk_gib = gib;
        self
    }

    /// Boots from the image named `name`.
    pub fn with_image(mut self, name: impl Into<String>) -> Self {
        self.image = Some(name.into());
        self
    }

    /// Any image of `family` will do (where the named image is not there).
    pub fn with_os_family(mut self, family: impl Into<String>) -> Self {
        self.os_family = Some(family.into());
        self
    }

    /// Connects to the network named `name`.
    pub fn with_network(mut self, name: impl Into<String>) -> Self {
        self.network.network = Some(name.into());
        self
    }

    /// Needs a flat VLAN network.
    pub fn with_flat_vlan(mut self) -> Self {
        self.network.flat_vlan = true;
        self
    }

    /// Needs the flat VLAN `id`.
    pub fn with_vlan(mut self, id: u32) -> Self {
        self.network.flat_vlan = true;
        self.network.vlan_id = Some(id);
        self
    }

    /// Needs security group `name`.
    pub fn with_security_group(mut self, name: impl Into<String>) -> Self {
        self.network.security_groups.push(name.into());
        self
    }

    /// Needs a public IP.
    pub fn with_public_ip(mut self) -> Self {
        self.network.public_ip = true;
        self
    }

    /// Needs high availability.
    pub fn with_high_availability(mut self) -> Self {
        self.high_availability = true;
        self
    }

    /// Needs live migration.
    pub fn with_live_migration(mut self) -> Self {
        self.live_migration = true;
        self
    }

    /// Needs an environment certified for `what`.
    pub fn with_certification(mut self, what: impl Into<String>) -> Self {
        self.certifications.push(what.into());
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Checks that the spec can be placed at all.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty name, no
    /// vCPU, no memory, or neither an image nor an OS family.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |m: &str| Err(Error::invalid_input(m.to_owned()).with_resource(self.name.clone()));
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input("a workload needs a name"));
        }
        if self.vcpus == 0 {
            return bad(&format!("workload {} needs at least one vCPU", self.name));
        }
        if self.ram_mib == 0 {
            return bad(&format!("workload {} needs some memory", self.name));
        }
        if self.image.is_none() && self.os_family.is_none() {
            return bad(&format!(
                "workload {} needs an image name or an OS family",
                self.name
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn validation_and_serde() {
        let w = WorkloadSpec::new("web", 2, 4096).with_os_family("linux");
        w.validate().unwrap();
        let e = WorkloadSpec::new("web", 2, 4096).validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("image name or an OS family"), "{e}");
        assert_eq!(
            WorkloadSpec::new("w", 0, 1)
                .with_image("x")
                .validate()
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        let parsed: WorkloadSpec = serde_json::from_value(serde_json::json!({
            "name": "db", "vcpus": 8, "ram_mib": 65536, "image": "rhel",
            "network": {"vlan_id": 120}, "certifications": ["oracle"]
        }))
        .unwrap();
        assert!(parsed.network.needs_flat_vlan());
        assert_eq!(parsed.certifications, ["oracle"]);
        assert!(serde_json::from_value::<WorkloadSpec>(serde_json::json!({
            "name": "db", "vcpus": 8, "ram_mib": 1, "cpus": 3
        }))
        .is_err());
    }
}
