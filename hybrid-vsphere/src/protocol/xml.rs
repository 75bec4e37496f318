//! A generic XML element tree read through quick-xml's serde deserializer.
//!
//! vim25 answers are polymorphic (`xsi:type`) and property values are `anyType`, so
//! responses are first read into [`Node`]s (quick-xml does all parsing; namespace
//! prefixes are dropped, so `xsi:type` and `type` both arrive as `type`), and the
//! typed views in [`super::types`] are read from those trees. Reading a tree never
//! panics: a missing or malformed piece is an `Err` naming the path.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// One XML element: attributes (prefixes dropped), text, and child elements in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: Option<String>,
    pub(crate) children: Vec<(String, Node)>,
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
                    text: Some(v),
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
                        n.attrs.push((attr.to_owned(), v));
                    } else if key == "$text" || key == "$value" {
                        let v: String = map.next_value()?;
                        n.text = Some(v);
                    } else {
                        let v: Node = map.next_value()?;
                        n.children.push((key, v));
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
    /// A text-only element.
    pub(crate) fn text(v: &str) -> Node {
        Node {
            text: Some(v.to_owned()),
            ..Node::default()
        }
    }

    /// The first attribute called `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
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
            .map(|(_, v)| v.as_str())
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
pub(crate) fn parse(xml: &str) -> Result<Node, quick_xml::DeError> {
    quick_xml::de::from_str(xml)
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
