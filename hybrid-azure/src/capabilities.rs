//! What Azure Resource Manager can do through hybrid, and why not where it cannot.
//!
//! Azure's answers do not depend on the deployment the way OpenStack's and vSphere's
//! do: every subscription has the same resource providers. The capabilities are
//! therefore facts of the platform and of this crate:
//!
//! | feature | Azure |
//! | --- | --- |
//! | servers, power, reboot, resize, flavors | virtual machines, their power actions, VM sizes of the location |
//! | key pairs | `Microsoft.Compute/sshPublicKeys` |
//! | server tags and metadata | ARM tags (see [`crate::protocol`]) |
//! | networks, SDN, subnets, ports | virtual networks (always overlays), subnets, network interfaces; **no** flat or VLAN networks |
//! | security groups | network security groups and their rules |
//! | routers | **never**: VNets route between their subnets by themselves |
//! | floating IPs | public IP addresses associated through a NIC's IP configuration |
//! | volumes, extend, attach, snapshots | managed disks, attached through the VM's data disks; disk snapshots |
//! | images | managed images and Azure Compute Gallery image versions (list, get, delete) |
//! | image upload, URL import, download | **not implemented**: they need Blob storage (a page-blob VHD through a SAS) |

use hybrid_core::{Capabilities, Capability, Feature};

/// Why routers are unsupported.
pub const NO_ROUTERS: &str = "Azure has no Neutron-style routers: a virtual network routes between its subnets by itself (route tables, NAT gateways and peerings are separate resources hybrid does not map)";

/// Why flat and VLAN networks are unsupported.
pub const NO_PROVIDER_NETWORKS: &str = "Azure has no flat or VLAN provider networks: every virtual network is a software-defined overlay; create an overlay network";

/// Why image upload is unsupported.
pub const NO_UPLOAD: &str = "creating an Azure image from uploaded bytes needs a page-blob VHD upload to a storage account through a SAS, then an image from the blob; hybrid does not implement Blob storage";

/// Why URL import is unsupported.
pub const NO_IMPORT_URL: &str = "Azure imports images only from VHD blobs in a storage account of the subscription, not from arbitrary URLs; hybrid does not implement Blob storage";

/// Why download is unsupported.
pub const NO_DOWNLOAD: &str = "downloading an Azure image means exporting a disk through a time-limited SAS (grant access) and reading the blob; hybrid does not implement it";

/// The capabilities of every Azure provider.
pub fn azure_capabilities() -> Capabilities {
    let mut c = Capabilities::all()
        .set(Feature::Routers, Capability::never(NO_ROUTERS))
        .set(Feature::ImageUpload, Capability::not_implemented(NO_UPLOAD))
        .set(
            Feature::ImageImportUrl,
            Capability::not_implemented(NO_IMPORT_URL),
        )
        .set(
            Feature::ImageDownload,
            Capability::not_implemented(NO_DOWNLOAD),
        );
    c.platform.object_storage = Capability::yes();
    c.platform.image_sharing = Capability::yes();
    c.platform.live_migration = Capability::yes();
    c.platform.high_availability = Capability::yes();
    c.platform.shared_storage = Capability::yes();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ReasonKind;

    #[test]
    fn every_gap_has_a_reason() {
        let c = azure_capabilities();
        let gaps: Vec<_> = c.unsupported().map(|(f, _)| f).collect();
        assert_eq!(
            gaps,
            vec![
                Feature::Routers,
                Feature::ImageUpload,
                Feature::ImageImportUrl,
                Feature::ImageDownload
            ]
        );
        for (_, cap) in c.unsupported() {
            assert!(!cap.reason.as_ref().unwrap().message.is_empty());
        }
        assert_eq!(
            c.get(Feature::Routers).reason.as_ref().unwrap().kind,
            ReasonKind::PlatformNever
        );
        assert!(
            c.supports(Feature::Sdn)
                && c.supports(Feature::SecurityGroups)
                && c.supports(Feature::FloatingIps)
        );
    }
}
