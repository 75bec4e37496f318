//! Property tests over every ARM and Entra ID response decoder: the official examples in
//! `tests/fixtures/azure/` (whole, and each response body on its own) and seeds in the
//! documented shapes of the answers the examples do not cover (Entra ID and IMDS
//! tokens, ARM and Entra errors, operation statuses, resource groups, tags, snapshots,
//! SSH keys, galleries), truncated, with bytes replaced, with leaves swapped for
//! arbitrary JSON, and arbitrary JSON documents, all fed to every decoder and its
//! conversion into the core model, to the string parsers (ids, CIDRs, states, key
//! fingerprints), to `hybrid-http`'s error-body parser, to the listing's `nextLink`
//! handling and to the start of a long-running operation. Errors are expected; a panic
//! fails the test.
//!
//! CI runs a short run (256 cases per property). The long run sets
//! `HYBRID_PROPTEST_CASES`, e.g. 250000 cases × 4 properties = 1M inputs:
//! `HYBRID_PROPTEST_CASES=250000 cargo test --release -p hybrid-azure --test decoders_prop`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hybrid_azure::credential::TokenResponse;

use proptest::prelude::*;
use serde_json::Value;

// Shared with the cargo-fuzz target `azure_decoders` (fuzz/).
#[path = "support/decoders.rs"]
mod decoders;
use decoders::decode_all;

fn cases() -> u32 {
    std::env::var("HYBRID_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Answers the official examples do not cover, in the shapes Entra ID, IMDS and ARM
/// document for them.
const SEEDS: &[&str] = &[
    // Entra ID v2.0 token endpoint.
    r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2ln"}"#,
    // IMDS (managed identity): every value a string.
    r#"{"access_token":"eyJ0eXAi.eyJhdWQi.c2ln","client_id":"7e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1","expires_in":"86399","expires_on":"1700086399","ext_expires_in":"86399","not_before":"1700000000","resource":"https://management.azure.com/","token_type":"Bearer"}"#,
    // Entra ID refusal.
    r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 0 Correlation ID: 0 Timestamp: 2024-01-01 00:00:00Z","error_codes":[7000215],"timestamp":"2024-01-01 00:00:00Z","trace_id":"0","correlation_id":"0","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#,
    // ARM error with details.
    r#"{"error":{"code":"InvalidParameter","message":"The value of parameter vmSize is invalid.","target":"vmSize","details":[{"code":"SkuNotAvailable","message":"Not here.","target":"sku"}]}}"#,
    // Operation statuses.
    r#"{"name":"6f2a","status":"Failed","startTime":"2024-01-01T00:00:00.0000000+00:00","endTime":"2024-01-01T00:01:00.0000000+00:00","error":{"code":"AllocationFailed","message":"Allocation failed."}}"#,
    r#"{"status":"InProgress","percentComplete":42.5}"#,
    r#"{"status":"Succeeded","properties":{"output":{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d","name":"d","properties":{"diskSizeGB":4,"provisioningState":"Succeeded"}}}}"#,
    // Resource group and tags.
    r#"{"id":"/subscriptions/s/resourceGroups/rg","name":"rg","type":"Microsoft.Resources/resourceGroups","location":"westeurope","tags":{"env":"prod"},"properties":{"provisioningState":"Succeeded"}}"#,
    r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v/providers/Microsoft.Resources/tags/default","name":"default","type":"Microsoft.Resources/tags","properties":{"tags":{"hybrid:tag:web":"","hybrid:key-name":"k","owner":"ops"}}}"#,
    // Snapshot, SSH key, gallery, gallery image definition.
    r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap","name":"snap","location":"westeurope","sku":{"name":"Standard_LRS","tier":"Standard"},"properties":{"creationData":{"createOption":"Copy","sourceResourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d"},"diskSizeGB":30,"provisioningState":"Succeeded","timeCreated":"2024-01-01T00:00:00Z","incremental":false}}"#,
    r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/sshPublicKeys/k","name":"k","location":"westeurope","properties":{"publicKey":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq x"}}"#,
    r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g","name":"g","location":"westeurope","properties":{"identifier":{"uniqueName":"s-g"},"sharingProfile":{"permissions":"Community"},"provisioningState":"Succeeded"}}"#,
    r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i","name":"i","location":"westeurope","properties":{"osType":"Linux","osState":"Generalized","hyperVGeneration":"V2","identifier":{"publisher":"p","offer":"o","sku":"s"},"provisioningState":"Succeeded"}}"#,
    // A listing page with a next link.
    r#"{"value":[{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a","name":"a","properties":{"provisioningState":"Succeeded"}}],"nextLink":"https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&$skiptoken=abc"}"#,
    // A configuration file.
    r#"{"subscription_id":"s1","resource_group":"rg","location":"eastus","tenant_id":"t","client_id":"c","client_secret":"x","credentials":["client_secret"],"cloud":{"authority_host":"https://login.microsoftonline.us","resource_manager":"https://management.usgovcloudapi.net"},"throttle":{"low_watermark":5,"max_delay":250},"http":{"request_timeout":"30s","retry":{"max_attempts":3}}}"#,
];

