//! vAPI tagging calls (`cis.tagging`): categories, tags, tag associations. One function
//! per call; each builds the `/api` or `/rest` form of its request.

use serde_json::json;

use hybrid_core::Result;

use crate::protocol::vapi::{
    CategoryCreateSpec, CategoryModel, DynamicId, Flavour, ObjectToTags, TagCreateSpec, TagModel,
};
use crate::vapi::{Call, Vapi};

use super::seg;

fn base(f: Flavour, what: &str) -> String {
    match f {
        Flavour::Api => format!("/api/cis/tagging/{what}"),
        Flavour::Rest => format!("/rest/com/vmware/cis/tagging/{what}"),
    }
}

fn one(f: Flavour, what: &str, id: &str) -> String {
    match f {
        Flavour::Api => format!("{}/{}", base(f, what), seg(id)),
        Flavour::Rest => format!("{}/id:{}", base(f, what), seg(id)),
    }
}

fn action(f: Flavour, path: String, action: &str) -> String {
    match f {
        Flavour::Api => format!("{path}?action={action}"),
        Flavour::Rest => format!("{path}?~action={action}"),
    }
}

/// `GET …/category`: every category id.
pub(crate) async fn list_categories(v: &Vapi) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    v.call_list(Call::get(base(f, "category"), "list tag categories"))
        .await
}

/// `GET …/category/{id}`.
pub(crate) async fn get_category(v: &Vapi, id: &str) -> Result<CategoryModel> {
    let f = v.flavour().await?;
    v.call_some(Call::get(one(f, "category", id), "get tag category"))
        .await
}

/// `POST …/category`: the new category's id.
pub(crate) async fn create_category(v: &Vapi, spec: &CategoryCreateSpec) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(base(f, "category"), "create tag category");
    let call = match f {
        Flavour::Api => call.json(spec)?,
        Flavour::Rest => call.json(&json!({ "create_spec": spec }))?,
    };
    v.call_some(call).await
}

/// `DELETE …/category/{id}` (its tags go with it).
pub(crate) async fn delete_category(v: &Vapi, id: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(one(f, "category", id), "delete tag category"))
        .await
}

/// `GET …/tag`: every tag id.
pub(crate) async fn list_tags(v: &Vapi) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    v.call_list(Call::get(base(f, "tag"), "list tags")).await
}

/// `list-tags-for-category`: the tag ids of `category`.
pub(crate) async fn list_tags_for_category(v: &Vapi, category: &str) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    let call = match f {
        Flavour::Api => Call::post(
            action(f, base(f, "tag"), "list-tags-for-category"),
            "list tags of a category",
        )
        .json(&json!({ "category_id": category }))?,
        Flavour::Rest => Call::post(
            action(f, one(f, "tag", category), "list-tags-for-category"),
            "list tags of a category",
        ),
    };
    v.call_list(call.read_only()).await
}

/// `GET …/tag/{id}`.
pub(crate) async fn get_tag(v: &Vapi, id: &str) -> Result<TagModel> {
    let f = v.flavour().await?;
    v.call_some(Call::get(one(f, "tag", id), "get tag")).await
}

/// `POST …/tag`: the new tag's id.
pub(crate) async fn create_tag(v: &Vapi, spec: &TagCreateSpec) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(base(f, "tag"), "create tag");
    let call = match f {
        Flavour::Api => call.json(spec)?,
        Flavour::Rest => call.json(&json!({ "create_spec": spec }))?,
    };
    v.call_some(call).await
}

/// `DELETE …/tag/{id}`.
pub(crate) async fn delete_tag(v: &Vapi, id: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(one(f, "tag", id), "delete tag"))
        .await
}

/// `tag-association/{tag}?action=attach` (attaching twice is not an error).
pub(crate) async fn attach(v: &Vapi, tag: &str, object: &DynamicId) -> Result<()> {
    let f = v.flavour().await?;
    let call = Call::post(
        action(f, one(f, "tag-association", tag), "attach"),
        "attach tag",
    )
    .json(&json!({ "object_id": object }))?;
    v.call_unit(call.read_only()).await
}

/// `tag-association/{tag}?action=detach`.
pub(crate) async fn detach(v: &Vapi, tag: &str, object: &DynamicId) -> Result<()> {
    let f = v.flavour().await?;
    let call = Call::post(
        action(f, one(f, "tag-association", tag), "detach"),
        "detach tag",
    )
    .json(&json!({ "object_id": object }))?;
    v.call_unit(call.read_only()).await
}

/// `tag-association?action=list-attached-tags`: the tag ids on `object`.
pub(crate) async fn list_attached_tags(v: &Vapi, object: &DynamicId) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    let call = Call::post(
        action(f, base(f, "tag-association"), "list-attached-tags"),
        "list attached tags",
    )
    .json(&json!({ "object_id": object }))?;
    v.call_list(call.read_only()).await
}

/// `tag-association?action=list-attached-tags-on-objects`: the tag ids of many
/// objects in one call.
pub(crate) async fn list_attached_tags_on_objects(
    v: &Vapi,
    objects: &[DynamicId],
) -> Result<Vec<ObjectToTags>> {
    let f = v.flavour().await?;
    let call = Call::post(
        action(
            f,
            base(f, "tag-association"),
            "list-attached-tags-on-objects",
        ),
        "list attached tags of objects",
    )
    .json(&json!({ "object_ids": objects }))?;
    v.call_list(call.read_only()).await
}

/// `tag-association/{tag}?action=list-attached-objects`: the objects carrying `tag`.
pub(crate) async fn list_attached_objects(v: &Vapi, tag: &str) -> Result<Vec<DynamicId>> {
    let f = v.flavour().await?;
    // The operation takes no body, but vcsim 0.24.2 answers 400 to a POST without a
    // JSON one (DEVIATIONS.md): an empty object is sent, which vCenter ignores.
    let call = Call::post(
        action(f, one(f, "tag-association", tag), "list-attached-objects"),
        "list objects of a tag",
    )
    .json(&json!({}))?;
    v.call_list(call.read_only()).await
}
