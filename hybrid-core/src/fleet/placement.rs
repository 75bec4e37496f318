//! Placement: the rules, the ranking, and the decision with its explanation.

use std::fmt;

use crate::capabilities::{Capability, Feature, Reason, ReasonKind};
use crate::error::{Error, ErrorKind, Result};
use crate::model::NetworkId;

use super::resolve::{fit_flavor, pick_network, plan_groups, plan_image, Snapshots};
use super::{
    text, Environment, Fleet, ImageAction, Resolution, RuleEffect, WorkloadSpec, CERTIFIED_TAG,
};

/// The rule a [`Finding`] comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// The environment could be opened and listed within its deadline.
    Reachable,
    /// A policy rule, by name.
    Policy(String),
    /// The environment's `certified` tag holds the workload's certifications.
    Certified,
    /// The environment can create servers.
    Servers,
    /// The platform restarts servers of a failed host.
    HighAvailability,
    /// The platform moves servers between hosts without downtime.
    LiveMigration,
    /// The environment has security groups.
    SecurityGroups,
    /// The environment can map a public IP to a server's port.
    PublicIp,
    /// A flavor fits the workload.
    Size,
    /// The image is there or can be brought there.
    Image,
    /// The network the workload needs is there.
    Network,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Reachable => f.write_str("reachable"),
            Constraint::Policy(name) => write!(f, "policy {name:?}"),
            Constraint::Certified => f.write_str("certified"),
            Constraint::Servers => f.write_str("servers"),
            Constraint::HighAvailability => f.write_str("high availability"),
            Constraint::LiveMigration => f.write_str("live migration"),
            Constraint::SecurityGroups => f.write_str("security groups"),
            Constraint::PublicIp => f.write_str("public IP"),
            Constraint::Size => f.write_str("size"),
            Constraint::Image => f.write_str("image"),
            Constraint::Network => f.write_str("network"),
        }
    }
}

/// Why an environment cannot take a workload: one broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub constraint: Constraint,
    /// A sentence, for example `needs security groups (web): security groups need
    /// the NSX distributed firewall: …`.
    pub message: String,
    /// The capability's reason, when a capability is missing.
    pub reason: Option<Reason>,
    /// The error's kind, when the environment could not be reached.
    pub error_kind: Option<ErrorKind>,
}

impl Finding {
    pub(crate) fn new(constraint: Constraint, message: impl Into<String>) -> Self {
        Finding {
            constraint,
            message: message.into(),
            reason: None,
            error_kind: None,
        }
    }

    /// `{what}: {reason}` from an `Unsupported` error.
    pub(crate) fn capability(constraint: Constraint, what: String, e: &Error) -> Self {
        match e.unsupported_reason() {
            Some(r) => Finding {
                constraint,
                message: format!("{what}: {}", r.message),
                reason: Some(r.clone()),
                error_kind: None,
            },
            None => Finding::new(constraint, format!("{what}: {e}")),
        }
    }

    fn platform(constraint: Constraint, what: &str, cap: &Capability) -> Self {
        let reason = cap.reason.clone().unwrap_or_else(|| {
            Reason::new(ReasonKind::NotImplemented, "the provider gave no reason")
        });
        Finding {
            constraint,
            message: format!("{what}: {}", reason.message),
            reason: Some(reason),
            error_kind: None,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An environment that cannot take the workload, with every rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The environment.
    pub environment: String,
    /// The broken rules, in rule order.
    pub findings: Vec<Finding>,
}

impl Rejection {
    /// The findings joined by `; `.
    pub fn explanation(&self) -> String {
        self.findings
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether it was rejected only because it could not be reached.
    pub fn is_unreachable(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.constraint == Constraint::Reachable)
    }

    /// The error a call pinned to this environment fails with: the reachability
    /// error's kind when it could not be reached, else [`ErrorKind::Unsupported`] with
    /// a reason whose message is the explanation and whose kind is the first missing
    /// capability's (deployment dependent when no capability is missing).
    pub fn to_error(&self, workload: &str, operation: &str) -> Error {
        let e = if self.is_unreachable() {
            let kind = self
                .findings
                .iter()
                .find_map(|f| f.error_kind)
                .unwrap_or(ErrorKind::Unavailable);
            Error::new(kind, self.explanation())
        } else {
            let kind = self
                .findings
                .iter()
                .find_map(|f| f.reason.as_ref().map(|r| r.kind))
                .unwrap_or(ReasonKind::DeploymentDependent);
            Error::unsupported(Reason::new(kind, self.explanation()))
        };
        e.with_provider(self.environment.clone())
            .with_operation(operation.to_owned())
            .with_resource(workload.to_owned())
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rejected: {}", self.environment, self.explanation())
    }
}

/// An environment that can take the workload: its resolution, its policy score and
/// the reasons it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The environment.
    pub environment: String,
    /// The flavor, image, network and the rest.
    pub resolution: Resolution,
    /// The sum of the weights of the `prefer` rules it matches.
    pub score: i64,
    /// Those rules, by name.
    pub preferred_by: Vec<String>,
    /// Why it fits: policy, certifications, platform needs, then the resolution's
    /// reasons.
    pub reasons: Vec<String>,
    /// For an environment that was not chosen, why it ranked lower.
    pub ranked_lower: Option<String>,
    pub(crate) index: usize,
    pub(crate) spare: u64,
}

impl Candidate {
    /// The reasons joined by `; `.
    pub fn explanation(&self) -> String {
        self.reasons.join("; ")
    }

