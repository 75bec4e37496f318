//! Policy: environment tags and roles, and the rules that match workloads to them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

use super::spec::WorkloadSpec;

/// The environment tag that lists the workloads an environment is certified for
/// (`certified: [oracle, sap]`), read by the certification rule.
pub const CERTIFIED_TAG: &str = "certified";

/// An environment's policy tags: each key has one or more values (`tier: production`,
/// `certified: [oracle, sap]`, `public_bandwidth: high`).
///
/// In a config file a value may be a single scalar or a list of scalars; numbers and
/// booleans are kept as their text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PolicyTags(BTreeMap<String, Vec<String>>);

impl PolicyTags {
    /// No tags.
    pub fn new() -> Self {
        PolicyTags::default()
    }

    /// Adds `value` to `key`'s values (no duplicates).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let values = self.0.entry(key.into()).or_default();
        let value = value.into();
        if !values.contains(&value) {
            values.push(value);
        }
    }

    /// `key`'s values (empty when unset).
    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether `key` has `value`.
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.get(key).iter().any(|v| v == value)
    }

    /// Every key with its values, ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Whether there is no tag.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `key=value` (values joined by `|`), or `key unset`: how explanations show a tag.
    pub fn describe(&self, key: &str) -> String {
        match self.get(key) {
            [] => format!("{key} unset"),
            values => format!("{key}={}", values.join("|")),
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for PolicyTags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut t = PolicyTags::new();
        for (k, v) in iter {
            t.insert(k, v);
        }
        t
    }
}

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for PolicyTags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let mut tags = PolicyTags::new();
        for (key, value) in raw {
            let values = match &value {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| scalar_text(i).ok_or(()))
                    .collect::<std::result::Result<Vec<_>, ()>>(),
                other => scalar_text(other).map(|s| vec![s]).ok_or(()),
            }
            .map_err(|()| {
                D::Error::custom(format!(
                    "tag {key:?} must be a scalar or a list of scalars, got {value}"
                ))
            })?;
            if values.is_empty() {
                tags.0.entry(key.clone()).or_default();
            }
            for v in values {
                tags.insert(key.clone(), v);
            }
        }
        Ok(tags)
    }
}

/// Which workloads a rule applies to. Empty: every workload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadMatch {
    /// The workload carries every one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl WorkloadMatch {
    /// Workloads carrying every one of `tags`.
    pub fn tags<I, S>(tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WorkloadMatch {
            tags: tags.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether it matches every workload.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Whether `spec` matches.
    pub fn matches(&self, spec: &WorkloadSpec) -> bool {
        self.tags.iter().all(|t| spec.tags.contains(t))
    }
}

/// Which environments a rule means: any of the roles, and for each tag key any of its
/// values. Both parts must hold when both are given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentMatch {
    /// The environment has at least one of these roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// For each key, the environment has at least one of the values.
    #[serde(default, skip_serializing_if = "PolicyTags::is_empty")]
    pub tags: PolicyTags,
}

impl EnvironmentMatch {
    /// Environments with one of `roles`.
    pub fn roles<I, S>(roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        EnvironmentMatch {
            roles: roles.into_iter().map(Into::into).collect(),
            tags: PolicyTags::new(),
        }
    }

    /// Environments whose tag `key` has `value`.
    pub fn tag(key: impl Into<String>, value: impl Into<String>) -> Self {
        EnvironmentMatch::default().and_tag(key, value)
    }

