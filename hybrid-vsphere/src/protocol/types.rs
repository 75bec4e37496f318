//! Typed views of vim25 data objects, read from [`Node`] trees.

use serde::Serialize;

use super::xml::{Node, ShapeError};

/// A managed-object reference: a type (`VirtualMachine`) and an id (`vm-42`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub(crate) struct Mor {
    #[serde(rename = "@type")]
    pub(crate) kind: String,
    #[serde(rename = "$text")]
    pub(crate) value: String,
}

impl Mor {
    pub(crate) fn new(kind: &str, value: &str) -> Mor {
        Mor {
            kind: kind.to_owned(),
            value: value.to_owned(),
        }
    }

    /// Reads a reference element (`<obj type="VirtualMachine">vm-1</obj>`).
    pub(crate) fn from_node(n: &Node) -> Result<Mor, ShapeError> {
        let kind = n
            .mor_type()
            .ok_or_else(|| ShapeError("a managed-object reference has no type".into()))?;
        let value = n.text_or_empty().trim();
        if value.is_empty() {
            return Err(ShapeError(format!("a {kind} reference has no id")));
        }
        Ok(Mor::new(kind, value))
    }
}

impl std::fmt::Display for Mor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// `AboutInfo`: what the endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AboutInfo {
    pub(crate) name: String,
    pub(crate) full_name: String,
    pub(crate) version: String,
    pub(crate) build: String,
    pub(crate) api_type: String,
    pub(crate) api_version: String,
    pub(crate) instance_uuid: Option<String>,
}

impl AboutInfo {
    pub(crate) fn from_node(n: &Node) -> Result<AboutInfo, ShapeError> {
        Ok(AboutInfo {
            name: n.req_text("name")?.to_owned(),
            full_name: n.req_text("fullName")?.to_owned(),
            version: n.req_text("version")?.to_owned(),
            build: n.child_text("build").unwrap_or("").to_owned(),
            api_type: n.req_text("apiType")?.to_owned(),
            api_version: n.req_text("apiVersion")?.to_owned(),
            instance_uuid: n.child_text("instanceUuid").map(str::to_owned),
        })
    }
}

/// The managers of `ServiceContent` this crate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceContent {
    pub(crate) about: AboutInfo,
    pub(crate) root_folder: Mor,
    pub(crate) property_collector: Mor,
    pub(crate) view_manager: Option<Mor>,
    pub(crate) session_manager: Option<Mor>,
    pub(crate) extension_manager: Option<Mor>,
    pub(crate) vstorage_object_manager: Option<Mor>,
}

impl ServiceContent {
    pub(crate) fn from_node(n: &Node) -> Result<ServiceContent, ShapeError> {
        let opt = |name: &str| n.child(name).map(Mor::from_node).transpose();
        Ok(ServiceContent {
            about: AboutInfo::from_node(n.req("about")?)?,
            root_folder: Mor::from_node(n.req("rootFolder")?)?,
            property_collector: Mor::from_node(n.req("propertyCollector")?)?,
            view_manager: opt("viewManager")?,
            session_manager: opt("sessionManager")?,
            extension_manager: opt("extensionManager")?,
            vstorage_object_manager: opt("vStorageObjectManager")?,
        })
    }
}

/// `UserSession`, as returned by `Login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserSession {
    pub(crate) key: String,
    pub(crate) user_name: String,
}

impl UserSession {
    pub(crate) fn from_node(n: &Node) -> Result<UserSession, ShapeError> {
        Ok(UserSession {
            key: n.req_text("key")?.to_owned(),
            user_name: n.req_text("userName")?.to_owned(),
        })
    }
}

/// One property of one object in a `RetrieveResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DynamicProperty {
    pub(crate) name: crate::protocol::xml::Name,
    pub(crate) val: Node,
}

/// A property that could not be read (`missingSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingProperty {
    pub(crate) path: String,
    pub(crate) fault: Option<MethodFault>,
}

/// `ObjectContent`: an object and the properties asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectContent {
    pub(crate) obj: Mor,
    pub(crate) props: Vec<DynamicProperty>,
    pub(crate) missing: Vec<MissingProperty>,
}