fn samples() -> &'static [Vec<u8>] {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure");
        let mut files: Vec<PathBuf> = Vec::new();
        collect(&root, &mut files);
        files.sort();
        let mut out: Vec<Vec<u8>> = Vec::new();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
        {
            let bytes = std::fs::read(f).unwrap();
            let doc: Value = serde_json::from_slice(&bytes).unwrap();
            // Each response body on its own: what ARM answers.
            if let Some(responses) = doc.get("responses").and_then(Value::as_object) {
                for r in responses.values() {
                    if let Some(b) = r.get("body") {
                        out.push(serde_json::to_vec_pretty(b).unwrap());
                    }
                }
            }
            out.push(bytes);
        }
        out.extend(SEEDS.iter().map(|s| s.as_bytes().to_vec()));
        assert!(out.len() > 80, "the samples are there ({})", out.len());
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
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9:/._ *-]{0,16}".prop_map(Value::from),
        prop_oneof![
            Just("Succeeded"),
            Just("Failed"),
            Just("Canceled"),
            Just("InProgress"),
            Just("PowerState/running"),
            Just("PowerState/"),
            Just("/"),
            Just("10.0.0.0/16"),
            Just("10.0.0.0/33"),
            Just("::/0"),
            Just("*"),
            Just("80-443"),
            Just("443-80"),
            Just("65536"),
            Just("Tcp"),
            Just("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v"),
            Just("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
            Just("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n/ipConfigurations/c"),
            Just("/subscriptions//resourceGroups//providers//"),
            Just("https://management.azure.com/x?$skiptoken=1"),
            Just("https://evil.example/x"),
            Just("ssh-rsa AAAA x"),
            Just("2024-01-01T00:00:00Z"),
            Just("18446744073709551615"),
            Just("-1"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z_:-]{1,10}",
                    prop_oneof![
                        Just("id"),
                        Just("name"),
                        Just("location"),
                        Just("tags"),
                        Just("properties"),
                        Just("provisioningState"),
                        Just("value"),
                        Just("nextLink"),
                        Just("statuses"),
                        Just("code"),
                        Just("level"),
                        Just("hardwareProfile"),
                        Just("vmSize"),
                        Just("storageProfile"),
                        Just("osDisk"),
                        Just("dataDisks"),
                        Just("lun"),
                        Just("managedDisk"),
                        Just("imageReference"),
                        Just("networkProfile"),
                        Just("networkInterfaces"),
                        Just("primary"),
                        Just("ipConfigurations"),
                        Just("privateIPAddress"),
                        Just("subnet"),
                        Just("subnets"),
                        Just("addressSpace"),
                        Just("addressPrefixes"),
                        Just("addressPrefix"),
                        Just("securityRules"),
                        Just("access"),
                        Just("direction"),
                        Just("protocol"),
                        Just("priority"),
                        Just("sourceAddressPrefix"),
                        Just("destinationPortRange"),
                        Just("diskSizeGB"),
                        Just("diskState"),
                        Just("numberOfCores"),
                        Just("memoryInMB"),
                        Just("publishingProfile"),
                        Just("targetRegions"),
                        Just("sharingProfile"),
                        Just("status"),
                        Just("percentComplete"),
                        Just("error"),
                        Just("details"),
                        Just("access_token"),
                        Just("expires_in"),
                        Just("expires_on"),
                    ]
                    .prop_map(str::to_owned),
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
fn the_samples_are_accepted_by_some_decoder() {
    // Guards the property tests against decoding nothing at all.
    let accepted = samples().iter().filter(|s| decode_all(s) > 0).count();
    assert_eq!(accepted, samples().len(), "every sample decodes somewhere");
}

#[test]
fn an_absurd_token_lifetime_is_capped_not_a_panic() {
    // Found by these properties: `expires_in` beyond the clock's range panicked.
    for body in [
        r#"{"access_token":"x","expires_in":18446744073709551615}"#,
        r#"{"access_token":"x","expires_in":9223372036854775807}"#,
        r#"{"access_token":"x","expires_on":"18446744073709551615"}"#,
    ] {
        let t: TokenResponse = serde_json::from_str(body).unwrap();
        assert!(t.into_token().expires_at().is_some());
    }
}
