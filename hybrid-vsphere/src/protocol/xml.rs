//! A generic XML element tree read through quick-xml's event reader.
//!
//! vim25 answers are polymorphic (`xsi:type`) and property values are `anyType`, so
//! responses are first read into [`Node`]s (quick-xml does all parsing; namespace
//! prefixes are dropped, so `xsi:type` and `type` both arrive as `type`), and the
//! typed views in [`super::types`] are read from those trees. Reading a tree never
//! panics: a missing or malformed piece is an `Err` naming the path.

use std::borrow::Cow;
use std::fmt;

#[cfg(test)]
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// An element or attribute name, or an attribute value: the common vim25 ones are
/// static (no allocation per element of a large answer), any other is owned.
pub(crate) type Name = Cow<'static, str>;

/// One XML element: attributes (prefixes dropped), text, and child elements in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) attrs: Vec<(Name, Name)>,
    pub(crate) text: Option<Name>,
    pub(crate) children: Vec<(Name, Node)>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Node");
        if !self.attrs.is_empty() {
            d.field("attrs", &self.attrs);
        }
        if let Some(t) = &self.text {
            d.field("text", t);
        }
        if !self.children.is_empty() {
            d.field("children", &self.children);
        }
        d.finish()
    }
}

/// The tree quick-xml's serde deserializer makes (how [`parse`] read documents before
/// it drove the event reader itself): the reference of the differential test.
#[cfg(test)]
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an XML element")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::text(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node {
                    text: Some(Cow::Owned(v)),
                    ..Node::default()
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut n = Node::default();
                while let Some(key) = map.next_key::<String>()? {
                    if let Some(attr) = key.strip_prefix('@') {
                        let v: String = map.next_value()?;
                        n.attrs.push((Cow::Owned(attr.to_owned()), Cow::Owned(v)));
                    } else if key == "$text" || key == "$value" {
                        let v: String = map.next_value()?;
                        n.text = Some(Cow::Owned(v));
                    } else {
                        let v: Node = map.next_value()?;
                        n.children.push((Cow::Owned(key), v));
                    }
                }
                Ok(n)
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// Why a tree did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ShapeError(pub(crate) String);

impl Node {
    /// A text-only element owning `v`.
    fn text_owned(v: Name) -> Node {
        Node {
            text: Some(v),
            ..Node::default()
        }
    }

    /// A text-only element.
    #[cfg(test)]
    pub(crate) fn text(v: &str) -> Node {
        Node {
            text: Some(Cow::Owned(v.to_owned())),
            ..Node::default()
        }
    }

    /// The first attribute called `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// The `xsi:type` of a polymorphic element, without an `xsd:` prefix. Prefixes are
    /// dropped by the reader, so `xsi:type` arrives as the first `type` attribute; only
    /// call this where the element is known to be polymorphic (a property value, a
    /// device, a fault), never on a bare managed-object reference.
    pub(crate) fn xsi_type(&self) -> Option<&str> {
        self.attr("type").map(strip_prefix)
    }

