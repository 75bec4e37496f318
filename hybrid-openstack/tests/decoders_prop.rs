//! Property tests over every OpenStack response decoder: real samples (the official
//! ones in `tests/fixtures/` and the real responses in `tests/realstack/`) truncated,
//! with bytes replaced, with leaves swapped for arbitrary JSON, and arbitrary JSON
//! documents, all fed to every decoder and its conversion into the core model.
//! Errors are expected; a panic fails the test.
//!
//! CI runs a short run (256 cases per property). The long run sets
//! `HYBRID_PROPTEST_CASES`, e.g. 250000 cases × 4 properties = 1M inputs:
//! `HYBRID_PROPTEST_CASES=250000 cargo test --release -p hybrid-openstack --test decoders_prop`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

// Shared with the cargo-fuzz target `openstack_decoders` (fuzz/).
#[path = "support/decoders.rs"]
mod decoders;
use decoders::decode_all;

fn cases() -> u32 {
    std::env::var("HYBRID_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn samples() -> &'static [Vec<u8>] {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let mut files: Vec<PathBuf> = Vec::new();
        for dir in ["fixtures", "realstack"] {
            collect(&root.join(dir), &mut files);
        }
        files.sort();
        let out: Vec<Vec<u8>> = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
            .map(|f| std::fs::read(f).unwrap())
            .collect();
        assert!(out.len() > 100, "the samples are there ({})", out.len());
        out
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9:._ -]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("ACTIVE"),
            Just("available"),
            Just("2.96"),
            Just("2026-11-24T10:00:00Z"),
            Just("not-a-date"),
            Just("-1"),
            Just("999999999999999999999"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_:-]{1,10}",
                    Just("id".to_owned()),
                    Just("name".to_owned()),
                    Just("status".to_owned()),
                    Just("size".to_owned()),
                    Just("flavor".to_owned()),
                    Just("addresses".to_owned()),
                    Just("fixed_ips".to_owned()),
                    Just("attachments".to_owned()),
                    Just("security_group_rules".to_owned()),
                    Just("version".to_owned()),
                    Just("min_version".to_owned()),
                    Just("versions".to_owned()),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `n`-th leaf (in document order) of `v` with `with`.
fn replace_leaf(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    match v {
        Value::Object(m) => m.values_mut().any(|c| replace_leaf(c, n, with)),
        Value::Array(a) => a.iter_mut().any(|c| replace_leaf(c, n, with)),
        leaf => {
            if *n == 0 {
                *leaf = with.clone();
                true
            } else {
                *n -= 1;
                false
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truncated_samples_never_panic(i in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let s = i.get(samples());
        let at = cut.index(s.len() + 1);
        decode_all(&s[..at]);
    }

    #[test]
    fn samples_with_replaced_bytes_never_panic(
        i in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut s = i.get(samples()).clone();
        for (at, b) in edits {
            let at = at.index(s.len());
            s[at] = b;
        }
        decode_all(&s);
    }

    #[test]
    fn samples_with_swapped_leaves_never_panic(
        i in any::<prop::sample::Index>(),
        swaps in prop::collection::vec((0usize..400, arb_json()), 1..4),
    ) {
        let sample: &Vec<u8> = i.get(samples());
        let Ok(mut v) = serde_json::from_slice::<Value>(sample) else {
            return Ok(());
        };
        for (n, with) in swaps {
            let mut n = n;
            replace_leaf(&mut v, &mut n, &with);
        }
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn arbitrary_documents_never_panic(v in arb_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }
}

#[test]
fn the_real_samples_are_accepted_by_some_decoder() {
    // Guards the property tests against decoding nothing at all.
    let accepted = samples().iter().filter(|s| decode_all(s) > 0).count();
    assert!(
        accepted * 10 >= samples().len() * 8,
        "{accepted} of {} samples decode",
        samples().len()
    );
}
