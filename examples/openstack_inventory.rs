//! Lists an OpenStack cloud's servers, networks, volumes and images, region by
//! region, and prints what each region can do, with the reason for every "no".
//!
//! Configure the cloud as openstacksdk users already do:
//!
//! ```sh
//! OS_CLOUD=mycloud cargo run -p hybrid-examples --example openstack_inventory
//! # or: OS_AUTH_URL=... OS_USERNAME=... OS_PASSWORD=... OS_PROJECT_NAME=... \
//! #     OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default cargo run ...
//! # or name the entry (and a clouds.yaml) on the command line:
//! cargo run -p hybrid-examples --example openstack_inventory -- mycloud path/to/clouds.yaml
//! ```
//!
//! Every region of the entry (its `regions:` list, else every region of the catalog
//! with a compute endpoint) becomes its own provider: a vSphere-backed region and a
//! KVM region of one cloud answer differently.

use futures::TryStreamExt;
use hybrid::openstack::config::ConfigLoader;
use hybrid::openstack::http::ClientOptions;
use hybrid::openstack::OpenStackProvider;
use hybrid::{Feature, ListOptions, Provider};

async fn count<T>(s: hybrid::provider::ItemStream<T>) -> String {
    match s.try_fold(0usize, |n, _| async move { Ok(n + 1) }).await {
        Ok(n) => n.to_string(),
        Err(e) => format!("({e})"),
    }
}

async fn report(p: &dyn Provider) {
    let info = p.info();
    println!(
        "== {} region {} — {}",
        info.name,
        info.region.as_deref().unwrap_or("(default)"),
        info.variant.as_deref().unwrap_or("openstack")
    );
    let caps = p.capabilities();
    let all = ListOptions::new;
    println!(
        "   servers:  {}",
        count(p.compute().list_servers(all())).await
    );
    if caps.supports(Feature::Networks) {
        println!(
            "   networks: {}",
            count(p.network().list_networks(all())).await
        );
    }
    if caps.supports(Feature::Volumes) {
        println!(
            "   volumes:  {}",
            count(p.storage().list_volumes(all())).await
        );
    }
    if caps.supports(Feature::Images) {
        println!(
            "   images:   {}",
            count(p.images().list_images(all())).await
        );
    }
    let unsupported: Vec<_> = caps.unsupported().collect();
    if unsupported.is_empty() {
        println!("   capabilities: everything hybrid covers");
    } else {
        println!("   cannot:");
        for (feature, cap) in unsupported {
            let why = cap
                .reason
                .as_ref()
                .map(|r| r.message.as_str())
                .unwrap_or("");
            println!("     - {feature}: {why}");
        }
    }
    let platform = &caps.platform;
    println!(
        "   images shareable with other environments: {}",
        if platform.image_sharing.supported {
            "yes"
        } else {
            "no"
        }
    );
    println!(
        "   object storage (Swift): {}",
        if platform.object_storage.supported {
            "yes"
        } else {
            "no"
        }
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next();
    let mut loader = ConfigLoader::new();
    if let Some(file) = args.next() {
        loader = loader.with_clouds_file(file);
    }
    let cloud = match loader.load(name.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("no OpenStack cloud configured: {e}");
            std::process::exit(2);
        }
    };
    let providers = match OpenStackProvider::connect_regions(&cloud, ClientOptions::default()).await
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot connect to {}: {e}", cloud.name);
            std::process::exit(1);
        }
    };
    for p in &providers {
        report(p.as_ref()).await;
    }
}
