//! Helpers shared by the resource providers: request context, body fields,
//! locations, tags, names and `nextLink` paging.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::{json, Map, Value};

use crate::http::{ArmError, Resp, R};
use crate::ids::Key;
use crate::service::{App, Req};
use crate::util::{b64url_decode, b64url_encode};
use crate::world::{normalize_location, Tags, World};

/// A request routed below `/subscriptions/{s}/[resourceGroups/{rg}/]providers/{ns}/`.
pub(crate) struct Ctx<'a> {
    pub(crate) app: &'a App,
    pub(crate) req: &'a Req,
    /// Resource group as written in the path.
    pub(crate) rg: Option<&'a str>,
    /// Segments after the namespace, original case.
    pub(crate) rest: &'a [String],
    /// The same, lower case.
    pub(crate) lrest: Vec<&'a str>,
}

impl Ctx<'_> {
    pub(crate) fn method(&self) -> &http::Method {
        &self.req.method
    }

    pub(crate) fn api(&self) -> &str {
        self.req.api_version()
    }

    pub(crate) fn base(&self) -> &str {
        &self.req.base
    }

    /// The resource group of a resource-group-scoped route.
    pub(crate) fn rg(&self) -> &str {
        self.rg.unwrap_or("")
    }
}

/// ARM's answer for an unknown route.
pub(crate) fn no_route(req: &Req) -> ArmError {
    ArmError::new(
        404,
        "NotFound",
        format!(
            "No HTTP resource was found that matches the request URI '{}{}'.",
            req.base, req.path
        ),
    )
}

/// ARM's answer for a known route and an unsupported method.
pub(crate) fn bad_method(req: &Req) -> ArmError {
    ArmError::new(
        405,
        "MethodNotAllowed",
        format!(
            "The requested resource does not support http method '{}'.",
            req.method
        ),
    )
}

/// The resource group's display name, 404 `ResourceGroupNotFound` if it does not
/// exist, 409 `ResourceGroupBeingDeleted` when `for_write` and it is being deleted.
pub(crate) fn require_rg(w: &World, rg: &str, for_write: bool) -> Result<String, ArmError> {
    match w.rgs.get(&rg.to_ascii_lowercase()) {
        None => Err(ArmError::new(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        )),
        Some(g) if for_write && g.prov == crate::world::Prov::Deleting => Err(ArmError::conflict(
            "ResourceGroupBeingDeleted",
            format!("The resource group '{}' is in deprovisioning state and cannot perform this operation.", g.name),
        )),
        Some(g) => Ok(g.name.clone()),
    }
}

/// The `properties` object of a body (empty if absent).
pub(crate) fn props(v: &Value) -> Map<String, Value> {
    v.get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A string at a JSON pointer (`/a/b`), if present and a string.
pub(crate) fn s<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A required, normalised, supported `location` (400 `LocationRequired` /
/// `LocationNotAvailableForResourceType`).
pub(crate) fn location(w: &World, v: &Value, type_path: &str) -> Result<String, ArmError> {
    let raw = v
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| {
            ArmError::bad(
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    let l = normalize_location(raw);
    if !w.locations.contains(&l) {
        return Err(ArmError::bad(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{raw}' is not available for resource type '{type_path}'. List of available regions for the resource type is '{}'.",
                w.locations.join(",")
            ),
        ));
    }
    Ok(l)
}

/// Checks that an update does not move a resource (409 `InvalidResourceLocation`).
pub(crate) fn same_location(
    existing: &str,
    wanted: &str,
    name: &str,
    rg: &str,
) -> Result<(), ArmError> {
    if existing == wanted {
        return Ok(());
    }
    Err(ArmError::conflict(
        "InvalidResourceLocation",
        format!("The resource '{name}' already exists in location '{existing}' in resource group '{rg}'. A resource with the same name cannot be created in location '{wanted}'. Please select a new resource name."),
    ))
}

/// The `tags` of a body: `Ok(None)` if absent, 400 if not an object of strings.
pub(crate) fn tags(v: &Value) -> Result<Option<Tags>, ArmError> {
    match v.get("tags") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Object(m)) => {
            if m.len() > 50 {
                return Err(ArmError::bad(
                    "InvalidTag",
                    "The number of tags exceeds the limit of 50.",
                ));
            }
            for (k, val) in m {
                if !val.is_string() {
                    return Err(ArmError::bad(
                        "InvalidRequestContent",
                        format!("The request content was invalid and could not be deserialized: 'Error converting value for tag '{k}': tag values must be strings.'"),
                    ));
                }
                if k.is_empty() || k.len() > 512 || val.as_str().is_some_and(|s| s.len() > 256) {
                    return Err(ArmError::bad(
                        "InvalidTag",
                        format!("The tag '{k}' has an invalid name or value length (name 1-512, value up to 256 characters)."),
                    ));
                }
            }
            Ok(Some(Some(m.clone())))
        }
        Some(_) => Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'tags must be an object.'",
        )),
    }
}

/// Availability `zones` of a body: strings `1`–`3`.
pub(crate) fn zones(v: &Value) -> Result<Vec<String>, ArmError> {
    let Some(z) = v.get("zones") else {
        return Ok(Vec::new());
    };
    let arr = z
        .as_array()
        .ok_or_else(|| ArmError::invalid("zones", "The value of parameter zones is invalid."))?;
    arr.iter()
        .map(|z| match z.as_str() {
            Some(s @ ("1" | "2" | "3")) => Ok(s.to_owned()),
            _ => Err(ArmError::invalid(
                "zones",
                format!("The zone(s) '{z}' for resource is not supported. The supported zones for location are '1,2,3'."),
            )),
        })
        .collect()
}

