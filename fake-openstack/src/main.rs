//! `fake-openstack`: serves the OpenStack fake on 127.0.0.1 until killed.

use std::io::Write;
use std::time::Duration;

use hybrid_fake_openstack::{FakeOpenStack, RegionSpec, VSPHERE_DVS_EXTENSIONS};

const USAGE: &str = "\
usage: fake-openstack [--port N] [--servers N] [--latency-ms N]
                      [--hypervisor-type TYPE] [--region NAME] [--max-limit N]
                      [--clouds-yaml PATH] [--cloud-name NAME]
                      [--add-region NAME[=vmware]]...

Serves Keystone, Nova, Neutron, Cinder and Glance fakes on 127.0.0.1 and prints
OS_AUTH_URL=<url> on the first line of standard output. Default user admin /
secret, project admin, domain Default. Each --add-region adds a region served
under /r/NAME sharing Keystone; with =vmware its hypervisors report VMware vCenter
Server and its Neutron has the DVS plugin without NSX.";

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
    let mut builder = FakeOpenStack::builder();
    let mut clouds_yaml: Option<String> = None;
    let mut cloud_name = "fake".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => builder = builder.port(value(&mut args, "--port")),
            "--servers" => builder = builder.servers(value(&mut args, "--servers")),
            "--latency-ms" => {
                builder = builder.latency(Duration::from_millis(value(&mut args, "--latency-ms")))
            }
            "--hypervisor-type" => {
                builder = builder.hypervisor_type(value::<String>(&mut args, "--hypervisor-type"))
            }
            "--region" => builder = builder.region(value::<String>(&mut args, "--region")),
            "--max-limit" => builder = builder.max_limit(value(&mut args, "--max-limit")),
            "--add-region" => {
                let spec: String = value(&mut args, "--add-region");
                let region = match spec.split_once('=') {
                    Some((name, "vmware")) => RegionSpec::new(name)
                        .hypervisor_type("VMware vCenter Server")
                        .neutron_extensions(VSPHERE_DVS_EXTENSIONS.iter().copied()),
                    Some((_, other)) => {
                        eprintln!("unknown region kind {other:?}\n\n{USAGE}");
                        std::process::exit(2);
                    }
                    None => RegionSpec::new(spec),
                };
                builder = builder.add_region(region);
            }
            "--clouds-yaml" => clouds_yaml = Some(value(&mut args, "--clouds-yaml")),
            "--cloud-name" => cloud_name = value(&mut args, "--cloud-name"),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                std::process::exit(2);
            }
        }
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
        if let Some(path) = clouds_yaml {
            if let Err(e) = std::fs::write(&path, fake.clouds_yaml(&cloud_name)) {
                eprintln!("cannot write {path}: {e}");
                std::process::exit(1);
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "OS_AUTH_URL={}", fake.auth_url());
        let _ = writeln!(out, "OS_PROJECT_ID={}", fake.project_id());
        let _ = out.flush();
        drop(out);
        std::future::pending::<()>().await;
        drop(fake);
    });
}
