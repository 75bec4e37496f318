//! The fleet: many named environments (providers or regions) used as one.
//!
//! A [`Fleet`] holds [`Environment`]s — each a provider, opened lazily on first use,
//! with roles and [`PolicyTags`] — and a [`Policy`]. It
//!
//! - lists the inventory of every environment concurrently ([`Fleet::inventory`]), as
//!   one stream of [`InventoryEvent`]s, each environment within its own deadline: one
//!   slow or failing environment ends in an [`EnvironmentReport`] naming it and its
//!   error, and the others carry on;
//! - resolves a portable [`WorkloadSpec`] to each environment's smallest fitting flavor
//!   (size, template), an image and a network, saying why ([`Fleet::resolve`]);
//! - places a workload ([`Fleet::place`]) from capability constraints, certifications
//!   and policy rules, returning a [`Placement`] that explains the choice and every
//!   rejection;
//! - provisions it ([`Fleet::provision`]): places, creates and awaits the server;
//! - says whether a workload's image is already in an environment or must be imported
//!   or converted first ([`Fleet::image_plan`]), from the images' [locality](crate::model::ImageLocality).
//!
//! The rules placement applies, in the order explanations list them:
//!
//! | rule | rejects an environment when |
//! | --- | --- |
//! | reachable | it cannot be opened, or its flavors, images, networks (and security groups, when needed) cannot be listed within its deadline |
//! | policy, in rule order | `require`: the workload matches the rule's `when` and the environment does not match the rule; `forbid`: both match |
//! | certified | the workload needs a certification the environment's `certified` tag lacks |
//! | servers | it cannot create servers ([`Feature::Servers`](crate::Feature::Servers)) |
//! | high availability | the workload needs it and [`PlatformFacts::high_availability`](crate::capabilities::PlatformFacts::high_availability) is false |
//! | live migration | the workload needs it and [`PlatformFacts::live_migration`](crate::capabilities::PlatformFacts::live_migration) is false |
//! | security groups | the workload names groups and [`Feature::SecurityGroups`](crate::Feature::SecurityGroups) is false |
//! | public IP | the workload needs one and [`Feature::FloatingIps`](crate::Feature::FloatingIps) or [`Feature::Ports`](crate::Feature::Ports) is false |
//! | size | it cannot list flavors, or no flavor has the vCPUs, memory and disk (Azure sizes the OS disk apart from the VM size, so disk is not compared there) |
//! | image | it has no images, or the image is nowhere in the fleet, or must be imported and the environment can import none |
//! | network | it cannot list networks, or the named network, the flat VLAN (with its id), or any network to attach to is missing |
//!
//! Among the environments left, the one ranked first wins: the highest sum of the
//! weights of the policy `prefer` rules it matches, then the image that is already
//! there over one to import over one to convert, then the flavor that leaves the least
//! unused (relative vCPU plus relative memory), then the order of the fleet.

mod inventory;
mod placement;
mod policy;
mod provision;
mod resolve;
mod spec;
pub(crate) mod text;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::error::{Error, ErrorKind, Result};
use crate::gate::gate;
use crate::provider::Provider;

pub use inventory::{
    EnvironmentReport, InventoryEvent, InventoryOptions, InventoryStream, Resource, ResourceCounts,
    ResourceKind,
};
pub use placement::{Candidate, Constraint, Finding, Placement, Rejection};
pub use policy::{
    EnvironmentMatch, Policy, PolicyTags, Rule, RuleEffect, WorkloadMatch, CERTIFIED_TAG,
};
pub use provision::Provisioned;
pub use resolve::{ImageAction, ImagePlan, Resolution, SecurityGroupPlan};
pub use spec::{NetworkNeeds, WorkloadSpec};

/// How long an environment may take to answer, unless it or the call says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// How long [`Fleet::provision`] waits for a server (and an imported image) by default.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(15 * 60);

type OpenFn = Box<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Provider>>> + Send + Sync>;