    /// The managed-object type of a reference: the last `type` attribute (after the
    /// `xsi:type`, when an element carries both).
    pub(crate) fn mor_type(&self) -> Option<&str> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| &**v)
    }

    /// The text, or "" for an empty element.
    pub(crate) fn text_or_empty(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Removes and returns the first child called `name` (no copy of its subtree).
    pub(crate) fn take_child(&mut self, name: &str) -> Option<Node> {
        let i = self.children.iter().position(|(k, _)| *k == name)?;
        Some(self.children.remove(i).1)
    }

    /// Every child called `name`, in order.
    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first child called `name`, or a [`ShapeError`].
    pub(crate) fn req(&self, name: &str) -> Result<&Node, ShapeError> {
        self.child(name)
            .ok_or_else(|| ShapeError(format!("element <{name}> is missing")))
    }

    /// The text of child `name`, when present.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(Node::text_or_empty)
    }

    /// The text of child `name`, or a [`ShapeError`].
    pub(crate) fn req_text(&self, name: &str) -> Result<&str, ShapeError> {
        self.req(name).map(Node::text_or_empty)
    }

    /// The child `name` parsed as a number, when present.
    pub(crate) fn child_num<T: std::str::FromStr>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ShapeError> {
        match self.child_text(name) {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ShapeError(format!("<{name}> is not a number: {t:?}"))),
        }
    }

    /// The child `name` as an `xsd:boolean`, when present.
    pub(crate) fn child_bool(&self, name: &str) -> Result<Option<bool>, ShapeError> {
        match self.child_text(name) {
            None => Ok(None),
            Some(t) => parse_bool(t).map(Some),
        }
    }

    /// The node's own text parsed as a number.
    pub(crate) fn num<T: std::str::FromStr>(&self) -> Result<T, ShapeError> {
        let t = self.text_or_empty().trim();
        t.parse()
            .map_err(|_| ShapeError(format!("{t:?} is not a number")))
    }

    /// The node's own text as an `xsd:boolean`.
    pub(crate) fn boolean(&self) -> Result<bool, ShapeError> {
        parse_bool(self.text_or_empty())
    }
}

fn parse_bool(t: &str) -> Result<bool, ShapeError> {
    match t.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(ShapeError(format!("{other:?} is not a boolean"))),
    }
}

fn strip_prefix(t: &str) -> &str {
    t.rsplit_once(':').map_or(t, |(_, local)| local)
}

/// Parses an XML document into its root element's tree.
///
/// quick-xml's event reader builds the tree directly (its serde deserializer, driven
/// through `deserialize_any`, made the same tree at several times the cost). The tree
/// is the one that deserializer makes, and the differential test below holds it to
/// that: elements and attributes by local name (namespace bindings keep theirs:
/// `xmlns`, `xmlns:xsi`), attribute values and text unescaped, a run of text and CDATA
/// between two tags read as one text, trimmed of the whitespace at its ends that is
/// not CDATA, whitespace-only text dropped, comments and processing instructions
/// skipped, the last text of an element with several kept; reading stops at the end
/// of the root element. A document that is text before any element is that text.
/// Ill-formed XML (mismatched or missing end tags, bad escapes or namespace bindings,
/// duplicate attributes) and a document without an element are errors.
pub(crate) fn parse(xml: &str) -> Result<Node, quick_xml::DeError> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::NsReader::from_str(xml);
    // Each open element, the root first: its name, itself, and where its children
    // start in `pending`.
    let mut open: Vec<(Name, Node, usize)> = Vec::with_capacity(16);
    // The children read so far of every open element, innermost last: each element's
    // children are moved out at its end into a vector of the exact size.
    let mut pending: Vec<(Name, Node)> = Vec::with_capacity(64);
    let mut text = TextRun::default();
    loop {
        let event = reader.read_event()?;
        match event {
            Event::Text(e) => {
                text.text(e)?;
                continue;
            }
            Event::CData(e) => {
                text.cdata(&e)?;
                continue;
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => continue,
            _ => {}
        }
        // Any other event ends a run of text.
        if let Some(t) = text.finish()? {
            match open.last_mut() {
                Some((_, n, _)) => n.text = Some(t),
                None => return Ok(Node::text_owned(t)),
            }
        }
        let done = match event {
            Event::Start(e) => {
                let name = name(e.local_name().into_inner())?;
                open.push((name, element(&e)?, pending.len()));
                continue;
            }
            Event::Empty(e) => (name(e.local_name().into_inner())?, element(&e)?),
            // The reader checks that it closes the innermost open element.
            Event::End(_) => {
                let Some((name, mut n, from)) = open.pop() else {
                    return Err(quick_xml::DeError::UnexpectedEof);
                };
                if from < pending.len() {
                    n.children = pending.drain(from..).collect();
                }
                (name, n)
            }
            Event::Eof => {
                return Err(match open.pop() {
                    Some((name, _, _)) => quick_xml::Error::IllFormed(
                        quick_xml::errors::IllFormedError::MissingEndTag(name.into_owned()),
                    )
                    .into(),
                    None => quick_xml::DeError::UnexpectedEof,
                })
            }
            // A DTD declares nothing this reader uses (entities other than the
            // predefined ones are refused when met).
            _ => continue,
        };
        if open.is_empty() {
            return Ok(done.1);
        }
        pending.push(done);
    }
}

