//! Every ARM and Entra ID response decoder and its conversion into the core model, the
//! string parsers, hybrid-http's error-body parser, `nextLink` handling and the start of
//! a long-running operation, run on one input. Used by the property tests
//! (`tests/decoders_prop.rs`) and by the cargo-fuzz target `azure_decoders` (`fuzz/`),
//! so both exercise the same list.

use std::sync::{Arc, OnceLock};

use hybrid_azure::client::{decode, ArmClient, ArmResponse};
use hybrid_azure::credential::TokenResponse;
use hybrid_azure::http::header::{HeaderMap, HeaderName, HeaderValue};
use hybrid_azure::http::pagination::{next_link, resolve_next_link, split_listing};
use hybrid_azure::http::{ClientOptions, HttpClient, Method, Url};
use hybrid_azure::ids::{ResourceId, Scope};
use hybrid_azure::lro::{is_terminal, AsyncOperationStatus, Lro};
use hybrid_azure::protocol::common::{
    name_of, provisioning_status, split_tags, ArmErrorBody, Tags,
};
use hybrid_azure::protocol::compute::{
    data_disk_ids, fingerprint, listed_server, server_from, server_status, InstanceView,
    SshPublicKeyResource, VirtualMachine, VmSize,
};
use hybrid_azure::protocol::disks::{
    snapshot_from, volume_from, volume_status, Disk, DiskSnapshot,
};
use hybrid_azure::protocol::images::{
    gallery_version_from, image_status, managed_image_from, Gallery, GalleryImage,
    GalleryImageVersion, ManagedImage,
};
use hybrid_azure::protocol::network::{
    floating_ip_from, network_from, nic_of_ip_configuration, nsg_protocol, port_from,
    security_group_from, subnet_from, vnet_of_subnet, Cidr, NetworkInterface, NetworkSecurityGroup,
    PublicIpAddress, SecurityRule, VirtualNetwork, VnetSubnet,
};
use hybrid_azure::protocol::resources::{ResourceGroup, TagsResource};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::AzureConfig;
use hybrid_core::model::RawJson;
use serde_json::Value;

/// An ARM client that never sends anything (for starting operations).
pub(crate) fn arm() -> &'static ArmClient {
    static ARM: OnceLock<ArmClient> = OnceLock::new();
    ARM.get_or_init(|| {
        #[derive(Debug)]
        struct NoAuth;
        #[hybrid_azure::http::async_trait]
        impl hybrid_azure::http::Authorizer for NoAuth {
            async fn authorize(&self) -> hybrid_core::Result<hybrid_azure::http::AuthHeader> {
                Err(hybrid_core::Error::new(
                    hybrid_core::ErrorKind::Other,
                    "no requests in this test",
                ))
            }
            async fn invalidate(&self, _generation: u64) {}
        }
        ArmClient::new(
            HttpClient::new(ClientOptions::new().with_env_proxy(false)).unwrap(),
            Arc::new(NoAuth),
            Url::parse("https://management.azure.com/").unwrap(),
            Scope {
                subscription_id: "s".into(),
                resource_group: "rg".into(),
                location: "westeurope".into(),
            },
            ThrottleOptions::disabled(),
        )
    })
}

const VM_URL: &str = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v?api-version=2024-07-01";

/// Runs the string parsers on `s`.
pub(crate) fn parse_string(s: &str) -> usize {
    let mut ok = 0;
    ok += usize::from(Cidr::parse(s).is_ok_and(|c| {
        let _ = (c.version(), c.azure_gateway(), c.contains(&c));
        true
    }));
    if let Some(id) = ResourceId::parse(s) {
        let _ = (
            id.subscription(),
            id.resource_group(),
            id.namespace(),
            id.name(),
            id.resource_type(),
            id.parent(),
            id.segments(),
            id.to_string(),
            id.url(&Url::parse("https://management.azure.com/").unwrap()),
        );
        ok += 1;
    }
    let _ = (
        vnet_of_subnet(s),
        nic_of_ip_configuration(s),
        fingerprint(s),
        nsg_protocol(Some(s)),
        server_status(Some(s), Some(s)),
        server_status(None, Some(s)),
        image_status(Some(s)),
        provisioning_status(Some(s)),
        is_terminal(s),
        name_of(s, s),
    );
    ok
}

