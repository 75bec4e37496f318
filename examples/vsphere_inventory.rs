//! Lists a vCenter's VMs (servers, with their tags), images (VM templates and
//! content-library items), volumes (first-class disks) and networks (standard,
//! distributed or NSX), and prints what it can do, with the reason for every "no" —
//! and what the same vCenter would answer with NSX and without it.
//!
//! Configure it as govc users already do:
//!
//! ```sh
//! GOVC_URL=https://vcenter.example/sdk GOVC_USERNAME=administrator@vsphere.local \
//!   GOVC_PASSWORD=... cargo run -p hybrid-examples --example vsphere_inventory
//! # against the simulator on 127.0.0.1:8989:
//! bash testenv/vcsim.sh up && eval "$(bash testenv/vcsim.sh env)"
//! cargo run -p hybrid-examples --example vsphere_inventory
//! # or give a facade config file, {"kind": "vsphere", "url": ..., ...}:
//! cargo run -p hybrid-examples --example vsphere_inventory -- path/to/vsphere.json
//! ```
//!
//! vCenter only: a standalone ESXi host is refused before any credential is sent.

use futures::TryStreamExt;
use hybrid::model::{Image, Network, NetworkKind, Server, Volume};
use hybrid::vsphere::capabilities::{capabilities, DiscoveryFacts};
use hybrid::vsphere::VsphereProvider;
use hybrid::{Capability, Cloud, CloudConfig, ErrorKind, Feature, ListOptions, VsphereSettings};

fn reason(cap: &Capability) -> String {
    match &cap.reason {
        Some(r) => format!("[{}] {}", r.kind, r.message),
        None => String::new(),
    }
}

fn yes_no(cap: &Capability) -> String {
    if cap.supported {
        "yes".to_owned()
    } else {
        format!("no — {}", reason(cap))
    }
}

/// Standard, distributed or NSX, from the backing hybrid-vsphere tags networks with.
fn network_kind(n: &Network) -> &'static str {
    let tagged = |t: &str| n.tags.iter().any(|x| x == t);
    if tagged("vsphere:nsx-opaque-network") {
        "NSX opaque network"
    } else if tagged("vsphere:distributed-portgroup") {
        if n.kind == NetworkKind::Overlay {
            "NSX-backed distributed port group"
        } else {
            "distributed port group"
        }
    } else if tagged("vsphere:standard-portgroup") {
        "standard port group"
    } else {
        "network"
    }
}

fn settings() -> hybrid::Result<VsphereSettings> {
    match std::env::args().nth(1) {
        None => Ok(VsphereSettings::from_environment()),
        Some(path) => match CloudConfig::from_file(&path)? {
            CloudConfig::Vsphere(s) => Ok(s),
            other => Err(hybrid::Error::config(format!(
                "{path} is not a vsphere config: {other:?}"
            ))),
        },
    }
}