/// An element's attributes, unescaped, by local name (namespace bindings by their
/// own name).
fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, quick_xml::DeError> {
    let mut n = Node::default();
    for a in e.attributes() {
        let a = a.map_err(quick_xml::Error::from)?;
        let key = if a.key.as_namespace_binding().is_some() {
            a.key.into_inner()
        } else {
            a.key.local_name().into_inner()
        };
        let value = match a.unescape_value()? {
            Cow::Borrowed(v) => known(v.as_bytes()).unwrap_or_else(|| Cow::Owned(v.to_owned())),
            Cow::Owned(v) => Cow::Owned(v),
        };
        n.attrs.push((name(key)?, value));
    }
    Ok(n)
}

/// An element or attribute name.
fn name(b: &[u8]) -> Result<Name, quick_xml::DeError> {
    match known(b) {
        Some(n) => Ok(n),
        None => std::str::from_utf8(b)
            .map(|s| Cow::Owned(s.to_owned()))
            .map_err(|e| {
                quick_xml::Error::from(quick_xml::encoding::EncodingError::from(e)).into()
            }),
    }
}

/// The names and attribute values that come back thousands of times in a page of
/// inventory, as static strings.
fn known(b: &[u8]) -> Option<Name> {
    let s: &'static str = match b {
        // The envelope and the PropertyCollector's answer.
        b"Envelope" => "Envelope",
        b"Body" => "Body",
        b"returnval" => "returnval",
        b"token" => "token",
        b"objects" => "objects",
        b"obj" => "obj",
        b"propSet" => "propSet",
        b"missingSet" => "missingSet",
        b"name" => "name",
        b"val" => "val",
        b"path" => "path",
        b"fault" => "fault",
        b"key" => "key",
        b"value" => "value",
        b"ManagedObjectReference" => "ManagedObjectReference",
        // Guest NICs (`guest.net`), devices and port settings.
        b"GuestNicInfo" => "GuestNicInfo",
        b"network" => "network",
        b"ipAddress" => "ipAddress",
        b"macAddress" => "macAddress",
        b"connected" => "connected",
        b"deviceConfigId" => "deviceConfigId",
        b"ipConfig" => "ipConfig",
        b"prefixLength" => "prefixLength",
        b"state" => "state",
        b"VirtualDevice" => "VirtualDevice",
        b"deviceInfo" => "deviceInfo",
        b"label" => "label",
        b"summary" => "summary",
        b"backing" => "backing",
        b"controllerKey" => "controllerKey",
        b"unitNumber" => "unitNumber",
        b"fileName" => "fileName",
        b"datastore" => "datastore",
        b"vlan" => "vlan",
        b"vlanId" => "vlanId",
        b"inherited" => "inherited",
        // Attributes and their usual values.
        b"type" => "type",
        b"xmlns" => "xmlns",
        b"xmlns:xsi" => "xmlns:xsi",
        b"xmlns:xsd" => "xmlns:xsd",
        b"urn:vim25" => "urn:vim25",
        b"xsd:string" => "xsd:string",
        b"xsd:int" => "xsd:int",
        b"xsd:long" => "xsd:long",
        b"xsd:boolean" => "xsd:boolean",
        b"xsd:dateTime" => "xsd:dateTime",
        b"ArrayOfManagedObjectReference" => "ArrayOfManagedObjectReference",
        b"ArrayOfGuestNicInfo" => "ArrayOfGuestNicInfo",
        b"ArrayOfVirtualDevice" => "ArrayOfVirtualDevice",
        b"VirtualMachine" => "VirtualMachine",
        b"VirtualMachinePowerState" => "VirtualMachinePowerState",
        b"Datastore" => "Datastore",
        b"ResourcePool" => "ResourcePool",
        b"Network" => "Network",
        b"DistributedVirtualPortgroup" => "DistributedVirtualPortgroup",
        // Texts: the property paths this crate reads (`propSet/name`) and the
        // values of booleans and power states.
        b"config.template" => "config.template",
        b"config.hardware.numCPU" => "config.hardware.numCPU",
        b"config.hardware.memoryMB" => "config.hardware.memoryMB",
        b"config.hardware.device" => "config.hardware.device",
        b"config.guestId" => "config.guestId",
        b"config.createDate" => "config.createDate",
        b"runtime.powerState" => "runtime.powerState",
        b"guest.net" => "guest.net",
        b"resourcePool" => "resourcePool",
        b"parent" => "parent",
        b"owner" => "owner",
        b"summary.accessible" => "summary.accessible",
        b"true" => "true",
        b"false" => "false",
        b"poweredOn" => "poweredOn",
        b"poweredOff" => "poweredOff",
        b"suspended" => "suspended",
        _ => return None,
    };
    Some(Cow::Borrowed(s))
}