    /// Also requires tag `key` to have `value` (or another value given for `key`).
    pub fn and_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key, value);
        self
    }

    /// Whether it names nothing (and so would match every environment).
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.tags.is_empty()
    }

    /// Whether an environment with `roles` and `tags` matches.
    pub fn matches(&self, roles: &[String], tags: &PolicyTags) -> bool {
        (self.roles.is_empty() || self.roles.iter().any(|r| roles.contains(r)))
            && self
                .tags
                .iter()
                .all(|(k, values)| values.iter().any(|v| tags.has(k, v)))
    }

    /// What it asks for, for example `role dev-test and tier=production`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.roles.is_empty() {
            parts.push(format!("role {}", self.roles.join(" or ")));
        }
        for (k, values) in self.tags.iter() {
            parts.push(format!("{k}={}", values.join("|")));
        }
        parts.join(" and ")
    }

    /// What an environment with `roles` and `tags` has of what this match looks at,
    /// for example `roles dev-test, internal-web and tier=dev`.
    pub fn describe_actual(&self, roles: &[String], tags: &PolicyTags) -> String {
        let mut parts = Vec::new();
        if !self.roles.is_empty() {
            parts.push(if roles.is_empty() {
                "no role".to_owned()
            } else {
                format!(
                    "{} {}",
                    if roles.len() == 1 { "role" } else { "roles" },
                    roles.join(", ")
                )
            });
        }
        for (k, _) in self.tags.iter() {
            parts.push(tags.describe(k));
        }
        parts.join(" and ")
    }
}

/// What a rule does to the environments it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleEffect {
    /// Matching workloads may only go to matching environments.
    Require,
    /// Matching workloads may never go to matching environments.
    Forbid,
    /// Matching environments rank higher for matching workloads, by the rule's weight.
    Prefer,
}

impl fmt::Display for RuleEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            RuleEffect::Require => "require",
            RuleEffect::Forbid => "forbid",
            RuleEffect::Prefer => "prefer",
        })
    }
}

/// One policy rule: for the workloads it applies to (`when`), it requires, forbids or
/// prefers environments. Exactly one of `require`, `forbid` and `prefer` is set.
///
/// ```yaml
/// - name: public-sites-need-bandwidth
///   when: {tags: [public]}
///   require: {tags: {public_bandwidth: high}}
///   because: public sites serve the internet
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A unique name, quoted in explanations.
    pub name: String,
    /// The workloads it applies to (every workload when empty).
    #[serde(default, skip_serializing_if = "WorkloadMatch::is_empty")]
    pub when: WorkloadMatch,
    /// Only these environments may take the workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<EnvironmentMatch>,
    /// These environments may never take the workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid: Option<EnvironmentMatch>,
    /// These environments rank higher for the workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer: Option<EnvironmentMatch>,
    /// How much a `prefer` rule adds to an environment's rank (default 1; may be
    /// negative to rank an environment lower without forbidding it).
    #[serde(default = "one")]
    pub weight: i32,
    /// Why the rule exists, quoted in explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

fn one() -> i32 {
    1
}

impl Rule {
    fn with_effect(name: impl Into<String>, effect: RuleEffect, m: EnvironmentMatch) -> Self {
        let mut r = Rule {
            name: name.into(),
            when: WorkloadMatch::default(),
            require: None,
            forbid: None,
            prefer: None,
            weight: 1,
            because: None,
        };
        match effect {
            RuleEffect::Require => r.require = Some(m),
            RuleEffect::Forbid => r.forbid = Some(m),
            RuleEffect::Prefer => r.prefer = Some(m),
        }
        r
    }

    /// A rule that sends the workloads only to environments matching `m`.
    pub fn require(name: impl Into<String>, m: EnvironmentMatch) -> Self {
        Rule::with_effect(name, RuleEffect::Require, m)
    }

    /// A rule that keeps the workloads away from environments matching `m`.
    pub fn forbid(name: impl Into<String>, m: EnvironmentMatch) -> Self {
        Rule::with_effect(name, RuleEffect::Forbid, m)
    }

    /// A rule that ranks environments matching `m` higher for the workloads.
    pub fn prefer(name: impl Into<String>, m: EnvironmentMatch) -> Self {
        Rule::with_effect(name, RuleEffect::Prefer, m)
    }

    /// Applies the rule only to workloads matching `when`.
    pub fn when(mut self, when: WorkloadMatch) -> Self {
        self.when = when;
        self
    }

    /// Sets the weight of a `prefer` rule.
    pub fn with_weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// Says why the rule exists.
    pub fn because(mut self, because: impl Into<String>) -> Self {
        self.because = Some(because.into());
        self
    }

