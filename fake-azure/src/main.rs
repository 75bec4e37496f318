//! `fake-azure`: serves the Entra ID + IMDS + ARM fake on 127.0.0.1 until killed.

use std::io::Write;
use std::time::Duration;

use hybrid_fake_azure::{FakeAzure, RateLimits};

const USAGE: &str = "\
usage: fake-azure [--port N] [--servers N] [--latency-ms N] [--page-size N]
                  [--lro-polls N] [--lro-retry-after SECS] [--token-ttl-secs N]
                  [--location NAME] [--resource-group NAME] [--tenant ID]
                  [--subscription ID] [--client ID SECRET] [--arm-rate-limits]

Serves fakes of Entra ID (client credentials), IMDS (managed identity) and Azure
Resource Manager on one 127.0.0.1 port, and prints the settings a client needs as
NAME=value lines on standard output (the first is FAKE_AZURE_URL=<url>), then
serves until killed. --servers pre-populates N running VMs in the resource group;
--arm-rate-limits uses ARM's real throttling buckets (reads 250, writes and
deletes 200) instead of the generous defaults.";

fn value<T: std::str::FromStr>(args: &mut impl Iterator<Item = String>, flag: &str) -> T {
    let Some(v) = args.next() else {
        eprintln!("{flag} needs a value\n\n{USAGE}");
        std::process::exit(2);
    };
    v.parse().unwrap_or_else(|_| {
        eprintln!("invalid value {v:?} for {flag}\n\n{USAGE}");
        std::process::exit(2);
    })
}

fn main() {
    let mut builder = FakeAzure::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        builder = match arg.as_str() {
            "--port" => builder.port(value(&mut args, "--port")),
            "--servers" => builder.servers(value(&mut args, "--servers")),
            "--latency-ms" => {
                builder.latency(Duration::from_millis(value(&mut args, "--latency-ms")))
            }
            "--page-size" => builder.page_size(value(&mut args, "--page-size")),
            "--lro-polls" => builder.lro_polls(value(&mut args, "--lro-polls")),
            "--lro-retry-after" => builder.lro_retry_after(value(&mut args, "--lro-retry-after")),
            "--token-ttl-secs" => {
                builder.token_ttl(Duration::from_secs(value(&mut args, "--token-ttl-secs")))
            }
            "--location" => builder.location(value::<String>(&mut args, "--location")),
            "--resource-group" => {
                builder.resource_group(value::<String>(&mut args, "--resource-group"))
            }
            "--tenant" => builder.tenant(value::<String>(&mut args, "--tenant")),
            "--subscription" => builder.subscription(value::<String>(&mut args, "--subscription")),
            "--client" => {
                let id: String = value(&mut args, "--client");
                let secret: String = value(&mut args, "--client");
                builder.client(id, secret)
            }
            "--arm-rate-limits" => builder.rate_limits(RateLimits::arm()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                std::process::exit(2);
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let fake = match builder.start().await {
            Ok(f) => f,
            Err(e) => {
                eprintln!("cannot listen: {e}");
                std::process::exit(1);
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "FAKE_AZURE_URL={}", fake.url());
        for (k, v) in fake.env_vars() {
            let _ = writeln!(out, "{k}={v}");
        }
        let _ = writeln!(out, "AZURE_RESOURCE_GROUP={}", fake.resource_group());
        let _ = writeln!(out, "AZURE_LOCATION={}", fake.location());
        let _ = out.flush();
        drop(out);
        std::future::pending::<()>().await;
        drop(fake);
    });
}