/// One environment of a fleet: a provider (a cloud, a region, a vCenter), its roles
/// and policy tags, and an optional deadline of its own.
///
/// The provider is opened on first use ([`Environment::provider`]), once, even when
/// many callers ask at the same time; a failed open is tried again on the next use.
pub struct Environment {
    name: String,
    roles: Vec<String>,
    tags: PolicyTags,
    deadline: Option<Duration>,
    open: OpenFn,
    provider: tokio::sync::OnceCell<Arc<dyn Provider>>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("tags", &self.tags)
            .field("deadline", &self.deadline)
            .field("provider", &self.provider.get())
            .finish()
    }
}

impl Environment {
    /// An environment over a provider that is already open (it is put behind the
    /// capability gate).
    pub fn new(name: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        let provider = gate(provider);
        let cell = tokio::sync::OnceCell::new_with(Some(provider.clone()));
        Environment {
            name: name.into(),
            roles: Vec::new(),
            tags: PolicyTags::new(),
            deadline: None,
            open: Box::new(move || {
                let p = provider.clone();
                Box::pin(async move { Ok(p) })
            }),
            provider: cell,
        }
    }

    /// An environment opened by `open` on first use (the provider it returns is put
    /// behind the capability gate).
    pub fn lazy<F, Fut>(name: impl Into<String>, open: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<dyn Provider>>> + Send + 'static,
    {
        Environment {
            name: name.into(),
            roles: Vec::new(),
            tags: PolicyTags::new(),
            deadline: None,
            open: Box::new(move || Box::pin(open())),
            provider: tokio::sync::OnceCell::new(),
        }
    }

    /// Adds a role (for example `dev-test`).
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        let role = role.into();
        if !self.roles.contains(&role) {
            self.roles.push(role);
        }
        self
    }

    /// Adds roles.
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for r in roles {
            self = self.with_role(r);
        }
        self
    }

    /// Adds `value` to policy tag `key` (for example `tier`, `production`).
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key, value);
        self
    }

    /// Merges policy tags.
    pub fn with_tags(mut self, tags: PolicyTags) -> Self {
        for (k, values) in tags.iter() {
            for v in values {
                self.tags.insert(k, v.clone());
            }
        }
        self
    }

    /// Sets this environment's own deadline for inventory and evaluation.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The environment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Its policy tags.
    pub fn tags(&self) -> &PolicyTags {
        &self.tags
    }

    /// Its own deadline, when it has one.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether the provider has been opened.
    pub fn is_open(&self) -> bool {
        self.provider.initialized()
    }

    /// The provider, opened on first use (behind the capability gate).
    ///
    /// # Errors
    /// Whatever opening fails with (`Config`, `Unauthenticated`, `Transport`, …), with
    /// the environment's name as the error's provider where the error names none.
    pub async fn provider(&self) -> Result<Arc<dyn Provider>> {
        self.provider
            .get_or_try_init(|| async {
                tracing::debug!(environment = %self.name, "opening environment");
                (self.open)().await.map(gate)
            })
            .await
            .cloned()
            .map_err(|e| self.context(e))
    }

    /// Fills the error's provider with this environment's name where it has none.
    pub(crate) fn context(&self, e: Error) -> Error {
        e.with_context_defaults(&crate::ErrorContext {
            provider: Some(self.name.clone()),
            ..Default::default()
        })
    }
}

pub(crate) struct FleetInner {
    pub(crate) environments: Vec<Arc<Environment>>,
    pub(crate) policy: Policy,
    pub(crate) deadline: Duration,
    pub(crate) operation_timeout: Duration,
}

