//! `dual_mode`: an oil & gas client's Dual-Mode IT, run as one fleet.
//!
//! VMware (vCenter without NSX) is the production estate, certified for Oracle and SAP;
//! OpenStack on KVM takes dev/test and internal web applications; Azure takes the
//! public sites that need high bandwidth. The fleet, its roles, tags and policy come
//! from one YAML file ([`dual_mode.yaml`](dual_mode.yaml), embedded). The example
//!
//! 1. lists the inventory of the three environments at once, each within its own
//!    deadline (Azure's volume listing is slow today: its result is partial, the rest
//!    is not held up);
//! 2. places six workloads, with the reasons for each choice and for every rejection;
//! 3. says where each chosen image is, or what must happen to it first;
//! 4. provisions the five that can be placed (creates the servers and awaits them);
//! 5. shows a capability refusal: the SAP web dispatcher needs a security group, and
//!    the vCenter running SAP has no NSX — refused with the reason before anything is
//!    created.
//!
//! With no argument it runs on the embedded mock fleet: no setup, no network.
//!
//! ```text
//! cargo run -p hybrid-examples --example dual_mode
//! cargo run -p hybrid-examples --example dual_mode -- my-fleet.yaml              # real environments, dry run
//! cargo run -p hybrid-examples --example dual_mode -- my-fleet.yaml --provision  # and create the servers
//! ```
//!
//! A fleet file for real environments is `dual_mode.yaml` with real `kind`s (see its
//! header); against it nothing is created unless `--provision` is given.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::StreamExt;
use hybrid::fleet::{
    Fleet, FleetConfig, InventoryEvent, InventoryOptions, Placement, Resource, ResourceKind,
    WorkloadSpec,
};
use hybrid::{ErrorKind, Result};

const EMBEDDED_FLEET: &str = include_str!("dual_mode.yaml");