/// Runs every decoder (and its conversion) on `c`; returns how many accepted it.
pub(crate) fn decode_one(c: &Value) -> usize {
    let mut ok = 0;
    let doc = || c.clone();
    macro_rules! attempt {
        ($t:ty, $conv:expr) => {
            if let Ok(x) = serde_json::from_value::<$t>(c.clone()) {
                #[allow(clippy::redundant_closure_call)]
                let _ = ($conv)(x);
                ok += 1;
            }
        };
    }
    attempt!(VirtualMachine, |x: VirtualMachine| (
        x.to_server(doc()),
        x.nic_ids(),
        data_disk_ids(&x)
    ));
    attempt!(InstanceView, |x: InstanceView| (
        x.power_state().map(str::to_owned),
        x.fault()
    ));
    attempt!(VmSize, |x: VmSize| x.to_flavor(doc()));
    attempt!(SshPublicKeyResource, |x: SshPublicKeyResource| x
        .to_key_pair());
    attempt!(Disk, |x: Disk| (volume_status(&x), x.to_volume(doc())));
    attempt!(DiskSnapshot, |x: DiskSnapshot| x.to_snapshot(doc()));
    attempt!(ManagedImage, |x: ManagedImage| x.to_image(doc()));
    attempt!(Gallery, |x: Gallery| x.visibility());
    attempt!(GalleryImage, |x: GalleryImage| x.name);
    attempt!(GalleryImageVersion, |x: GalleryImageVersion| {
        let gallery: Option<Gallery> = serde_json::from_value(doc()).ok();
        let definition: Option<GalleryImage> = serde_json::from_value(doc()).ok();
        x.to_image(doc(), definition.as_ref(), gallery.as_ref())
    });
    attempt!(VirtualNetwork, |x: VirtualNetwork| x.to_network(doc()));
    attempt!(VnetSubnet, |x: VnetSubnet| (
        x.prefix().map(str::to_owned),
        x.to_subnet(doc())
    ));
    attempt!(NetworkInterface, |x: NetworkInterface| (
        x.primary_config()
            .map(|p| (p.address(), p.subnet_id().map(str::to_owned))),
        x.to_port(doc())
    ));
    attempt!(NetworkSecurityGroup, |x: NetworkSecurityGroup| x
        .to_security_group(doc()));
    attempt!(SecurityRule, |x: SecurityRule| x.to_rule("/nsg"));
    attempt!(PublicIpAddress, |x: PublicIpAddress| (
        x.ip_configuration_id().map(str::to_owned),
        x.to_floating_ip(doc())
    ));
    attempt!(ResourceGroup, |x: ResourceGroup| split_tags(&x.tags));
    attempt!(TagsResource, |x: TagsResource| x.properties.tags.len());
    attempt!(Tags, |x: Tags| split_tags(&x));
    attempt!(ArmErrorBody, |x: ArmErrorBody| x.error.details.len());
    attempt!(AsyncOperationStatus, |x: AsyncOperationStatus| is_terminal(
        &x.status
    ));
    attempt!(TokenResponse, |x: TokenResponse| x.into_token());
    attempt!(AzureConfig, |x: AzureConfig| x
        .validate()
        .map(|_| x.credential_order()));
    ok += usize::from(server_from(doc()).is_ok());
    ok += usize::from(volume_from(doc()).is_ok());
    ok += usize::from(snapshot_from(doc()).is_ok());
    ok += usize::from(managed_image_from(doc()).is_ok());
    ok += usize::from(gallery_version_from(doc(), None, None).is_ok());
    ok += usize::from(network_from(doc()).is_ok());
    ok += usize::from(subnet_from(doc()).is_ok());
    ok += usize::from(port_from(doc()).is_ok());
    ok += usize::from(security_group_from(doc()).is_ok());
    ok += usize::from(floating_ip_from(doc()).is_ok());
    ok += usize::from(decode::<VirtualMachine>(c, "a virtual machine").is_ok());
    // The listing's decoder (from the text, strings borrowed) accepts exactly what
    // `VirtualMachine` accepts, into the same server.
    let owned = serde_json::from_value::<VirtualMachine>(doc())
        .ok()
        .map(|vm| vm.to_server(doc()));
    let listed = RawJson::from_text(c.to_string())
        .ok()
        .and_then(|text| listed_server(text, 0).ok())
        .map(|vm| vm.server);
    assert_eq!(owned, listed, "the listing's decoder disagrees on {c}");
    if let Some(href) = next_link(c, "value") {
        let base = Url::parse(VM_URL).unwrap();
        ok += usize::from(resolve_next_link(&base, href).is_ok());
    }
    ok
}