impl ObjectContent {
    /// Reads an `objects` element, moving each property's value out of the tree.
    pub(crate) fn from_node(n: Node) -> Result<ObjectContent, ShapeError> {
        let obj = Mor::from_node(n.req("obj")?)?;
        let mut props = Vec::new();
        let mut missing = Vec::new();
        for (name, mut c) in n.children {
            match &*name {
                "propSet" => {
                    // Moved out of the tree, not copied.
                    c.req("name")?;
                    let name = c
                        .take_child("name")
                        .and_then(|n| n.text)
                        .unwrap_or_default();
                    let val = c.take_child("val").unwrap_or_default();
                    props.push(DynamicProperty { name, val });
                }
                "missingSet" => missing.push(MissingProperty {
                    path: c.req_text("path")?.to_owned(),
                    fault: c.child("fault").map(MethodFault::from_localized),
                }),
                _ => {}
            }
        }
        Ok(ObjectContent {
            obj,
            props,
            missing,
        })
    }

    /// The value of property `name`, when returned.
    pub(crate) fn get(&self, name: &str) -> Option<&Node> {
        self.props.iter().find(|p| p.name == name).map(|p| &p.val)
    }

    /// The text of property `name`, when returned.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(Node::text_or_empty)
    }

    /// Property `name` as a number, when returned.
    pub(crate) fn num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ShapeError> {
        self.get(name)
            .map(|v| {
                v.num()
                    .map_err(|e| ShapeError(format!("property {name}: {e}")))
            })
            .transpose()
    }

    /// Property `name` as a boolean, when returned.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ShapeError> {
        self.get(name)
            .map(|v| {
                v.boolean()
                    .map_err(|e| ShapeError(format!("property {name}: {e}")))
            })
            .transpose()
    }

    /// Property `name` as a reference, when returned.
    pub(crate) fn mor(&self, name: &str) -> Result<Option<Mor>, ShapeError> {
        self.get(name)
            .map(|v| Mor::from_node(v).map_err(|e| ShapeError(format!("property {name}: {e}"))))
            .transpose()
    }

    /// Property `name` as an array of references (`ArrayOfManagedObjectReference`).
    pub(crate) fn mors(&self, name: &str) -> Result<Vec<Mor>, ShapeError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(v) => v
                .children_named("ManagedObjectReference")
                .map(Mor::from_node)
                .collect(),
        }
    }
}

/// `RetrieveResult`: objects and the continuation token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RetrieveResult {
    pub(crate) token: Option<String>,
    pub(crate) objects: Vec<ObjectContent>,
}

impl RetrieveResult {
    /// Reads a `returnval`, moving the objects out of the tree.
    pub(crate) fn from_node(n: Node) -> Result<RetrieveResult, ShapeError> {
        let token = n
            .child_text("token")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let objects = n
            .children
            .into_iter()
            .filter(|(k, _)| k == "objects")
            .map(|(_, o)| ObjectContent::from_node(o))
            .collect::<Result<_, _>>()?;
        Ok(RetrieveResult { token, objects })
    }
}

/// A vim25 fault: its type (`ManagedObjectNotFound`, `InvalidLogin`, …), message and
/// the detail element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MethodFault {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) detail: Node,
}

impl MethodFault {
    /// Reads a `LocalizedMethodFault` (`<fault xsi:type="…">…</fault><localizedMessage>`),
    /// or a bare `MethodFault` element.
    pub(crate) fn from_localized(n: &Node) -> MethodFault {
        let (inner, message) = match n.child("fault") {
            Some(f) => (f, n.child_text("localizedMessage").unwrap_or("")),
            None => (n, n.child_text("localizedMessage").unwrap_or("")),
        };
        let kind = inner.xsi_type().unwrap_or("MethodFault").to_owned();
        let mut message = message.trim().to_owned();
        if message.is_empty() {
            message = inner
                .children_named("faultMessage")
                .filter_map(|m| m.child_text("message"))
                .collect::<Vec<_>>()
                .join("; ");
        }
        MethodFault {
            kind,
            message,
            detail: inner.clone(),
        }
    }
}

/// `TaskInfoState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskState {
    Queued,
    Running,
    Success,
    Error,
    Other(String),
}

/// The parts of `TaskInfo` a wait needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskInfo {
    pub(crate) key: String,
    pub(crate) state: TaskState,
    pub(crate) progress: Option<u8>,
    pub(crate) result: Option<Node>,
    pub(crate) error: Option<MethodFault>,
    pub(crate) description_id: Option<String>,
}

