//! Lists a vCenter's VMs (servers), templates (images) and networks (standard,
//! distributed or NSX), and prints what it can do, with the reason for every "no".
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
use hybrid::model::{Image, Network, NetworkKind, Server};
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
    let servers: hybrid::Result<Vec<Server>> =
        cloud.compute().list_servers(all()).try_collect().await;
    match servers {
        Ok(list) => {
            println!("   servers (VMs): {}", list.len());
            for s in &list {
                println!("     {}  ({})", hybrid_examples::server_line(s), s.id);
            }
        }
        Err(e) => println!("   servers: ({e})"),
    }

    let images: hybrid::Result<Vec<Image>> = cloud.images().list_images(all()).try_collect().await;
    match images {
        Ok(list) => {
            println!("   images (VM templates): {}", list.len());
            for i in &list {
                println!(
                    "     {:<24} bound to {}, shareable: {}",
                    i.name,
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
    println!(
        "   datastores: not listed by the core API; a template's datastore is shown above \
         and new VMs go to the configured (or first) one"
    );

    let caps = cloud.capabilities();
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
    println!("   SOAP calls in all: {}", vc.soap_calls());
    if let Err(e) = vc.logout().await {
        eprintln!("logout failed: {e}");
    }
}