/// Every string of `v`, at most `limit`.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out, limit)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            if out.len() < limit {
                out.push(k);
            }
            strings(x, out, limit)
        }),
        _ => {}
    }
}

/// Starts following an operation whose first answer is `body` with `status`, and a
/// header set taken from the document's strings.
pub(crate) fn start_operation(body: &[u8], status: u16, doc: Option<&Value>) -> bool {
    let mut headers = HeaderMap::new();
    if let Some(v) = doc {
        let mut s = Vec::new();
        strings(v, &mut s, 8);
        for (name, value) in ["azure-asyncoperation", "location", "retry-after"]
            .iter()
            .zip(s)
        {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    let mut ok = false;
    for method in [Method::PUT, Method::PATCH, Method::POST, Method::DELETE] {
        let resp = ArmResponse {
            status,
            headers: headers.clone(),
            body: body.to_vec().into(),
            url: Url::parse(VM_URL).unwrap(),
            request_id: None,
        };
        let _ = (resp.value(), resp.json::<VirtualMachine>(), resp.is_empty());
        ok |= Lro::start(arm(), method, Url::parse(VM_URL).unwrap(), resp, "fuzz").is_ok();
    }
    ok
}

/// Runs every decoder on `bytes`: the raw parsers, then the document, each member of
/// it, the elements of its arrays, and a second level of both (the envelopes'
/// insides), and the string parsers on its strings.
pub(crate) fn decode_all(bytes: &[u8]) -> usize {
    let mut ok = 0;
    ok += usize::from(
        hybrid_azure::http::errors::parse_error_body(Some("application/json"), bytes).is_some(),
    );
    // A VM listing page as the provider reads it: split, each item decoded from its text.
    if let Ok(page) = split_listing(bytes, "value") {
        for item in page.items {
            ok += usize::from(listed_server(RawJson::from_raw(item), 0).is_ok());
        }
    }
    let parsed = serde_json::from_slice::<Value>(bytes).ok();
    for status in [200, 201, 202] {
        ok += usize::from(start_operation(bytes, status, parsed.as_ref()));
    }
    let Some(v) = parsed else {
        return ok;
    };
    ok += decode_one(&v);
    let children = |v: &Value| -> Vec<Value> {
        match v {
            Value::Object(m) => m.values().take(16).cloned().collect(),
            Value::Array(a) => a.iter().take(8).cloned().collect(),
            _ => Vec::new(),
        }
    };
    for inner in children(&v) {
        ok += decode_one(&inner);
        for deeper in children(&inner) {
            ok += decode_one(&deeper);
        }
    }
    let mut s = Vec::new();
    strings(&v, &mut s, 64);
    for x in s {
        ok += parse_string(x);
    }
    ok
}