/// Consecutive text and CDATA events (comments between them skipped), read as one
/// text the way quick-xml's deserializer reads them: leading whitespace trimmed from
/// a text right after a tag (dropped when nothing is left), trailing whitespace from
/// a text right before one; CDATA kept as is.
#[derive(Default)]
struct TextRun<'a> {
    /// The decoded text before `last`, once the run has started.
    done: Option<String>,
    /// The run's last text event, not yet trimmed at its end.
    last: Option<quick_xml::events::BytesText<'a>>,
    /// Whether the next text follows another text or CDATA (so keeps its leading
    /// whitespace).
    in_run: bool,
}

impl<'a> TextRun<'a> {
    fn text(&mut self, mut e: quick_xml::events::BytesText<'a>) -> Result<(), quick_xml::DeError> {
        if !self.in_run && e.inplace_trim_start() {
            return Ok(());
        }
        self.in_run = true;
        self.flush_last()?;
        self.last = Some(e);
        Ok(())
    }

    fn cdata(&mut self, e: &quick_xml::events::BytesCData<'_>) -> Result<(), quick_xml::DeError> {
        self.in_run = true;
        self.flush_last()?;
        let d = e.decode()?;
        self.done.get_or_insert_with(String::new).push_str(&d);
        Ok(())
    }

    /// Moves `last`, untrimmed (a text or CDATA follows it), into `done`.
    fn flush_last(&mut self) -> Result<(), quick_xml::DeError> {
        if let Some(e) = self.last.take() {
            let d = e.unescape()?;
            match &mut self.done {
                Some(s) => s.push_str(&d),
                None => self.done = Some(d.into_owned()),
            }
        }
        Ok(())
    }