    fn rank_key(&self) -> (i64, ImageAction, u64, usize) {
        (
            -self.score,
            self.resolution.image.action,
            self.spare,
            self.index,
        )
    }
}

/// Where a workload goes, and why: the chosen environment with its reasons, the
/// other eligible ones with why they ranked lower, and every rejected one with the
/// rules it breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The workload's name.
    pub workload: String,
    /// The eligible environments, best first: the first is the choice.
    pub ranked: Vec<Candidate>,
    /// The rejected environments, in fleet order.
    pub rejected: Vec<Rejection>,
    order: Vec<String>,
}

impl Placement {
    /// The chosen environment, when one is eligible.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.ranked.first()
    }

    /// The chosen environment.
    ///
    /// # Errors
    /// When none is eligible: [`ErrorKind::Unavailable`] if every environment was
    /// rejected only because it could not be reached, else [`ErrorKind::Unsupported`]
    /// with a reason listing every rejection (platform never when every finding is a
    /// platform limit, else deployment dependent).
    pub fn require(&self) -> Result<&Candidate> {
        if let Some(c) = self.chosen() {
            return Ok(c);
        }
        let why = self
            .rejected
            .iter()
            .map(|r| format!("{}: {}", r.environment, r.explanation()))
            .collect::<Vec<_>>()
            .join("; ");
        let message = format!("no environment can run {}: {why}", self.workload);
        let e = if self.rejected.iter().all(Rejection::is_unreachable) {
            Error::new(ErrorKind::Unavailable, message)
        } else {
            let never = self.rejected.iter().flat_map(|r| &r.findings).all(|f| {
                f.reason
                    .as_ref()
                    .is_some_and(|r| r.kind == ReasonKind::PlatformNever)
            });
            let kind = if never {
                ReasonKind::PlatformNever
            } else {
                ReasonKind::DeploymentDependent
            };
            Error::unsupported(Reason::new(kind, message))
        };
        Err(e
            .with_operation("place")
            .with_resource(self.workload.clone()))
    }

    /// The eligible environment `name`.
    pub fn candidate(&self, name: &str) -> Option<&Candidate> {
        self.ranked.iter().find(|c| c.environment == name)
    }

    /// The rejection of environment `name`.
    pub fn rejection(&self, name: &str) -> Option<&Rejection> {
        self.rejected.iter().find(|r| r.environment == name)
    }

    /// The decision in words: a first line `workload → environment: reasons` (or `→
    /// no environment`), then one indented line per other environment, in fleet
    /// order: `name: eligible, ranked lower: why` or `name: rejected: findings`.
    pub fn explanation(&self) -> String {
        let mut out = match self.chosen() {
            Some(c) => format!("{} → {}: {}", self.workload, c.environment, c.explanation()),
            None => format!("{} → no environment", self.workload),
        };
        for name in &self.order {
            if self.chosen().is_some_and(|c| &c.environment == name) {
                continue;
            }
            if let Some(c) = self.candidate(name) {
                out.push_str(&format!(
                    "\n  {name}: eligible, ranked lower: {}",
                    c.ranked_lower.as_deref().unwrap_or("")
                ));
            } else if let Some(r) = self.rejection(name) {
                out.push_str(&format!("\n  {name}: rejected: {}", r.explanation()));
            }
        }
        out
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation())
    }
}

/// Whether to apply the policy and certification rules, or only the technical ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Everything,
    Technical,
}

fn quoted(names: &[String]) -> String {
    text::and_list(&names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>())
}

