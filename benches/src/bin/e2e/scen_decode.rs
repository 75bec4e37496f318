//! Scenario `decode`: where a listed server's CPU goes, on one page of 1000 servers as
//! the fake serves it, in this process and without I/O: the baseline's typed decoding,
//! parsing into a `serde_json::Value`, the baseline keeping each document, and hybrid's
//! conversion before (a `Value` per server, kept as `raw`) and now (each server's JSON
//! text, decoded once and kept as `raw`). Everything decoded is dropped inside the timed code.

use std::hint::black_box;
use std::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use hybrid_core::model::RawJson;

use hybrid_openstack::protocol::nova::NovaServerRef;

use crate::fake_os::page_body;
use crate::measure::median;
use crate::raw_os::{RawServerRef, ServerList};

#[derive(Deserialize)]
struct DocList {
    servers: Vec<Value>,
}

#[derive(Deserialize)]
struct TextList<'a> {
    #[serde(borrow)]
    servers: Vec<&'a RawValue>,
}

/// Median ns per server of each variant, the variants run in turn in every round so
/// that a change of load on the machine hits them alike.
fn per_server_ns(rounds: usize, n: usize, variants: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    for f in variants.iter_mut() {
        f(); // warm up
    }
    let mut xs = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, f) in variants.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            xs[i].push(t.elapsed().as_secs_f64() * 1e9 / n as f64);
        }
    }
    xs.iter().map(|x| median(x)).collect()
}

pub(crate) fn run(settings: &crate::Settings) -> Result<(), String> {
    let n = 1000;
    let body = page_body(n);
    let reps = settings.reps.max(5) * 4;
    let mut typed = || {
        let l: ServerList = serde_json::from_slice(&body).expect("decodes");
        black_box(l.servers.len());
    };
    let mut value = || {
        let v: Value = serde_json::from_slice(&body).expect("decodes");
        black_box(&v);
    };
    let mut raw_doc = || {
        let l: DocList = serde_json::from_slice(&body).expect("decodes");
        for v in &l.servers {
            let s = RawServerRef::deserialize(v).expect("decodes");
            black_box(&s);
        }
    };
    let mut before = || {
        let l: DocList = serde_json::from_slice(&body).expect("decodes");
        let servers: Vec<_> = l
            .servers
            .into_iter()
            .map(|v| {
                let s = NovaServerRef::deserialize(&v)
                    .expect("decodes")
                    .into_core(None);
                (s, v)
            })
            .collect();
        black_box(&servers);
    };
    let mut now = || {
        let l: TextList<'_> = serde_json::from_slice(&body).expect("decodes");
        let servers: Vec<_> = l
            .servers
            .into_iter()
            .map(|t| {
                let doc = RawJson::from_raw(t);
                let ns: NovaServerRef<'_> = doc.deserialize().expect("decodes");
                let s = ns.into_core(None);
                (s, doc)
            })
            .collect();
        black_box(&servers);
    };
    let r = per_server_ns(
        reps,
        n,
        &mut [&mut typed, &mut value, &mut raw_doc, &mut before, &mut now],
    );
    let (typed, value, raw_doc, hybrid, hybrid_ref) = (r[0], r[1], r[2], r[3], r[4]);
    println!(
        "## decode: one page of {n} servers ({} bytes), ns per server (median of {reps})\n",
        body.len()
    );
    println!("| what | ns per server | ÷ typed |");
    println!("| --- | --- | --- |");
    for (what, ns) in [
        ("raw: typed structs from the bytes", typed),
        ("parse into `serde_json::Value` (and drop)", value),
        (
            "raw + doc: `Value` per server, fields borrowed from it",
            raw_doc,
        ),
        (
            "hybrid before: `Value` per server → `NovaServerRef` (borrowing) → `Server` (keeps the `Value`)",
            hybrid,
        ),
        (
            "hybrid now: JSON text per server → `NovaServerRef` → `Server` (keeps the text)",
            hybrid_ref,
        ),
    ] {
        println!("| {what} | {ns:.0} | {:.2} |", ns / typed);
    }
    println!();
    Ok(())
}
