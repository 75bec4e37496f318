//! `azure_inventory`: what one Azure resource group holds — VMs with their power state
//! and size, virtual networks, managed disks, images — and what Azure cannot do, with
//! the reason, through the facade's `azure` feature.
//!
//! From the standard variables (a client secret here; a certificate, a federated token
//! file or managed identity work too, see `hybrid::azure::config`):
//!
//! ```text
//! AZURE_TENANT_ID=… AZURE_CLIENT_ID=… AZURE_CLIENT_SECRET=… \
//! AZURE_SUBSCRIPTION_ID=… AZURE_RESOURCE_GROUP=… AZURE_LOCATION=westeurope \
//!     cargo run -p hybrid-examples --example azure_inventory
//! ```
//!
//! Without `AZURE_SUBSCRIPTION_ID` it runs on an in-process fake of ARM and Entra ID on
//! 127.0.0.1 (no setup). A list that fails is reported and the others go on.

use futures::TryStreamExt;
use hybrid::{Cloud, CloudConfig, ListOptions};
use hybrid_fake_azure::FakeAzure;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keeps the fake (when used) running until the end.
    let mut _fake = None;
    let config = if std::env::var_os("AZURE_SUBSCRIPTION_ID").is_some() {
        // No field at all: the AZURE_* variables.
        CloudConfig::from_json(r#"{"kind": "azure"}"#)?
    } else {
        let secret = "example-only-secret";
        let fake = FakeAzure::builder()
            .client("11111111-2222-4333-8444-555555555555", secret)
            .servers(5)
            .page_size(2)
            .start()
            .await?;
        println!(
            "(no AZURE_SUBSCRIPTION_ID: an in-process fake of ARM and Entra ID at {})",
            fake.url()
        );
        let config = serde_json::json!({
            "kind": "azure",
            "name": "azure-public",
            "subscription_id": fake.subscription_id(),
            "resource_group": fake.resource_group(),
            "location": fake.location(),
            "tenant_id": fake.tenant_id(),
            "client_id": fake.client_id(),
            "client_secret": secret,
            "cloud": {"authority_host": fake.url(), "resource_manager": fake.url()},
        });
        _fake = Some(fake);
        CloudConfig::from_json(&config.to_string())?
    };
    let cloud = Cloud::connect(config).await?;
    let info = cloud.info();
    println!(
        "{} ({}), {}",
        info.name,
        info.region.as_deref().unwrap_or("?"),
        info.variant.as_deref().unwrap_or("")
    );
    for (feature, cap) in cloud.capabilities().unsupported() {
        if let Some(r) = &cap.reason {
            println!("  not available: {feature}: {r}");
        }
    }

    match cloud
        .compute()
        .list_servers(ListOptions::new())
        .try_collect::<Vec<_>>()
        .await
    {
        Ok(servers) => {
            println!("servers: {}", servers.len());
            for s in servers {
                println!(
                    "  {:<24} {:<10} {:<18} {}",
                    s.name,
                    s.status,
                    s.flavor.as_ref().map(|f| f.as_str()).unwrap_or("-"),
                    s.image.as_ref().map(|i| i.as_str()).unwrap_or("-")
                );
            }
        }
        Err(e) => println!("servers: {e}"),
    }
    match cloud
        .network()
        .list_networks(ListOptions::new())
        .try_collect::<Vec<_>>()
        .await
    {
        Ok(nets) => {
            println!("networks: {}", nets.len());
            for n in nets {
                println!("  {:<24} {} subnet(s)", n.name, n.subnets.len());
            }
        }
        Err(e) => println!("networks: {e}"),
    }
    match cloud
        .storage()
        .list_volumes(ListOptions::new())
        .try_collect::<Vec<_>>()
        .await
    {
        Ok(vols) => {
            println!("volumes: {}", vols.len());
            for v in vols {
                println!("  {:<24} {:>5} GiB {}", v.name, v.size_gib, v.status);
            }
        }
        Err(e) => println!("volumes: {e}"),
    }
    match cloud
        .images()
        .list_images(ListOptions::new())
        .try_collect::<Vec<_>>()
        .await
    {
        Ok(images) => {
            println!("images: {}", images.len());
            for i in images {
                println!(
                    "  {:<32} {:<8} {}",
                    i.name,
                    i.status,
                    i.locality.bound_to.as_deref().unwrap_or("")
                );
            }
        }
        Err(e) => println!("images: {e}"),
    }
    Ok(())
}