/// Evaluates environment `index` of `all` for `spec`.
pub(crate) fn evaluate(
    fleet: &Fleet,
    spec: &WorkloadSpec,
    index: usize,
    all: &Snapshots,
    scope: Scope,
) -> std::result::Result<Candidate, Rejection> {
    let (env, snap) = &all[index];
    let reject = |findings| Rejection {
        environment: env.name().to_owned(),
        findings,
    };
    let snap = match snap {
        Ok(s) => s,
        Err(e) => {
            return Err(reject(vec![Finding {
                constraint: Constraint::Reachable,
                message: format!("could not be evaluated: {e}"),
                reason: None,
                error_kind: Some(e.kind()),
            }]))
        }
    };
    let mut findings = Vec::new();
    let mut reasons = Vec::new();
    let mut score = 0i64;
    let mut preferred_by = Vec::new();
    if scope == Scope::Everything {
        policy_rules(
            fleet,
            spec,
            env,
            &mut findings,
            &mut reasons,
            &mut score,
            &mut preferred_by,
        );
        certification(spec, env, &mut findings, &mut reasons);
    }
    let caps = &snap.caps;
    if let Err(e) = caps.require(Feature::Servers) {
        findings.push(Finding::capability(
            Constraint::Servers,
            "cannot create servers".into(),
            &e,
        ));
    }
    if spec.high_availability {
        let cap = &caps.platform.high_availability;
        if cap.supported {
            reasons.push("offers high availability".to_owned());
        } else {
            findings.push(Finding::platform(
                Constraint::HighAvailability,
                "needs high availability",
                cap,
            ));
        }
    }
    if spec.live_migration {
        let cap = &caps.platform.live_migration;
        if cap.supported {
            reasons.push("offers live migration".to_owned());
        } else {
            findings.push(Finding::platform(
                Constraint::LiveMigration,
                "needs live migration",
                cap,
            ));
        }
    }
    let groups = &spec.network.security_groups;
    if !groups.is_empty() {
        if let Err(e) = caps.require(Feature::SecurityGroups) {
            findings.push(Finding::capability(
                Constraint::SecurityGroups,
                format!("needs security groups ({})", groups.join(", ")),
                &e,
            ));
        }
    }
    if spec.network.public_ip {
        if let Err(e) = caps.require(Feature::FloatingIps) {
            findings.push(Finding::capability(
                Constraint::PublicIp,
                "needs a public IP".into(),
                &e,
            ));
        } else if let Err(e) = caps.require(Feature::Ports) {
            findings.push(Finding::capability(
                Constraint::PublicIp,
                "needs a port to map its public IP to".into(),
                &e,
            ));
        }
    }
    let flavor = fit_flavor(spec, snap).map_err(|f| findings.push(f)).ok();
    let image = plan_image(spec, index, all);
    if image.action == ImageAction::Unavailable {
        findings.push(Finding::new(Constraint::Image, image.explanation.clone()));
    }
    let network = pick_network(spec, snap).map_err(|f| findings.push(f)).ok();
    if !findings.is_empty() {
        return Err(reject(findings));
    }
    let (Some((flavor, flavor_why)), Some((network, network_why))) = (flavor, network) else {
        // Unreachable: a missing flavor or network always adds a finding.
        return Err(reject(vec![Finding::new(
            Constraint::Size,
            "could not be resolved",
        )]));
    };
    let mut why = vec![flavor_why, image.explanation.clone(), network_why];
    let (security_groups, groups_why) = plan_groups(spec, snap);
    why.extend(groups_why);
    let external_network: Option<NetworkId> = snap
        .networks
        .iter()
        .find(|n| n.external)
        .map(|n| n.id.clone());
    if spec.network.public_ip {
        why.push(match snap.networks.iter().find(|n| n.external) {
            Some(n) => format!("a public IP from {} will be mapped to its port", n.name),
            None => "a public IP will be mapped to its port".to_owned(),
        });
    }
    let spare = ((flavor.vcpus - spec.vcpus) as u64 * 1000) / spec.vcpus as u64
        + (flavor.ram_mib.saturating_sub(spec.ram_mib) * 1000) / spec.ram_mib;
    reasons.extend(why.iter().cloned());
    Ok(Candidate {
        environment: env.name().to_owned(),
        resolution: Resolution {
            environment: env.name().to_owned(),
            provider: snap.info.clone(),
            flavor,
            image,
            network,
            security_groups,
            public_ip: spec.network.public_ip,
            external_network,
            reasons: why,
        },
        score,
        preferred_by,
        reasons,
        ranked_lower: None,
        index,
        spare,
    })
}