/// Validates a resource name as ARM does for most types: 1–`max` word characters,
/// `.`, `-` or `_`, starting with a word character, ending with a word character or
/// `_` (400 `InvalidResourceName`).
pub(crate) fn check_name(name: &str, max: usize) -> Result<(), ArmError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| word(c) || c == '.' || c == '-')
        && name.chars().next().is_some_and(word)
        && name.chars().last().is_some_and(word);
    if ok {
        Ok(())
    } else {
        Err(ArmError::bad(
            "InvalidResourceName",
            format!("Resource name {name} is invalid. The name can be up to {max} characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'."),
        ))
    }
}

/// Renders the common envelope of a tracked resource.
pub(crate) fn envelope(
    name: &str,
    id: String,
    type_name: &str,
    location: &str,
    tags: &Tags,
    properties: Value,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name.to_owned()));
    m.insert("id".into(), Value::String(id));
    m.insert("type".into(), Value::String(type_name.to_owned()));
    m.insert("location".into(), Value::String(location.to_owned()));
    if let Some(t) = tags {
        m.insert("tags".into(), Value::Object(t.clone()));
    }
    m.insert("properties".into(), properties);
    m
}

fn skiptoken(k: &Key) -> String {
    b64url_encode(format!("{}\n{}", k.0, k.1).as_bytes())
}

fn parse_skiptoken(t: &str) -> Result<Key, ArmError> {
    let bad = || {
        ArmError::bad(
            "InvalidSkipToken",
            format!("The provided skip token '{t}' is not valid."),
        )
    };
    let raw = b64url_decode(t).ok_or_else(bad)?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (a, b) = s.split_once('\n').ok_or_else(bad)?;
    Ok((a.to_owned(), b.to_owned()))
}

/// One page of keys of `map` (optionally within resource group `rg`, lower case),
/// after the request's `$skiptoken`, at most `limit` long; and whether more follow.
pub(crate) fn page_keys<T>(
    map: &BTreeMap<Key, T>,
    rg: Option<&str>,
    req: &Req,
    limit: usize,
) -> Result<(Vec<Key>, bool), ArmError> {
    let after = req
        .query
        .get("$skiptoken")
        .map(parse_skiptoken)
        .transpose()?;
    let rg = rg.map(str::to_ascii_lowercase);
    let lower = match (&after, &rg) {
        (Some(k), _) => Bound::Excluded(k.clone()),
        (None, Some(g)) => Bound::Included((g.clone(), String::new())),
        (None, None) => Bound::Unbounded,
    };
    let mut keys: Vec<Key> = Vec::with_capacity(limit.min(4096) + 1);
    for (k, _) in map.range((lower, Bound::Unbounded)) {
        if rg.as_ref().is_some_and(|g| &k.0 != g) {
            break;
        }
        keys.push(k.clone());
        if keys.len() > limit {
            break;
        }
    }
    let more = keys.len() > limit;
    keys.truncate(limit);
    Ok((keys, more))
}

/// Like [`page_keys`] over the whole map, keeping only items `keep` accepts (a scan:
/// `O(items skipped + page)`).
pub(crate) fn page_keys_where<T>(
    map: &BTreeMap<Key, T>,
    req: &Req,
    limit: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<Key>, bool), ArmError> {
    let after = req
        .query
        .get("$skiptoken")
        .map(parse_skiptoken)
        .transpose()?;
    let lower = match after {
        Some(k) => Bound::Excluded(k),
        None => Bound::Unbounded,
    };
    let mut keys: Vec<Key> = Vec::new();
    for (k, v) in map.range((lower, Bound::Unbounded)) {
        if !keep(v) {
            continue;
        }
        keys.push(k.clone());
        if keys.len() > limit {
            break;
        }
    }
    let more = keys.len() > limit;
    keys.truncate(limit);
    Ok((keys, more))
}

/// A list response: `{"value": [...], "nextLink": "<same URL with $skiptoken>"}`.
pub(crate) fn list_response<T: serde::Serialize>(
    req: &Req,
    items: Vec<T>,
    next_after: Option<&Key>,
) -> Resp {
    #[derive(serde::Serialize)]
    struct Page<T> {
        value: Vec<T>,
        #[serde(rename = "nextLink", skip_serializing_if = "Option::is_none")]
        next_link: Option<String>,
    }
    let next_link = next_after.map(|k| {
        let q = req.query.with("$skiptoken", &skiptoken(k));
        format!("{}{}?{q}", req.base, req.path)
    });
    Resp::json_of(
        200,
        &Page {
            value: items,
            next_link,
        },
    )
}

/// A list of all `items` in one page (small collections).
pub(crate) fn list_all(items: Vec<Value>) -> R {
    Ok(Resp::json(200, &json!({ "value": items })))
}

/// An id reference `{"id": ...}`.
pub(crate) fn id_ref(id: &str) -> Value {
    json!({ "id": id })
}

/// `properties.<key>.id` of a body, if present.
pub(crate) fn ref_id<'a>(p: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    p.get(key)?.get("id")?.as_str()
}