/// The client's workloads: five that fit somewhere, and one that fits nowhere.
fn workloads() -> Vec<(&'static str, WorkloadSpec)> {
    vec![
        (
            "Oracle database: scale-up, certified, HA and vMotion, on the production VLAN",
            WorkloadSpec::new("oracle-db-01", 8, 64 * 1024)
                .with_disk_gib(200)
                .with_image("rhel-9-template")
                .with_vlan(120)
                .with_high_availability()
                .with_live_migration()
                .with_certification("oracle")
                .with_tag("production"),
        ),
        (
            "SAP ERP application server: certified, HA",
            WorkloadSpec::new("sap-erp-01", 16, 128 * 1024)
                .with_disk_gib(300)
                .with_os_family("linux")
                .with_high_availability()
                .with_certification("sap")
                .with_tag("production"),
        ),
        (
            "public customer portal: security group, public IP, high bandwidth",
            WorkloadSpec::new("customer-portal", 2, 4096)
                .with_disk_gib(30)
                .with_image("ubuntu-22.04")
                .with_os_family("linux")
                .with_security_group("web-public")
                .with_public_ip()
                .with_tag("public")
                .with_tag("production"),
        ),
        (
            "internal wiki: an internal web application",
            WorkloadSpec::new("intranet-wiki", 2, 4096)
                .with_disk_gib(20)
                .with_image("ubuntu-22.04")
                .with_security_group("web-internal")
                .with_tag("internal"),
        ),
        (
            "CI runners for the reservoir-simulation team: dev/test",
            WorkloadSpec::new("ci-runner-01", 4, 8192)
                .with_disk_gib(40)
                .with_image("ubuntu-22.04")
                .with_tag("dev"),
        ),
        (
            "Exchange edge server: production, vMotion, behind a DMZ security group",
            WorkloadSpec::new("exchange-edge", 4, 16 * 1024)
                .with_disk_gib(100)
                .with_os_family("windows")
                .with_security_group("dmz")
                .with_live_migration()
                .with_tag("production"),
        ),
    ]
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn needs(spec: &WorkloadSpec) -> String {
    let mut n = vec![format!(
        "{} vCPU, {} GiB RAM, {} GiB disk",
        spec.vcpus,
        spec.ram_mib / 1024,
        spec.disk_gib
    )];
    if let Some(i) = &spec.image {
        n.push(format!("image {i}"));
    } else if let Some(f) = &spec.os_family {
        n.push(format!("any {f} image"));
    }
    n.extend(
        spec.certifications
            .iter()
            .map(|c| format!("{c} certification")),
    );
    if spec.high_availability {
        n.push("HA".into());
    }
    if spec.live_migration {
        n.push("live migration".into());
    }
    if let Some(v) = spec.network.vlan_id {
        n.push(format!("VLAN {v}"));
    }
    if !spec.network.security_groups.is_empty() {
        n.push(format!(
            "security groups {}",
            spec.network.security_groups.join(", ")
        ));
    }
    if spec.network.public_ip {
        n.push("public IP".into());
    }
    n.push(format!("tags {}", spec.tags.join(", ")));
    n.join("; ")
}

fn print_placement(about: &str, spec: &WorkloadSpec, p: &Placement) {
    println!("\n{} — {about}", spec.name);
    println!("   needs: {}", needs(spec));
    match p.chosen() {
        Some(c) => {
            println!("   → {}", c.environment);
            for r in &c.reasons {
                println!("       + {r}");
            }
        }
        None => println!("   → no environment can run it"),
    }
    for c in p.ranked.iter().skip(1) {
        println!(
            "     {}: eligible, ranked lower: {}",
            c.environment,
            c.ranked_lower.as_deref().unwrap_or("")
        );
    }
    for r in &p.rejected {
        println!("     {} rejected:", r.environment);
        for f in &r.findings {
            println!("       - {f}");
        }
    }
}

/// Streams an inventory; with `detail`, also each environment's opening and first
/// two servers as they arrive.
async fn inventory(fleet: &Fleet, options: InventoryOptions, detail: bool) -> Result<()> {
    let started = Instant::now();
    let mut stream = fleet.inventory(options)?;
    let mut shown: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(event) = stream.next().await {
        match event {
            InventoryEvent::Opened { environment, info } if detail => println!(
                "   {environment}: opened ({}, {}, region {})",
                info.kind,
                info.variant.as_deref().unwrap_or("-"),
                info.region.as_deref().unwrap_or("-")
            ),
            InventoryEvent::Item {
                environment,
                resource: Resource::Server(s),
            } if detail => {
                // Items stream as they arrive; show the first two servers of each.
                let n = shown.entry(environment.to_string()).or_default();
                *n += 1;
                if *n <= 2 {
                    println!("   {environment}:   {}", hybrid_examples::server_line(&s));
                }
            }
            InventoryEvent::Opened { .. } | InventoryEvent::Item { .. } => {}
            InventoryEvent::Finished(report) => {
                println!("   {report} [{:.1?}]", report.elapsed);
            }
        }
    }
    println!("   (all environments in {:.1?})", started.elapsed());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.iter().find(|a| !a.starts_with("--"));
    let (config, embedded) = match file {
        Some(path) => (FleetConfig::from_file(path)?, false),
        None => (FleetConfig::from_yaml(EMBEDDED_FLEET)?, true),
    };
    let provision = embedded || args.iter().any(|a| a == "--provision");
    let fleet = config.open()?;
    println!(
        "Fleet of {} environments{}:",
        fleet.environments().count(),
        if embedded {
            " (the embedded mock fleet, examples/dual_mode.yaml)"
        } else {
            ""
        }
    );
    for env in fleet.environments() {
        let tags: Vec<String> = env
            .tags()
            .iter()
            .map(|(k, _)| env.tags().describe(k))
            .collect();
        println!(
            "   {:<14} roles {:<28} {}",
            env.name(),
            env.roles().join(", "),
            tags.join(", ")
        );
    }

    section("1. Inventory: every environment at once, each within its own deadline");
    inventory(&fleet, InventoryOptions::new(), true).await?;

    section("2. Placement: where each workload goes, and why every other place was refused");
    let mut placed = Vec::new();
    for (about, spec) in workloads() {
        let p = fleet.place(&spec).await?;
        print_placement(about, &spec, &p);
        if let Err(e) = p.require() {
            println!("   ✗ {}: {}", e.kind(), e.message());
        }
        placed.push((spec, p));
    }

    section("3. Image locality: is the image there, or what must happen first?");
    for (spec, p) in &placed {
        if let Some(c) = p.chosen() {
            println!(
                "   {:<16} on {:<14} {}",
                spec.name, c.environment, c.resolution.image
            );
        }
    }
    // And for a workload moved elsewhere: VMware templates are never shared.
    let oracle = &placed[0].0;
    for env in fleet
        .environments()
        .map(|e| e.name().to_owned())
        .collect::<Vec<_>>()
    {
        let plan = fleet.image_plan(oracle, &env).await?;
        println!("   {} bound for {env}: {plan}", oracle.name);
    }

    section("4. Provisioning: place, create, await");
    if provision {
        for (spec, p) in &placed {
            if p.chosen().is_none() {
                continue;
            }
            match fleet.provision(spec).await {
                Ok(made) => println!("   ✓ {made}"),
                Err(e) => println!("   ✗ {}: {e}", spec.name),
            }
        }
        println!("   servers now:");
        inventory(
            &fleet,
            InventoryOptions::new().with_kinds([ResourceKind::Servers]),
            false,
        )
        .await?;
    } else {
        println!("   dry run against real environments: pass --provision to create the servers");
    }

    section("5. A capability refusal, with its reason");
    let sap_home = placed[1]
        .1
        .chosen()
        .map(|c| c.environment.clone())
        .unwrap_or_else(|| "vsphere-prod".to_owned());
    let dispatcher = WorkloadSpec::new("sap-web-dispatcher", 2, 8192)
        .with_image("rhel-9-template")
        .with_security_group("sap-dmz")
        .with_certification("sap")
        .with_tag("production");
    println!(
        "   the SAP web dispatcher must run beside SAP, on {sap_home}, behind security group sap-dmz"
    );
    let refused = if provision {
        fleet.provision_on(&dispatcher, &sap_home).await.err()
    } else {
        fleet.resolve_on(&dispatcher, &sap_home).await.err()
    };
    match refused {
        Some(e) if e.kind() == ErrorKind::Unsupported => {
            let reason = e
                .unsupported_reason()
                .expect("an Unsupported error has a reason");
            println!(
                "   refused ({}, {}), nothing was created:",
                e.kind(),
                reason.kind
            );
            println!("   {e}");
        }
        Some(e) => println!("   failed otherwise: {e}"),
        None => println!("   {sap_home} accepted it: this environment has security groups"),
    }
    Ok(())
}
