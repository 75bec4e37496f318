//! Lists every server of a clouds.yaml entry through the `hybrid` crate and prints one
//! JSON line: `{"servers": N, "seconds": S, "page_size": P}`. The Rust half of
//! `scripts/bench.py`.
//!
//! ```text
//! cargo run --release -p hybrid-python --example list_servers -- CLOUDS_YAML CLOUD [PAGE_SIZE]
//! ```

use std::time::Instant;

use futures::TryStreamExt;
use hybrid::{Cloud, CloudConfig, ListOptions};

#[tokio::main]
async fn main() -> hybrid::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(clouds_yaml), Some(cloud)) = (args.next(), args.next()) else {
        eprintln!("usage: list_servers CLOUDS_YAML CLOUD [PAGE_SIZE]");
        std::process::exit(2);
    };
    let page_size: Option<u32> = match args.next() {
        Some(p) => Some(
            p.parse()
                .map_err(|_| hybrid::Error::config(format!("page size is not a number: {p:?}")))?,
        ),
        None => None,
    };
    let config = CloudConfig::from_json(
        &serde_json::json!({"kind": "openstack", "cloud": cloud, "clouds_yaml": clouds_yaml})
            .to_string(),
    )?;
    let cloud = Cloud::connect(config).await?;
    let mut options = ListOptions::new();
    options.page_size = page_size;
    let started = Instant::now();
    let n = cloud
        .compute()
        .list_servers(options)
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"servers": n, "seconds": seconds, "page_size": page_size})
    );
    Ok(())
}
