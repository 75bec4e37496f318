//! Configuration of the fake and the public knobs' types.

use std::time::Duration;

/// A virtual machine size offered by the fake (one entry of
/// `GET .../locations/{location}/vmSizes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSize {
    /// Size name, e.g. `Standard_D2s_v3`.
    pub name: String,
    /// Virtual CPUs (`numberOfCores`).
    pub cores: u32,
    /// Memory in MiB (`memoryInMB`).
    pub memory_mb: u64,
    /// Largest number of data disks (`maxDataDiskCount`).
    pub max_data_disks: u32,
    /// Temporary (resource) disk in MiB (`resourceDiskSizeInMB`).
    pub resource_disk_mb: u64,
}

impl VmSize {
    /// A size with an OS disk limit of 1 TiB, like every current Azure size.
    pub fn new(
        name: impl Into<String>,
        cores: u32,
        memory_mb: u64,
        max_data_disks: u32,
        resource_disk_mb: u64,
    ) -> VmSize {
        VmSize {
            name: name.into(),
            cores,
            memory_mb,
            max_data_disks,
            resource_disk_mb,
        }
    }

    /// A realistic default set: `Standard_B1s` (the first, used for pre-populated
    /// VMs), `Standard_B1ms`, `Standard_B2s`, `Standard_B2ms`, `Standard_D2s_v3`,
    /// `Standard_D4s_v3`, `Standard_D8s_v3`, `Standard_D2s_v5`, `Standard_D4s_v5`,
    /// `Standard_E2s_v5`, `Standard_F2s_v2`, `Standard_DS1_v2`, `Standard_D1_v2`,
    /// `Standard_A1_v2` and `Standard_A2_v2`, with their real core, memory and disk
    /// figures.
    pub fn defaults() -> Vec<VmSize> {
        vec![
            VmSize::new("Standard_B1s", 1, 1024, 2, 4096),
            VmSize::new("Standard_B1ms", 1, 2048, 2, 4096),
            VmSize::new("Standard_B2s", 2, 4096, 4, 8192),
            VmSize::new("Standard_B2ms", 2, 8192, 4, 16384),
            VmSize::new("Standard_D2s_v3", 2, 8192, 4, 16384),
            VmSize::new("Standard_D4s_v3", 4, 16384, 8, 32768),
            VmSize::new("Standard_D8s_v3", 8, 32768, 16, 65536),
            VmSize::new("Standard_D2s_v5", 2, 8192, 4, 0),
            VmSize::new("Standard_D4s_v5", 4, 16384, 8, 0),
            VmSize::new("Standard_E2s_v5", 2, 16384, 4, 0),
            VmSize::new("Standard_F2s_v2", 2, 4096, 4, 16384),
            VmSize::new("Standard_DS1_v2", 1, 3584, 4, 7168),
            VmSize::new("Standard_D1_v2", 1, 3584, 4, 51200),
            VmSize::new("Standard_A1_v2", 1, 2048, 2, 10240),
            VmSize::new("Standard_A2_v2", 2, 4096, 4, 20480),
        ]
    }
}

/// How a scripted error response tells the client to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// No retry hint.
    None,
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>`, this many seconds from now.
    HttpDate(u64),
    /// `x-ms-retry-after-ms: <milliseconds>` (no `Retry-After`).
    Millis(u64),
}

/// How a scripted fault damages an otherwise normal response
/// (see [`crate::FakeAzure::mangle_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mangle {
    /// The status and headers are sent with the full `Content-Length`, then half of
    /// the body, then the connection is closed (a reset mid-body).
    TruncateBody,
    /// A complete HTTP response whose JSON body is cut in half (malformed JSON with a
    /// matching `Content-Length`).
    MalformedJson,
    /// Half of the body is sent at once, the rest after this pause (a body that
    /// stalls).
    StallBody(Duration),
    /// The JSON body is followed by this many bytes of whitespace (still valid JSON,
    /// but oversized).
    Oversize(usize),
}

/// How the next long-running operations end (see [`crate::FakeAzure::lro_fail_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LroEnd {
    /// Status `Failed` with an error object; the resource's `provisioningState`
    /// becomes `Failed`.
    Failed,
    /// Status `Canceled` with an error object; the resource's `provisioningState`
    /// becomes `Canceled`.
    Canceled,
}

/// An ARM token bucket: `capacity` requests, refilled at `refill_per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Bucket size (the first `x-ms-ratelimit-remaining-*` value is `capacity - 1`).
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

impl RateLimit {
    /// A bucket of `capacity` tokens refilled at `refill_per_sec`.
    pub const fn new(capacity: u32, refill_per_sec: f64) -> RateLimit {
        RateLimit {
            capacity,
            refill_per_sec,
        }
    }
}