#[tokio::main]
async fn main() {
    let config = match settings().and_then(|s| s.resolve()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("no vCenter configured: {e}");
            std::process::exit(2);
        }
    };
    // VsphereProvider for what discovery saw; the Cloud (gated) for everything else.
    let vc = match VsphereProvider::connect(config).await {
        Ok(p) => p,
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            eprintln!("refused: {e}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot connect: {e}");
            std::process::exit(1);
        }
    };
    let d = vc.discovery();
    let cloud = Cloud::from_provider(vc.clone().into_provider());
    let info = cloud.info();
    println!(
        "== {} — {} ({}), datacenter {}",
        info.name,
        d.about,
        info.variant.as_deref().unwrap_or("vcenter"),
        info.region.as_deref().unwrap_or("?")
    );
    for (name, hosts, ha, drs) in &d.clusters {
        let flag = |b: &Option<bool>| match b {
            Some(true) => "on",
            Some(false) => "off",
            None => "?",
        };
        println!(
            "   cluster {name}: {hosts} host(s), HA {}, DRS {}",
            flag(ha),
            flag(drs)
        );
    }

    let all = ListOptions::new;
    let caps = cloud.capabilities();
    let servers: hybrid::Result<Vec<Server>> =
        cloud.compute().list_servers(all()).try_collect().await;
    match servers {
        Ok(list) => {
            println!("   servers (VMs): {}", list.len());
            for s in &list {
                let tags = if s.tags.is_empty() {
                    String::new()
                } else {
                    format!("  tags: {}", s.tags.join(", "))
                };
                println!("     {}  ({}){tags}", hybrid_examples::server_line(s), s.id);
            }
        }
        Err(e) => println!("   servers: ({e})"),
    }

    let images: hybrid::Result<Vec<Image>> = cloud.images().list_images(all()).try_collect().await;
    match images {
        Ok(list) => {
            println!(
                "   images (VM templates and content-library items): {}",
                list.len()
            );
            for i in &list {
                let kind = i
                    .properties
                    .get("vsphere.kind")
                    .map(String::as_str)
                    .unwrap_or("?");
                println!(
                    "     {:<24} {:<13} bound to {}, shareable: {}",
                    i.name,
                    kind,
                    i.locality.bound_to.as_deref().unwrap_or("?"),
                    i.locality.shareable
                );
            }
        }
        Err(e) => println!("   images: ({e})"),
    }

    let networks: hybrid::Result<Vec<Network>> =
        cloud.network().list_networks(all()).try_collect().await;
    match networks {
        Ok(list) => {
            println!("   networks: {}", list.len());
            for n in &list {
                let vlan = n
                    .segmentation_id
                    .map(|v| format!(" VLAN {v}"))
                    .unwrap_or_default();
                println!(
                    "     {:<24} {:<34} {}{vlan}",
                    n.name,
                    network_kind(n),
                    n.kind
                );
            }
        }
        Err(e) => println!("   networks: ({e})"),
    }
    if caps.supports(Feature::Volumes) {
        let volumes: hybrid::Result<Vec<Volume>> =
            cloud.storage().list_volumes(all()).try_collect().await;
        match volumes {
            Ok(list) => {
                println!("   volumes (first-class disks): {}", list.len());
                for v in &list {
                    println!(
                        "     {:<24} {} GiB on {}, {}",
                        v.name,
                        v.size_gib,
                        v.availability_zone.as_deref().unwrap_or("?"),
                        v.status
                    );
                }
            }
            Err(e) => println!("   volumes: ({e})"),
        }
    }
    println!(
        "   datastores: not listed by the core API; a template's datastore is shown above \
         and new VMs go to the configured (or first) one"
    );
    println!(
        "   vSphere Automation API: {}",
        d.automation_api
            .as_deref()
            .map(|f| format!("answers at {f}"))
            .or_else(|| d.automation_api_error.clone())
            .unwrap_or_default()
    );

    let unsupported: Vec<_> = caps.unsupported().collect();
    if unsupported.is_empty() {
        println!("   capabilities: everything hybrid covers");
    } else {
        println!("   cannot:");
        for (feature, cap) in unsupported {
            println!("     - {feature}: {}", reason(cap));
        }
    }
    let p = &caps.platform;
    println!(
        "   images shareable with other environments: {}",
        yes_no(&p.image_sharing)
    );
    println!("   object storage (Swift): {}", yes_no(&p.object_storage));
    println!("   live migration (vMotion): {}", yes_no(&p.live_migration));
    println!("   high availability: {}", yes_no(&p.high_availability));

    // The network answers of this vCenter, and of the same vCenter with NSX toggled
    // (computed from the same discovery facts).
    let mut other = DiscoveryFacts::clone(&d);
    if d.has_nsx() {
        other.nsx_opaque_networks = 0;
        other.nsx_portgroups = 0;
    } else {
        other.nsx_opaque_networks = 1;
    }
    let answers = [
        (
            if d.has_nsx() {
                "with NSX (this vCenter)"
            } else {
                "without NSX (this vCenter)"
            },
            capabilities(&d),
        ),
        (
            if d.has_nsx() {
                "without NSX (the same vCenter, NSX removed)"
            } else {
                "with NSX (the same vCenter, NSX added)"
            },
            capabilities(&other),
        ),
    ];
    for (label, c) in &answers {
        println!("   network capabilities {label}:");
        for f in [
            Feature::Networks,
            Feature::Sdn,
            Feature::Subnets,
            Feature::SecurityGroups,
            Feature::Routers,
            Feature::FloatingIps,
        ] {
            println!("     - {f}: {}", yes_no(c.get(f)));
        }
    }

    // A call that needs a missing capability fails before any request.
    let before = vc.soap_calls();
    if !caps.supports(Feature::SecurityGroups) {
        let refused = cloud
            .network()
            .list_security_groups(all())
            .try_next()
            .await
            .err();
        if let Some(e) = refused {
            println!(
                "   list_security_groups: {:?}, {} SOAP calls made for it",
                e.kind(),
                vc.soap_calls() - before
            );
        }
    }
    println!(
        "   calls in all: {} SOAP, {} vSphere Automation (REST)",
        vc.soap_calls(),
        vc.rest_calls()
    );
    if let Err(e) = vc.logout().await {
        eprintln!("logout failed: {e}");
    }
}