    /// Ends the run (a tag follows): its text, if any.
    fn finish(&mut self) -> Result<Option<Name>, quick_xml::DeError> {
        self.in_run = false;
        let Some(mut e) = self.last.take() else {
            return Ok(self.done.take().map(Cow::Owned));
        };
        let empty = e.inplace_trim_end();
        match self.done.take() {
            // A lone text that trims to nothing is no text at all.
            None if empty => Ok(None),
            None => Ok(Some(match e.unescape()? {
                Cow::Borrowed(t) => known(t.as_bytes()).unwrap_or_else(|| Cow::Owned(t.to_owned())),
                Cow::Owned(t) => Cow::Owned(t),
            })),
            Some(mut s) => {
                s.push_str(&e.unescape()?);
                Ok(Some(Cow::Owned(s)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_duplicates_attributes_and_text() {
        let n = parse(
            r#"<r xmlns:xsi="x"><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Network">n1</ManagedObjectReference><x>1</x><ManagedObjectReference type="Network">n2 &amp; 3</ManagedObjectReference></val></r>"#,
        )
        .unwrap();
        let val = n.child("val").unwrap();
        assert_eq!(val.xsi_type(), Some("ArrayOfManagedObjectReference"));
        let refs: Vec<&str> = val
            .children_named("ManagedObjectReference")
            .map(Node::text_or_empty)
            .collect();
        assert_eq!(refs, vec!["n1", "n2 & 3"]);
        assert_eq!(val.child_num::<u32>("x").unwrap(), Some(1));
    }

    #[test]
    fn xsi_type_and_mor_type_on_one_element() {
        let n = parse(r#"<r><result xmlns:xsi="x" xsi:type="ManagedObjectReference" type="VirtualMachine">vm-7</result></r>"#).unwrap();
        let r = n.child("result").unwrap();
        assert_eq!(r.xsi_type(), Some("ManagedObjectReference"));
        assert_eq!(r.mor_type(), Some("VirtualMachine"));
        let s = parse(r#"<r><v xmlns:xsi="x" xsi:type="xsd:string">a</v></r>"#).unwrap();
        assert_eq!(s.child("v").unwrap().xsi_type(), Some("string"));
    }

    /// What quick-xml's serde deserializer makes of `doc` (the reference).
    fn by_serde(doc: &str) -> Result<Node, quick_xml::DeError> {
        quick_xml::de::from_str(doc)
    }

    fn same_as_serde(doc: &str) {
        match (parse(doc), by_serde(doc)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{doc:?}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{doc:?}: event reader {a:?}, serde {b:?}"),
        }
    }

    #[test]
    fn the_tree_is_the_one_serde_made() {
        let docs = [
            r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="x"><soapenv:Body>
  <R xmlns="urn:vim25"><returnval><name>  spaced name  </name><v xsi:type="xsd:string"></v><e/></returnval></R>
</soapenv:Body></soapenv:Envelope>"#,
            "<a>x &amp; y &#65;<b/>tail</a>",
            "<a>  lead<![CDATA[ in cdata ]]>  trail  </a>",
            "<a><![CDATA[]]></a>",
            "<a>  <!-- c -->  </a>",
            "<a> one <!-- c --> two </a>",
            "<a>x<?pi y?>z</a>",
            r#"<a p:k="1 &lt; 2" xmlns:p="u" k2='v'><b   /></a>"#,
            "<!DOCTYPE a><a>t</a>",
            "  text before  ",
            "<a/><b/>",
            "<a>t</a> trailing",
            "",
            "   ",
            "<a><b></a>",
            "<a><b>text",
            "<a x=\"1\" x=\"2\"/>",
            "<a>&bogus;</a>",
            "<a x=\"&bogus;\"/>",
            "<a xmlns:xml=\"other\"/>",
            "</a>",
            "<a>\u{e9}\u{4e2d}</a>",
            "<a:b:c>t</a:b:c>",
        ];
        for d in docs {
            same_as_serde(d);
        }
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures"
        ))];
        let mut seen = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "xml") {
                    continue;
                }
                let doc = std::fs::read_to_string(&path).unwrap();
                same_as_serde(&doc);
                // Cut anywhere: the same tree or an error on both sides.
                for cut in (0..doc.len())
                    .step_by(97)
                    .filter(|&c| doc.is_char_boundary(c))
                {
                    same_as_serde(&doc[..cut]);
                }
                seen += 1;
            }
        }
        assert!(seen >= 70, "{seen} fixtures");
    }

    #[test]
    fn malformed_and_truncated_are_errors_not_panics() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a><b>text").is_err());
        assert!(parse("").is_err());
        let n = parse("<a><n>x1</n><b>maybe</b></a>").unwrap();
        assert!(n.child_num::<u32>("n").is_err());
        assert!(n.child_bool("b").is_err());
        assert!(n.req("missing").is_err());
    }
}
