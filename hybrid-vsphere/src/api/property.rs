//! `ViewManager.CreateContainerView`, `View.DestroyView` and the PropertyCollector's
//! `RetrievePropertiesEx` and `ContinueRetrievePropertiesEx`.

use hybrid_core::Result;

use crate::error::shape_error;
use crate::protocol::requests::{
    CreateContainerView, ObjectSpec, PropertyFilterSpec, PropertySpec, RetrieveOptions,
    RetrievePropertiesEx, This, TokenCall, TraversalSpec, VIM25_NS,
};
use crate::protocol::types::{Mor, RetrieveResult};
use crate::session::Session;
use crate::transport::Idempotency;

use super::returned_mor;

/// What to read: objects of `kind` with `paths`, from a container view or given objects.
#[derive(Debug, Clone)]
pub(crate) enum Source<'a> {
    /// Everything in a container view.
    View(&'a Mor),
    /// These objects.
    Objects(&'a [Mor]),
}

/// `CreateContainerView` over `container` for `types`, recursively.
pub(crate) async fn create_container_view(
    s: &Session,
    container: &Mor,
    types: &[&str],
) -> Result<Mor> {
    const M: &str = "CreateContainerView";
    let vm = s.content.view_manager.as_ref().ok_or_else(|| {
        hybrid_core::Error::new(
            hybrid_core::ErrorKind::Unsupported,
            "this endpoint has no ViewManager",
        )
    })?;
    let body = CreateContainerView {
        xmlns: VIM25_NS,
        _this: vm,
        container,
        types: types.to_vec(),
        recursive: true,
    };
    let resp = s.invoke(M, &body, Idempotency::Mutating).await?;
    returned_mor(M, &resp)
}

/// `DestroyView`.
pub(crate) async fn destroy_view(s: &Session, view: &Mor) -> Result<()> {
    s.invoke("DestroyView", &This::new(view), Idempotency::Mutating)
        .await
        .map(drop)
}

pub(crate) fn read_result(
    method: &str,
    mut resp: crate::protocol::xml::Node,
) -> Result<RetrieveResult> {
    match resp.take_child("returnval") {
        // An empty result has no returnval at all.
        None => Ok(RetrieveResult::default()),
        Some(rv) => RetrieveResult::from_node(rv).map_err(|e| shape_error(method, e)),
    }
}

/// `RetrievePropertiesEx` reading, for each `(type, paths)` of `specs`, those paths of
/// the objects of that type (or a subtype), at most `max_objects` per page.
pub(crate) async fn retrieve_properties_ex(
    s: &Session,
    specs: &[(&str, &[&str])],
    source: Source<'_>,
    max_objects: Option<u32>,
) -> Result<RetrieveResult> {
    const M: &str = "RetrievePropertiesEx";
    let object_set = match source {
        Source::View(view) => vec![ObjectSpec {
            obj: view,
            skip: Some(true),
            select_set: vec![TraversalSpec {
                xsi_type: "TraversalSpec",
                kind: "ContainerView",
                path: "view",
                skip: false,
            }],
        }],
        Source::Objects(objs) => objs
            .iter()
            .map(|o| ObjectSpec {
                obj: o,
                skip: None,
                select_set: Vec::new(),
            })
            .collect(),
    };
    let body = RetrievePropertiesEx {
        xmlns: VIM25_NS,
        _this: s.property_collector(),
        spec_set: vec![PropertyFilterSpec {
            prop_set: specs
                .iter()
                .map(|(kind, paths)| PropertySpec {
                    kind,
                    path_set: paths.to_vec(),
                })
                .collect(),
            object_set,
        }],
        options: RetrieveOptions { max_objects },
    };
    let resp = s.invoke(M, &body, Idempotency::ReadOnly).await?;
    read_result(M, resp)
}

/// `ContinueRetrievePropertiesEx` with a token from an earlier page.
pub(crate) async fn continue_retrieve_properties_ex(
    s: &Session,
    token: &str,
) -> Result<RetrieveResult> {
    const M: &str = "ContinueRetrievePropertiesEx";
    let body = TokenCall {
        xmlns: VIM25_NS,
        _this: s.property_collector(),
        token,
    };
    let resp = s.invoke(M, &body, Idempotency::ReadOnly).await?;
    read_result(M, resp)
}