fn policy_rules(
    fleet: &Fleet,
    spec: &WorkloadSpec,
    env: &Environment,
    findings: &mut Vec<Finding>,
    reasons: &mut Vec<String>,
    score: &mut i64,
    preferred_by: &mut Vec<String>,
) {
    for rule in &fleet.inner.policy.rules {
        if !rule.when.matches(spec) {
            continue;
        }
        // Validated when the fleet was built.
        let Ok((effect, m)) = rule.effect() else {
            continue;
        };
        let hit = m.matches(env.roles(), env.tags());
        let wants = m.describe();
        let has = m.describe_actual(env.roles(), env.tags());
        let name = &rule.name;
        match (effect, hit) {
            (RuleEffect::Require, true) => reasons.push(format!("meets policy {name:?} ({wants})")),
            (RuleEffect::Require, false) => findings.push(Finding::new(
                Constraint::Policy(name.clone()),
                format!(
                    "policy {name:?} requires {wants}; it has {has}{}",
                    rule.because_suffix()
                ),
            )),
            (RuleEffect::Forbid, true) => findings.push(Finding::new(
                Constraint::Policy(name.clone()),
                format!(
                    "policy {name:?} forbids {wants}; it has {has}{}",
                    rule.because_suffix()
                ),
            )),
            (RuleEffect::Prefer, true) => {
                *score += i64::from(rule.weight);
                preferred_by.push(name.clone());
                reasons.push(if rule.weight >= 0 {
                    format!("preferred by policy {name:?} ({wants})")
                } else {
                    format!("ranked down by policy {name:?} ({wants})")
                });
            }
            (RuleEffect::Forbid, false) | (RuleEffect::Prefer, false) => {}
        }
    }
}

fn certification(
    spec: &WorkloadSpec,
    env: &Environment,
    findings: &mut Vec<Finding>,
    reasons: &mut Vec<String>,
) {
    if spec.certifications.is_empty() {
        return;
    }
    let held = env.tags().get(CERTIFIED_TAG);
    let missing: Vec<String> = spec
        .certifications
        .iter()
        .filter(|c| !held.contains(c))
        .cloned()
        .collect();
    if missing.is_empty() {
        reasons.push(format!(
            "certified for {}",
            text::and_list(&spec.certifications)
        ));
    } else {
        let has = if held.is_empty() {
            "nothing".to_owned()
        } else {
            text::and_list(held)
        };
        findings.push(Finding::new(
            Constraint::Certified,
            format!(
                "not certified for {} (certified for {has})",
                text::and_list(&missing)
            ),
        ));
    }
}

/// Why `c` ranks below `w`: the first key of the ranking where they differ.
fn why_lower(c: &Candidate, w: &Candidate) -> String {
    if c.score != w.score {
        let extra: Vec<String> = w
            .preferred_by
            .iter()
            .filter(|r| !c.preferred_by.contains(r))
            .cloned()
            .collect();
        return if extra.is_empty() {
            format!(
                "policy ranks {} higher (score {} against {})",
                w.environment, w.score, c.score
            )
        } else {
            format!(
                "{} is preferred by policy {}",
                w.environment,
                quoted(&extra)
            )
        };
    }
    let (ci, wi) = (c.resolution.image.action, w.resolution.image.action);
    if ci != wi {
        let verb = |a: ImageAction| match a {
            ImageAction::Import => "imported",
            _ => "converted",
        };
        return match wi {
            ImageAction::Present => format!(
                "its image must be {} first, while {} has it",
                verb(ci),
                w.environment
            ),
            _ => format!(
                "its image must be {} first, while {}'s must only be imported",
                verb(ci),
                w.environment
            ),
        };
    }
    if c.spare != w.spare {
        let noun = |x: &Candidate| text::flavor_noun(x.resolution.provider.kind);
        return format!(
            "{} {} leaves more unused than {}'s {} {}",
            noun(c),
            text::flavor_label(&c.resolution.flavor),
            w.environment,
            noun(w),
            text::flavor_label(&w.resolution.flavor)
        );
    }
    format!("{} comes first in the fleet", w.environment)
}

/// Ranks the candidates and fills in why each but the first ranked lower.
pub(crate) fn rank(mut ranked: Vec<Candidate>) -> Vec<Candidate> {
    ranked.sort_by_key(Candidate::rank_key);
    if let Some((winner, rest)) = ranked.split_first_mut() {
        for c in rest {
            c.ranked_lower = Some(why_lower(c, winner));
        }
    }
    ranked
}