/// Named environments used as one: inventory, resolution, placement and provisioning
/// across all of them. Cheap to clone (one `Arc`).
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> hybrid_core::Result<()> {
/// use hybrid_core::fleet::{Environment, EnvironmentMatch, Fleet, Policy, Rule, WorkloadMatch, WorkloadSpec};
/// use hybrid_core::mock::{MockProvider, Profile};
///
/// let fleet = Fleet::builder()
///     .with_environment(
///         Environment::new("vsphere-prod", MockProvider::new(Profile::Vsphere).into_provider())
///             .with_tag("tier", "production"),
///     )
///     .with_environment(
///         Environment::new("openstack-dev", MockProvider::new(Profile::OpenstackKvm).into_provider())
///             .with_role("dev-test"),
///     )
///     .with_policy(Policy::new().with_rule(
///         Rule::forbid("dev-off-production", EnvironmentMatch::tag("tier", "production"))
///             .when(WorkloadMatch::tags(["dev"])),
///     ))
///     .build()?;
/// let ci = WorkloadSpec::new("ci-runner", 2, 4096).with_image("ubuntu-22.04").with_tag("dev");
/// let placement = fleet.place(&ci).await?;
/// assert_eq!(placement.chosen().unwrap().environment, "openstack-dev");
/// println!("{placement}");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct Fleet {
    pub(crate) inner: Arc<FleetInner>,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("environments", &self.inner.environments)
            .field("policy", &self.inner.policy)
            .field("deadline", &self.inner.deadline)
            .field("operation_timeout", &self.inner.operation_timeout)
            .finish()
    }
}

/// Builds a [`Fleet`].
#[derive(Debug, Default)]
pub struct FleetBuilder {
    environments: Vec<Environment>,
    policy: Policy,
    deadline: Option<Duration>,
    operation_timeout: Option<Duration>,
}

impl FleetBuilder {
    /// An empty fleet.
    pub fn new() -> Self {
        FleetBuilder::default()
    }

    /// Adds an environment (placement breaks ties in the order environments are added).
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.environments.push(env);
        self
    }

    /// Sets the policy.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the deadline of environments that have none of their own
    /// (default [`DEFAULT_DEADLINE`]).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets how long provisioning waits for its operations (default
    /// [`DEFAULT_OPERATION_TIMEOUT`]).
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Builds the fleet. Opens nothing.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for no environment, an empty or duplicate environment
    /// name, or an invalid policy (see [`Policy::validate`]).
    pub fn build(self) -> Result<Fleet> {
        if self.environments.is_empty() {
            return Err(Error::config("a fleet needs at least one environment"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.environments {
            if e.name.trim().is_empty() {
                return Err(Error::config("an environment needs a name"));
            }
            if !seen.insert(e.name.clone()) {
                return Err(Error::config(format!(
                    "two environments are named {:?}",
                    e.name
                )));
            }
        }
        self.policy.validate()?;
        Ok(Fleet {
            inner: Arc::new(FleetInner {
                environments: self.environments.into_iter().map(Arc::new).collect(),
                policy: self.policy,
                deadline: self.deadline.unwrap_or(DEFAULT_DEADLINE),
                operation_timeout: self.operation_timeout.unwrap_or(DEFAULT_OPERATION_TIMEOUT),
            }),
        })
    }
}

impl Fleet {
    /// A builder.
    pub fn builder() -> FleetBuilder {
        FleetBuilder::new()
    }

    /// The environments, in fleet order.
    pub fn environments(&self) -> impl Iterator<Item = &Environment> {
        self.inner.environments.iter().map(|e| e.as_ref())
    }

    /// The environment named `name`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] naming the environments there are.
    pub fn environment(&self, name: &str) -> Result<&Environment> {
        self.find(name).map(|e| e.as_ref())
    }

    pub(crate) fn find(&self, name: &str) -> Result<&Arc<Environment>> {
        self.inner
            .environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.environments().map(|e| e.name()).collect();
                Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "the fleet has no environment {name:?} (it has {})",
                        names.join(", ")
                    ),
                )
                .with_resource(format!("environment {name}"))
            })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The deadline of environments without their own.
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// `env`'s deadline: its own, or the fleet's.
    pub(crate) fn deadline_of(&self, env: &Environment) -> Duration {
        env.deadline.unwrap_or(self.inner.deadline)
    }
}
