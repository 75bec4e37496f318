//! `e2e`: hybrid end to end against raw reqwest + serde, on fast fake servers on
//! 127.0.0.1, in the same run. See `benches/README.md` for the scenarios, the commands
//! and the figures.
//!
//! ```text
//! e2e [SCENARIO...]          run scenarios (default: all) and print their tables
//!     SCENARIOS: decode list create image azure vsphere fleet
//! e2e serve KIND [OPTIONS]   serve a fake until standard input closes (used by the runs)
//! e2e child TASK [OPTIONS]   run one measured client in its own process (peak RSS)
//! ```
//!
//! Sizes come from the environment so that a quick run exists:
//! `HYBRID_E2E_QUICK=1` (small sizes, 2 repetitions), or `HYBRID_E2E_SIZES`,
//! `HYBRID_E2E_LATENCIES`, `HYBRID_E2E_REPS`, `HYBRID_E2E_IMAGE_MIB`,
//! `HYBRID_E2E_CREATE`, `HYBRID_E2E_AZURE_VMS`, `HYBRID_E2E_AZURE_LATENCIES`,
//! `HYBRID_E2E_VSPHERE_VMS`, `HYBRID_E2E_VSPHERE_PAGES`, `HYBRID_E2E_FLEET_SIZE`,
//! `HYBRID_E2E_FLEET_LATENCIES`.

mod fake_arm;
mod fake_os;
mod fake_vc;
mod measure;
mod os_client;
mod procs;
mod raw_os;
mod raw_vc;
mod scen_azure;
mod scen_create;
mod scen_decode;
mod scen_fleet;
mod scen_image;
mod scen_list;
mod scen_vsphere;
mod server;

use std::process::ExitCode;

/// Settings of a run, from the environment.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) sizes: Vec<usize>,
    pub(crate) latencies_ms: Vec<u64>,
    pub(crate) reps: usize,
    pub(crate) image_mib: u64,
    pub(crate) create: usize,
    pub(crate) azure_vms: usize,
    pub(crate) azure_latencies_ms: Vec<u64>,
    /// VMs of the `vsphere` scenario's vCenter.
    pub(crate) vsphere_vms: usize,
    /// Page sizes (`maxObjects`) of the `vsphere` scenario.
    pub(crate) vsphere_pages: Vec<u32>,
    /// Servers in each environment of the `fleet` scenario.
    pub(crate) fleet_size: usize,
    pub(crate) fleet_latencies_ms: Vec<u64>,
}

impl Settings {
    pub(crate) fn from_env() -> Self {
        let quick = std::env::var("HYBRID_E2E_QUICK").is_ok_and(|v| v != "0");
        let list = |name: &str, default: &str| -> Vec<u64> {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_owned())
                .split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        };
        let one = |name: &str, default: u64| -> u64 {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Settings {
            sizes: list(
                "HYBRID_E2E_SIZES",
                if quick { "2000" } else { "10000,50000" },
            )
            .into_iter()
            .map(|n| n as usize)
            .collect(),
            latencies_ms: list("HYBRID_E2E_LATENCIES", "0,5"),
            azure_latencies_ms: list("HYBRID_E2E_AZURE_LATENCIES", "0"),
            reps: one("HYBRID_E2E_REPS", if quick { 2 } else { 5 }) as usize,
            image_mib: one("HYBRID_E2E_IMAGE_MIB", if quick { 64 } else { 1024 }),
            create: one("HYBRID_E2E_CREATE", if quick { 10 } else { 50 }) as usize,
            azure_vms: one("HYBRID_E2E_AZURE_VMS", if quick { 2000 } else { 50_000 }) as usize,
            vsphere_vms: one("HYBRID_E2E_VSPHERE_VMS", if quick { 2000 } else { 10_000 }) as usize,
            vsphere_pages: list("HYBRID_E2E_VSPHERE_PAGES", "100,1000")
                .into_iter()
                .filter(|&p| p > 0)
                .map(|p| p as u32)
                .collect(),
            fleet_size: one("HYBRID_E2E_FLEET_SIZE", if quick { 1000 } else { 10_000 }) as usize,
            fleet_latencies_ms: list("HYBRID_E2E_FLEET_LATENCIES", "0,5"),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") if args.get(1).is_some_and(|k| k == "vsphere") => {
            fake_vc::serve_main(&args[1..])
        }
        Some("serve") => procs::serve_main(&args[1..]),
        Some("child")
            if args
                .get(1)
                .is_some_and(|t| t == "list-vsphere" || t == "fleet") =>
        {
            child_main(&args[1..])
        }
        Some("child") => procs::child_main(&args[1..]),
        Some("-h" | "--help") => {
            println!("{}", include_str!("usage.txt"));
            Ok(())
        }
        _ => run_main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_main(args: &[String]) -> Result<(), String> {
    let settings = Settings::from_env();
    let all = [
        "decode", "list", "create", "image", "azure", "vsphere", "fleet",
    ];
    let chosen: Vec<&str> = if args.is_empty() {
        all.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    println!("# hybrid end-to-end run\n\nsettings: {settings:?}\n");
    let rt = runtime();
    for s in chosen {
        match s {
            "decode" => scen_decode::run(&settings)?,
            "list" => rt.block_on(scen_list::run(&settings))?,
            "create" => rt.block_on(scen_create::run(&settings))?,
            "image" => rt.block_on(scen_image::run(&settings))?,
            "azure" => rt.block_on(scen_azure::run(&settings))?,
            "vsphere" => timed("vsphere", || rt.block_on(scen_vsphere::run(&settings)))?,
            "fleet" => timed("fleet", || rt.block_on(scen_fleet::run(&settings)))?,
            other => return Err(format!("unknown scenario {other:?} (see --help)")),
        }
    }
    Ok(())
}

/// `e2e child TASK ...` for the tasks of the `vsphere` and `fleet` scenarios.
fn child_main(args: &[String]) -> Result<(), String> {
    let task = args.first().ok_or("child what?")?.clone();
    let rt = runtime();
    rt.block_on(async move {
        match task.as_str() {
            "list-vsphere" => scen_vsphere::child(args).await,
            "fleet" => scen_fleet::child(args).await,
            other => Err(format!("no child task {other:?}")),
        }
    })
}

/// Runs a scenario and prints how long it took.
fn timed(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    let r = f();
    println!(
        "(scenario {name} took {:.1} s)\n",
        t0.elapsed().as_secs_f64()
    );
    r
}