/// The three subscription buckets ARM keeps: reads (GET, HEAD), writes (PUT, PATCH,
/// POST) and deletes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Reads (`x-ms-ratelimit-remaining-subscription-reads`).
    pub reads: RateLimit,
    /// Writes (`x-ms-ratelimit-remaining-subscription-writes`).
    pub writes: RateLimit,
    /// Deletes (`x-ms-ratelimit-remaining-subscription-deletes`).
    pub deletes: RateLimit,
}

impl RateLimits {
    /// ARM's token buckets since 2024: reads 250 (+25/s), writes 200 (+10/s),
    /// deletes 200 (+10/s).
    pub const fn arm() -> RateLimits {
        RateLimits {
            reads: RateLimit::new(250, 25.0),
            writes: RateLimit::new(200, 10.0),
            deletes: RateLimit::new(200, 10.0),
        }
    }
}

impl Default for RateLimits {
    /// Generous buckets so tests and benchmarks are not throttled by accident: the
    /// classic hourly figures as bucket sizes (reads 12 000, writes and deletes
    /// 1 200) with ARM's refill rates (25/s, 10/s, 10/s).
    fn default() -> Self {
        RateLimits {
            reads: RateLimit::new(12_000, 25.0),
            writes: RateLimit::new(1_200, 10.0),
            deletes: RateLimit::new(1_200, 10.0),
        }
    }
}

/// What a scripted fault does.
#[derive(Debug, Clone)]
pub(crate) enum FaultAction {
    /// Answer this status with the service's error body.
    Status(u16, RetryAfter),
    /// Answer this status with exactly this (JSON) body.
    Respond(u16, bytes::Bytes),
    /// Close the connection without an answer.
    Drop,
    /// Delay the response.
    Stall(Duration),
    /// Damage the real response.
    Mangle(Mangle),
}

/// A scripted fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultSpec {
    pub(crate) method: Option<String>,
    /// Lower-case path prefix (ARM paths are case-insensitive).
    pub(crate) path_prefix: String,
    pub(crate) action: FaultAction,
    pub(crate) times: u32,
}

impl FaultSpec {
    pub(crate) fn new(method: &str, path_prefix: &str, action: FaultAction, times: u32) -> Self {
        FaultSpec {
            method: (method != "*" && !method.is_empty()).then(|| method.to_ascii_uppercase()),
            path_prefix: path_prefix.to_ascii_lowercase(),
            action,
            times,
        }
    }

    pub(crate) fn matches(&self, method: &str, lower_path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && lower_path.starts_with(&self.path_prefix)
    }
}

/// A service principal Entra accepts.
#[derive(Debug, Clone)]
pub(crate) struct ClientSpec {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// Everything the builder sets.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) port: u16,
    pub(crate) tenant: String,
    pub(crate) subscription: String,
    pub(crate) clients: Vec<ClientSpec>,
    pub(crate) federated_subjects: Vec<(String, String)>,
    pub(crate) managed_identity: String,
    pub(crate) resource_groups: Vec<String>,
    pub(crate) location: String,
    pub(crate) extra_locations: Vec<String>,
    pub(crate) servers: usize,
    pub(crate) page_size: usize,
    pub(crate) latency: Duration,
    pub(crate) lro_polls: u32,
    pub(crate) lro_retry_after: u64,
    pub(crate) token_ttl: Duration,
    pub(crate) rate_limits: RateLimits,
    pub(crate) vm_sizes: Vec<VmSize>,
    pub(crate) faults: Vec<FaultSpec>,
}

/// The default tenant id.
pub(crate) const DEFAULT_TENANT: &str = "5f2c7d1e-3b4a-4c6d-8e9f-0a1b2c3d4e5f";
/// The default subscription id.
pub(crate) const DEFAULT_SUBSCRIPTION: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
/// The default client (application) id.
pub(crate) const DEFAULT_CLIENT_ID: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
/// The default client secret (a test secret, shaped like an Entra one).
pub(crate) const DEFAULT_CLIENT_SECRET: &str = "fAk3~Q8vXn2Lr5Tz9Wb4Jc7Hd1Ms6Pe0Yg3Ku8Ni";
/// The default managed identity client id.
pub(crate) const DEFAULT_MANAGED_IDENTITY: &str = "7e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1";

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            tenant: DEFAULT_TENANT.into(),
            subscription: DEFAULT_SUBSCRIPTION.into(),
            clients: vec![ClientSpec {
                id: DEFAULT_CLIENT_ID.into(),
                secret: DEFAULT_CLIENT_SECRET.into(),
            }],
            federated_subjects: Vec::new(),
            managed_identity: DEFAULT_MANAGED_IDENTITY.into(),
            resource_groups: vec!["hybrid-rg".into()],
            location: "westeurope".into(),
            extra_locations: Vec::new(),
            servers: 0,
            page_size: 1000,
            latency: Duration::ZERO,
            lro_polls: 1,
            lro_retry_after: 0,
            token_ttl: Duration::from_secs(3599),
            rate_limits: RateLimits::default(),
            vm_sizes: VmSize::defaults(),
            faults: Vec::new(),
        }
    }
}
