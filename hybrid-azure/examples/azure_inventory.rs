//! Lists what one Azure resource group holds, from the `AZURE_*` variables:
//!
//! ```text
//! AZURE_TENANT_ID=… AZURE_CLIENT_ID=… AZURE_CLIENT_SECRET=… \
//! AZURE_SUBSCRIPTION_ID=… AZURE_RESOURCE_GROUP=… AZURE_LOCATION=westeurope \
//!     cargo run -p hybrid-azure --example azure_inventory
//! ```
//!
//! (a certificate, a federated token file or managed identity work too; see
//! `hybrid_azure::config`). A list that fails is reported and the others go on.

use futures::TryStreamExt;
use hybrid_core::ListOptions;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = hybrid_azure::AzureConfig::from_env()?;
    let provider = hybrid_azure::connect(config).await?;
    let info = provider.info();
    println!(
        "{} ({}), {}",
        info.name,
        info.region.as_deref().unwrap_or("?"),
        info.variant.as_deref().unwrap_or("")
    );
    for (feature, cap) in provider.capabilities().unsupported() {
        if let Some(r) = &cap.reason {
            println!("  not available: {feature}: {r}");
        }
    }

    match provider
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
    match provider
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
    match provider
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
    match provider
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
