//! `two_regions`: OpenStack as the single control plane of a Dual-Mode estate. One
//! `clouds.yaml` entry names two regions: a KVM region for dev/test and cloud-native
//! work, and a vSphere-backed region where Nova drives vCenter (its hypervisors report
//! "VMware vCenter Server", Neutron has the DVS plugin and no NSX). hybrid connects to
//! both with one token, tells what each region can do before any call, and the same
//! call succeeds in one region and is refused, with its reason, in the other.
//!
//! With no arguments it runs on an in-process fake of the OpenStack APIs with those two
//! regions (no setup). Against a real cloud:
//!
//! ```text
//! cargo run -p hybrid-examples --example two_regions -- CLOUD [CLOUDS_YAML]
//! ```
//!
//! where CLOUD is a clouds.yaml entry with a `regions:` list (or whose catalog has
//! several regions).

use std::path::PathBuf;
use std::sync::Arc;

use hybrid::model::CreateSecurityGroup;
use hybrid::openstack::config::ConfigLoader;
use hybrid::openstack::http::ClientOptions;
use hybrid::openstack::OpenStackProvider;
use hybrid::{Feature, ListOptions, Provider};
use hybrid_fake_openstack::{FakeOpenStack, RegionSpec, VSPHERE_DVS_EXTENSIONS};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Keeps the fake (when used) running until the end.
    let mut _fake = None;
    let (cloud_name, file) = match args.first() {
        Some(cloud) => (cloud.clone(), args.get(1).map(PathBuf::from)),
        None => {
            let fake = FakeOpenStack::builder()
                .region("kvm-devtest")
                .servers(4)
                .add_region(
                    RegionSpec::new("vmware-prod")
                        .hypervisor_type("VMware vCenter Server")
                        .neutron_extensions(VSPHERE_DVS_EXTENSIONS.iter().copied())
                        .servers(2),
                )
                .start()
                .await?;
            let dir =
                std::env::temp_dir().join(format!("hybrid-two-regions-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("clouds.yaml");
            std::fs::write(&path, fake.clouds_yaml("estate"))?;
            println!(
                "(no cloud given: an in-process fake OpenStack with two regions at {})",
                fake.url()
            );
            _fake = Some(fake);
            ("estate".to_owned(), Some(path))
        }
    };
    let mut loader = ConfigLoader::new();
    if let Some(f) = &file {
        loader = loader.with_clouds_file(f);
    }
    let cloud = loader.load(Some(&cloud_name))?;
    let regions = OpenStackProvider::connect_regions(&cloud, ClientOptions::default()).await?;
    println!(
        "cloud {cloud_name}: {} regions behind one Keystone\n",
        regions.len()
    );

    println!(
        "{:<14} {:<9} {:<16} {:<9} {:<13} reason when not",
        "region", "servers", "security groups", "SDN", "image sharing"
    );
    for p in &regions {
        let caps = p.capabilities();
        let servers = p
            .compute()
            .list_servers_page(&ListOptions::new(), None)
            .await
            .map(|page| page.items.len().to_string())
            .unwrap_or_else(|e| format!("error: {e}"));
        let yes = |b: bool| if b { "yes" } else { "no" };
        let why = caps
            .get(Feature::SecurityGroups)
            .reason
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default();
        println!(
            "{:<14} {:<9} {:<16} {:<9} {:<13} {}",
            region_of(p),
            servers,
            yes(caps.supports(Feature::SecurityGroups)),
            yes(caps.supports(Feature::Sdn)),
            yes(caps.platform.image_sharing.supported),
            why
        );
    }

    println!("\nThe same call in every region: create security group \"web-tier\"");
    let spec = CreateSecurityGroup {
        name: "web-tier".into(),
        description: "created by the two_regions example".into(),
    };
    for p in &regions {
        match p.network().create_security_group(&spec).await {
            Ok(op) => {
                let group = op.wait().await?;
                println!(
                    "  {:<14} created {} ({})",
                    region_of(p),
                    group.name,
                    group.id
                );
                p.network()
                    .delete_security_group(&group.id)
                    .await?
                    .wait()
                    .await?;
                println!("  {:<14} deleted it again", "");
            }
            Err(e) => match e.unsupported_reason() {
                Some(reason) => println!(
                    "  {:<14} refused before any request: {reason}",
                    region_of(p)
                ),
                None => println!("  {:<14} failed: {e}", region_of(p)),
            },
        }
    }
    Ok(())
}

fn region_of(p: &Arc<dyn Provider>) -> String {
    p.info().region.unwrap_or_else(|| "(default)".into())
}
