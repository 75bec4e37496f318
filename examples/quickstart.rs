//! Quickstart: hybrid on the embedded mock, no setup, no network.
//!
//! Opens two environments of a Dual-Mode estate — an OpenStack KVM region for
//! dev/test and a vCenter without NSX for the traditional workloads — prints a small
//! inventory, creates a server, and shows a capability refusal with its reason: the
//! call fails before any request is made.
//!
//! Run it with `cargo run -p hybrid-examples --example quickstart`.

use futures::TryStreamExt;
use hybrid::model::{CreateSecurityGroup, CreateServer, Image, Network};
use hybrid::{Cloud, CloudConfig, ComputeExt, ErrorKind, ListOptions};

#[tokio::main]
async fn main() -> hybrid::Result<()> {
    let openstack = Cloud::connect(CloudConfig::from_json(
        r#"{"kind": "mock", "profile": "openstack_kvm", "name": "dev-openstack", "servers": 3}"#,
    )?)
    .await?;
    let vsphere = Cloud::connect(CloudConfig::from_json(
        r#"{"kind": "mock", "profile": "vsphere", "name": "vsphere-prod", "servers": 2}"#,
    )?)
    .await?;

    for cloud in [&openstack, &vsphere] {
        let info = cloud.info();
        println!(
            "== {} ({}, {}, region {})",
            info.name,
            info.kind,
            info.variant.as_deref().unwrap_or("-"),
            info.region.as_deref().unwrap_or("-")
        );
        let nets: Vec<Network> = cloud
            .network()
            .list_networks(ListOptions::new())
            .try_collect()
            .await?;
        for n in &nets {
            println!(
                "   network {:<16} {:<8} vlan/vni {:?}",
                n.name, n.kind, n.segmentation_id
            );
        }
        let images: Vec<Image> = cloud
            .images()
            .list_images(ListOptions::new())
            .try_collect()
            .await?;
        for i in &images {
            println!(
                "   image   {:<40} bound to {:<22} shareable: {}",
                i.name,
                i.locality.bound_to.as_deref().unwrap_or("-"),
                i.locality.shareable
            );
        }
    }

    // Create a server on OpenStack: the smallest flavor with 2 vCPUs and 4 GiB.
    let c = openstack.compute();
    let flavor = c
        .smallest_flavor(2, 4096, 20)
        .await?
        .expect("a flavor that fits");
    let image = hybrid::ImagesExt::find_image(openstack.images(), "ubuntu-22.04")
        .await?
        .expect("the ubuntu image");
    let net = hybrid::NetworkExt::find_network(openstack.network(), "private")
        .await?
        .expect("the private network");
    let spec = CreateServer::new("web-1", flavor.id.clone())
        .with_image(image.id)
        .with_network(net.id)
        .with_tag("quickstart");
    let server = c
        .create_server(&spec)
        .await?
        .on_progress(|p| println!("   ... {}", p.status.as_deref().unwrap_or("pending")))
        .await?;
    println!(
        "\ncreated {} on dev-openstack (flavor {})",
        server.name, flavor.name
    );
    println!("\nservers on dev-openstack:");
    for s in c.collect_servers(ListOptions::new()).await? {
        println!("   {}", hybrid_examples::server_line(&s));
    }

    // vSphere without NSX cannot do security groups: refused before any request.
    let refused = vsphere
        .network()
        .create_security_group(&CreateSecurityGroup {
            name: "web".into(),
            description: "allow https".into(),
        })
        .await
        .expect_err("vSphere without NSX has no security groups");
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    let reason = refused.unsupported_reason().expect("a reason");
    println!(
        "\nvsphere-prod refused create_security_group ({}):\n   {}",
        reason.kind, reason.message
    );

    println!("\nwhat vsphere-prod cannot do:");
    for (feature, cap) in vsphere.capabilities().unsupported() {
        let r = cap
            .reason
            .as_ref()
            .map(|r| r.message.as_str())
            .unwrap_or("");
        println!("   {feature:<24} {r}");
    }
    Ok(())
}