impl Fleet {
    /// Resolves `spec` in every environment, concurrently, each within its deadline:
    /// the smallest fitting flavor (size, template), the image and whether it must be
    /// imported or converted first, the network, security groups and public IP, each
    /// with its reason — or the technical rules the environment breaks (capabilities,
    /// size, image, network, reachability; policy and certifications are
    /// [`place`](Fleet::place)'s). In fleet order.
    ///
    /// Lists flavors ([`Feature::Flavors`]), images ([`Feature::Images`]), networks
    /// ([`Feature::Networks`]) and, when `spec` names security groups, security groups
    /// ([`Feature::SecurityGroups`]) where supported.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid spec (see [`WorkloadSpec::validate`]).
    /// An environment's failure is its rejection, not an error of the call.
    pub async fn resolve(
        &self,
        spec: &WorkloadSpec,
    ) -> Result<Vec<std::result::Result<Resolution, Rejection>>> {
        spec.validate()?;
        let all = self.snapshots(spec).await;
        Ok((0..all.len())
            .map(|i| evaluate(self, spec, i, &all, Scope::Technical).map(|c| c.resolution))
            .collect())
    }

    /// Resolves `spec` in environment `environment` (see [`resolve`](Fleet::resolve)).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown environment; [`ErrorKind::InvalidInput`]
    /// for an invalid spec; the environment's error when it cannot be reached;
    /// [`ErrorKind::Unsupported`] with the rules it breaks (see [`Rejection::to_error`]).
    pub async fn resolve_on(&self, spec: &WorkloadSpec, environment: &str) -> Result<Resolution> {
        spec.validate()?;
        self.find(environment)?;
        let all = self.snapshots(spec).await;
        let index = index_of(&all, environment);
        evaluate(self, spec, index, &all, Scope::Technical)
            .map(|c| c.resolution)
            .map_err(|r| r.to_error(&spec.name, "resolve"))
    }

    /// Chooses the environment for `spec`: every environment is evaluated
    /// concurrently, each within its deadline, against the policy, the certification
    /// rule and the technical rules (see [`resolve`](Fleet::resolve) and the table in
    /// the [module documentation](super)); the eligible ones are ranked. The
    /// [`Placement`] explains the choice, why each other eligible environment ranked
    /// lower, and every rule each rejected environment breaks. Creates nothing.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid spec. No eligible environment is not
    /// an error here: see [`Placement::require`].
    pub async fn place(&self, spec: &WorkloadSpec) -> Result<Placement> {
        spec.validate()?;
        let all = self.snapshots(spec).await;
        Ok(self.decide(spec, &all))
    }

    pub(crate) fn decide(&self, spec: &WorkloadSpec, all: &Snapshots) -> Placement {
        let mut ranked = Vec::new();
        let mut rejected = Vec::new();
        for i in 0..all.len() {
            match evaluate(self, spec, i, all, Scope::Everything) {
                Ok(c) => ranked.push(c),
                Err(r) => rejected.push(r),
            }
        }
        let placement = Placement {
            workload: spec.name.clone(),
            ranked: rank(ranked),
            rejected,
            order: all.iter().map(|(e, _)| e.name().to_owned()).collect(),
        };
        tracing::debug!(workload = %spec.name, chosen = ?placement.chosen().map(|c| &c.environment), "placed");
        placement
    }

    /// The image-locality answer for `spec` bound for `environment`: whether its
    /// image (by name, else by OS family) is already there, or must be imported from
    /// another environment or converted to another disk format first, or cannot be
    /// had. Reads the images' [locality](crate::model::ImageLocality): an image that
    /// is not shareable (VMware's are bound to their datastore) is copied, never used
    /// in place.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown environment; [`ErrorKind::InvalidInput`]
    /// for an invalid spec. An unreachable environment gives
    /// [`ImageAction::Unavailable`] with the error in the explanation.
    pub async fn image_plan(
        &self,
        spec: &WorkloadSpec,
        environment: &str,
    ) -> Result<super::ImagePlan> {
        spec.validate()?;
        self.find(environment)?;
        let all = self.snapshots(spec).await;
        Ok(plan_image(spec, index_of(&all, environment), &all))
    }
}

pub(crate) fn index_of(all: &Snapshots, environment: &str) -> usize {
    all.iter()
        .position(|(e, _)| e.name() == environment)
        .unwrap_or_default()
}