impl TaskInfo {
    pub(crate) fn from_node(n: &Node) -> Result<TaskInfo, ShapeError> {
        let state = match n.req_text("state")?.trim() {
            "queued" => TaskState::Queued,
            "running" => TaskState::Running,
            "success" => TaskState::Success,
            "error" => TaskState::Error,
            other => TaskState::Other(other.to_owned()),
        };
        let progress = n
            .child_num::<i64>("progress")?
            .map(|p| p.clamp(0, 100) as u8);
        Ok(TaskInfo {
            key: n.child_text("key").unwrap_or("").to_owned(),
            state,
            progress,
            result: n.child("result").cloned(),
            error: n.child("error").map(MethodFault::from_localized),
            description_id: n.child_text("descriptionId").map(str::to_owned),
        })
    }
}

/// `VStorageObject`: a first-class disk, the parts a volume needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VStorageObject {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) create_time: Option<String>,
    pub(crate) capacity_mb: u64,
    pub(crate) datastore: Option<Mor>,
    pub(crate) file_path: Option<String>,
    pub(crate) provisioning_type: Option<String>,
    pub(crate) consumers: Vec<String>,
}

impl VStorageObject {
    pub(crate) fn from_node(n: &Node) -> Result<VStorageObject, ShapeError> {
        let config = n.req("config")?;
        let id = config.req("id")?.req_text("id")?.trim().to_owned();
        if id.is_empty() {
            return Err(ShapeError("a VStorageObject has an empty id".into()));
        }
        let backing = config.child("backing");
        Ok(VStorageObject {
            id,
            name: config.child_text("name").unwrap_or("").to_owned(),
            create_time: config.child_text("createTime").map(str::to_owned),
            capacity_mb: config.child_num::<i64>("capacityInMB")?.unwrap_or(0).max(0) as u64,
            datastore: backing
                .and_then(|b| b.child("datastore"))
                .map(Mor::from_node)
                .transpose()?,
            file_path: backing
                .and_then(|b| b.child_text("filePath"))
                .map(str::to_owned),
            provisioning_type: backing
                .and_then(|b| b.child_text("provisioningType"))
                .map(str::to_owned),
            consumers: config
                .children_named("consumerId")
                .filter_map(|c| c.child_text("id"))
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// One snapshot of a first-class disk (`VStorageObjectSnapshotInfoVStorageObjectSnapshot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskSnapshot {
    pub(crate) id: String,
    pub(crate) create_time: Option<String>,
    pub(crate) description: String,
}

impl DiskSnapshot {
    /// The `snapshots` of a `VStorageObjectSnapshotInfo`.
    pub(crate) fn list(info: &Node) -> Result<Vec<DiskSnapshot>, ShapeError> {
        info.children_named("snapshots")
            .map(|s| {
                Ok(DiskSnapshot {
                    id: s.req("id")?.req_text("id")?.trim().to_owned(),
                    create_time: s.child_text("createTime").map(str::to_owned),
                    description: s.child_text("description").unwrap_or("").to_owned(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::parse;

    #[test]
    fn task_info_with_error_and_result() {
        let n = parse(r#"<val xmlns:xsi="x" xsi:type="TaskInfo"><key>task-1</key><task type="Task">task-1</task><state>error</state><error><fault xsi:type="InvalidPowerState"><requestedState>poweredOff</requestedState><existingState>poweredOff</existingState></fault><localizedMessage>The attempted operation cannot be performed in the current state (Powered off).</localizedMessage></error><progress>130</progress></val>"#).unwrap();
        let t = TaskInfo::from_node(&n).unwrap();
        assert_eq!(t.state, TaskState::Error);
        assert_eq!(t.progress, Some(100));
        let e = t.error.unwrap();
        assert_eq!(e.kind, "InvalidPowerState");
        assert!(e.message.contains("current state"));
        let ok = parse(r#"<val xmlns:xsi="x"><key>task-2</key><state>success</state><result xsi:type="ManagedObjectReference" type="VirtualMachine">vm-9</result></val>"#).unwrap();
        let t = TaskInfo::from_node(&ok).unwrap();
        assert_eq!(
            Mor::from_node(t.result.as_ref().unwrap()).unwrap(),
            Mor::new("VirtualMachine", "vm-9")
        );
        let odd = parse("<val><state>paused</state></val>").unwrap();
        assert_eq!(
            TaskInfo::from_node(&odd).unwrap().state,
            TaskState::Other("paused".into())
        );
    }

    #[test]
    fn mor_without_type_or_id_is_an_error() {
        assert!(Mor::from_node(&parse("<obj>vm-1</obj>").unwrap()).is_err());
        assert!(Mor::from_node(&parse(r#"<obj type="VirtualMachine"></obj>"#).unwrap()).is_err());
    }
}