    /// The effect and the environments it means.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) unless exactly one of `require`,
    /// `forbid` and `prefer` is set, with at least one role or tag.
    pub fn effect(&self) -> Result<(RuleEffect, &EnvironmentMatch)> {
        let set: Vec<(RuleEffect, &EnvironmentMatch)> = [
            (RuleEffect::Require, self.require.as_ref()),
            (RuleEffect::Forbid, self.forbid.as_ref()),
            (RuleEffect::Prefer, self.prefer.as_ref()),
        ]
        .into_iter()
        .filter_map(|(e, m)| m.map(|m| (e, m)))
        .collect();
        match set.as_slice() {
            [(e, m)] if !m.is_empty() => Ok((*e, m)),
            [(e, _)] => Err(Error::config(format!(
                "policy rule {:?}: its {e} names no role and no tag",
                self.name
            ))),
            [] => Err(Error::config(format!(
                "policy rule {:?} needs one of require, forbid or prefer",
                self.name
            ))),
            _ => Err(Error::config(format!(
                "policy rule {:?} has more than one of require, forbid and prefer",
                self.name
            ))),
        }
    }

    /// ` (because …)` or nothing.
    pub(crate) fn because_suffix(&self) -> String {
        self.because
            .as_deref()
            .map(|b| format!(" ({b})"))
            .unwrap_or_default()
    }
}

/// An ordered list of rules. Serialized as a plain list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Policy {
    /// The rules, in the order explanations list them.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// No rule.
    pub fn new() -> Self {
        Policy::default()
    }

    /// Adds a rule.
    pub fn with_rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Checks every rule (see [`Rule::effect`]) and that names are unique and not empty.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the first bad rule.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.rules {
            if r.name.trim().is_empty() {
                return Err(Error::config("a policy rule needs a name"));
            }
            if !seen.insert(r.name.as_str()) {
                return Err(Error::config(format!(
                    "two policy rules are named {:?}",
                    r.name
                )));
            }
            r.effect()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_take_scalars_and_lists() {
        let t: PolicyTags = serde_json::from_value(serde_json::json!({
            "tier": "production", "certified": ["oracle", "sap"], "gpu": true, "dc": 2
        }))
        .unwrap();
        assert_eq!(t.get("tier"), ["production"]);
        assert_eq!(t.get("certified"), ["oracle", "sap"]);
        assert_eq!(t.get("gpu"), ["true"]);
        assert_eq!(t.get("dc"), ["2"]);
        assert_eq!(t.describe("certified"), "certified=oracle|sap");
        assert_eq!(t.describe("zone"), "zone unset");
        let e =
            serde_json::from_value::<PolicyTags>(serde_json::json!({"x": {"y": 1}})).unwrap_err();
        assert!(e.to_string().contains("\"x\""), "{e}");
    }

    #[test]
    fn a_rule_needs_exactly_one_non_empty_effect() {
        let ok = Rule::require("r", EnvironmentMatch::tag("tier", "production"));
        assert_eq!(ok.effect().unwrap().0, RuleEffect::Require);
        let mut two = ok.clone();
        two.prefer = Some(EnvironmentMatch::roles(["x"]));
        assert!(two
            .effect()
            .unwrap_err()
            .to_string()
            .contains("more than one"));
        let empty = Rule::forbid("e", EnvironmentMatch::default());
        assert!(empty
            .effect()
            .unwrap_err()
            .to_string()
            .contains("names no role and no tag"));
        let dup = Policy::new().with_rule(ok.clone()).with_rule(ok);
        assert!(dup
            .validate()
            .unwrap_err()
            .to_string()
            .contains("two policy rules"));
    }

    #[test]
    fn matches_and_describes() {
        let m = EnvironmentMatch::roles(["dev-test", "ci"]).and_tag("tier", "dev");
        let tags: PolicyTags = [("tier", "dev")].into_iter().collect();
        assert!(m.matches(&["ci".into()], &tags));
        assert!(!m.matches(&["prod".into()], &tags));
        assert!(!m.matches(&["ci".into()], &PolicyTags::new()));
        assert_eq!(m.describe(), "role dev-test or ci and tier=dev");
        assert_eq!(
            m.describe_actual(&["web".into(), "db".into()], &PolicyTags::new()),
            "roles web, db and tier unset"
        );
        assert_eq!(m.describe_actual(&[], &tags), "no role and tier=dev");
    }
}
