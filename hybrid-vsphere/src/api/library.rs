//! vAPI content-library calls (`content.library`, `content.local_library`, library
//! items, their files, update and download sessions) and OVF deployment
//! (`vcenter.ovf.library_item`). One function per call; each builds the `/api` or
//! `/rest` form of its request.

use std::time::Duration;

use serde_json::json;

use hybrid_core::Result;

use crate::protocol::vapi::{
    DeployRequest, DeploymentResult, DownloadFileInfo, FileAddSpec, FilterRequest, Flavour,
    ItemCreateSpec, ItemFile, ItemModel, LibraryModel, LocalLibraryCreateSpec, OvfSummary,
    UpdateFileInfo, UpdateSessionCreateSpec, UpdateSessionModel, ValidationResult,
};
use crate::vapi::{Call, Vapi};

use super::seg;

/// How long an OVF deployment may take: the call blocks until the VM exists.
pub(crate) const DEPLOY_TIMEOUT: Duration = Duration::from_secs(3600);

fn content(f: Flavour, what: &str) -> String {
    match f {
        Flavour::Api => format!("/api/content/{what}"),
        Flavour::Rest => format!("/rest/com/vmware/content/{what}"),
    }
}

fn one(f: Flavour, what: &str, id: &str) -> String {
    match f {
        Flavour::Api => format!("{}/{}", content(f, what), seg(id)),
        Flavour::Rest => format!("{}/id:{}", content(f, what), seg(id)),
    }
}

fn action(f: Flavour, path: String, action: &str) -> String {
    match f {
        Flavour::Api => format!("{path}?action={action}"),
        Flavour::Rest => format!("{path}?~action={action}"),
    }
}

/// A create body: bare on `/api`, `{"create_spec": …}` on `/rest`.
fn create_body<T: serde::Serialize>(f: Flavour, call: Call, spec: &T) -> Result<Call> {
    match f {
        Flavour::Api => call.json(spec),
        Flavour::Rest => call.json(&json!({ "create_spec": spec })),
    }
}

/// `GET …/library`: every library id.
pub(crate) async fn list_libraries(v: &Vapi) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    v.call_list(Call::get(content(f, "library"), "list content libraries"))
        .await
}

/// `GET …/library/{id}`.
pub(crate) async fn get_library(v: &Vapi, id: &str) -> Result<LibraryModel> {
    let f = v.flavour().await?;
    v.call_some(Call::get(one(f, "library", id), "get content library"))
        .await
}

/// `POST …/local-library`: the new library's id.
pub(crate) async fn create_local_library(
    v: &Vapi,
    spec: &LocalLibraryCreateSpec,
) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(content(f, "local-library"), "create content library");
    v.call_some(create_body(f, call, spec)?).await
}

/// `DELETE …/local-library/{id}` (its items go with it).
pub(crate) async fn delete_local_library(v: &Vapi, id: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(
        one(f, "local-library", id),
        "delete content library",
    ))
    .await
}

/// `GET …/library/item?library_id=`: the item ids of a library.
pub(crate) async fn list_items(v: &Vapi, library: &str) -> Result<Vec<String>> {
    let f = v.flavour().await?;
    v.call_list(
        Call::get(content(f, "library/item"), "list library items").query("library_id", library),
    )
    .await
}

/// `GET …/library/item/{id}`.
pub(crate) async fn get_item(v: &Vapi, id: &str) -> Result<ItemModel> {
    let f = v.flavour().await?;
    v.call_some(Call::get(one(f, "library/item", id), "get library item"))
        .await
}

/// `POST …/library/item`: the new item's id.
pub(crate) async fn create_item(v: &Vapi, spec: &ItemCreateSpec) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(content(f, "library/item"), "create library item");
    v.call_some(create_body(f, call, spec)?).await
}

/// `DELETE …/library/item/{id}`.
pub(crate) async fn delete_item(v: &Vapi, id: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(
        one(f, "library/item", id),
        "delete library item",
    ))
    .await
}

/// The files of an item: `GET /api/content/library/item/{id}/file`, or
/// `GET /rest/com/vmware/content/library/item/file?library_item_id=`.
pub(crate) async fn list_item_files(v: &Vapi, item: &str) -> Result<Vec<ItemFile>> {
    let f = v.flavour().await?;
    let call = match f {
        Flavour::Api => Call::get(
            format!("{}/file", one(f, "library/item", item)),
            "list library item files",
        ),
        Flavour::Rest => Call::get(content(f, "library/item/file"), "list library item files")
            .query("library_item_id", item),
    };
    v.call_list(call).await
}

/// `POST …/library/item/update-session`: a new update session's id.
pub(crate) async fn create_update_session(v: &Vapi, item: &str) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(
        content(f, "library/item/update-session"),
        "create update session",
    );
    let spec = UpdateSessionCreateSpec {
        library_item_id: item.to_owned(),
    };
    v.call_some(create_body(f, call, &spec)?).await
}

/// `GET …/library/item/update-session/{id}`.
pub(crate) async fn get_update_session(v: &Vapi, session: &str) -> Result<UpdateSessionModel> {
    let f = v.flavour().await?;
    v.call_some(Call::get(
        one(f, "library/item/update-session", session),
        "get update session",
    ))
    .await
}

/// Adds a file to an update session: `POST /api/…/update-session/{s}/file`, or
/// `POST /rest/…/updatesession/file/id:{s}?~action=add` with `{"file_spec": …}`.
pub(crate) async fn add_file(
    v: &Vapi,
    session: &str,
    spec: &FileAddSpec,
) -> Result<UpdateFileInfo> {
    let f = v.flavour().await?;
    let call = match f {
        Flavour::Api => Call::post(
            format!("{}/file", one(f, "library/item/update-session", session)),
            "add file to update session",
        )
        .json(spec)?,
        Flavour::Rest => Call::post(
            action(f, one(f, "library/item/updatesession/file", session), "add"),
            "add file to update session",
        )
        .json(&json!({ "file_spec": spec }))?,
    };
    v.call_some(call).await
}

/// The files of an update session with their transfer status.
pub(crate) async fn list_session_files(v: &Vapi, session: &str) -> Result<Vec<UpdateFileInfo>> {
    let f = v.flavour().await?;
    let call = match f {
        Flavour::Api => Call::get(
            format!("{}/file", one(f, "library/item/update-session", session)),
            "list update session files",
        ),
        Flavour::Rest => Call::get(
            content(f, "library/item/updatesession/file"),
            "list update session files",
        )
        .query("update_session_id", session),
    };
    v.call_list(call).await
}

/// Validates the files of an update session. `None` when the vCenter answered no
/// result (vcsim 0.24.2 answers an empty body; see DEVIATIONS.md).
pub(crate) async fn validate(v: &Vapi, session: &str) -> Result<Option<ValidationResult>> {
    let f = v.flavour().await?;
    let path = match f {
        Flavour::Api => action(
            f,
            format!("{}/file", one(f, "library/item/update-session", session)),
            "validate",
        ),
        Flavour::Rest => action(
            f,
            one(f, "library/item/updatesession/file", session),
            "validate",
        ),
    };
    v.call(Call::post(path, "validate update session").read_only())
        .await
}

/// Completes an update session: the item's content becomes the uploaded files.
pub(crate) async fn complete(v: &Vapi, session: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::post(
        action(
            f,
            one(f, "library/item/update-session", session),
            "complete",
        ),
        "complete update session",
    ))
    .await
}

/// Fails an update session with the client's reason (the upload is dropped).
pub(crate) async fn fail(v: &Vapi, session: &str, message: &str) -> Result<()> {
    let f = v.flavour().await?;
    let call = Call::post(
        action(f, one(f, "library/item/update-session", session), "fail"),
        "fail update session",
    )
    .json(&json!({ "client_error_message": message }))?;
    v.call_unit(call).await
}

/// `DELETE …/library/item/update-session/{id}`.
pub(crate) async fn delete_update_session(v: &Vapi, session: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(
        one(f, "library/item/update-session", session),
        "delete update session",
    ))
    .await
}

/// `POST …/library/item/download-session`: a new download session's id.
pub(crate) async fn create_download_session(v: &Vapi, item: &str) -> Result<String> {
    let f = v.flavour().await?;
    let call = Call::post(
        content(f, "library/item/download-session"),
        "create download session",
    );
    let spec = UpdateSessionCreateSpec {
        library_item_id: item.to_owned(),
    };
    v.call_some(create_body(f, call, &spec)?).await
}

/// Asks the vCenter to prepare `file` of a download session for an HTTPS download.
pub(crate) async fn prepare_file(v: &Vapi, session: &str, file: &str) -> Result<DownloadFileInfo> {
    let f = v.flavour().await?;
    let path = match f {
        Flavour::Api => action(
            f,
            format!("{}/file", one(f, "library/item/download-session", session)),
            "prepare",
        ),
        Flavour::Rest => action(
            f,
            one(f, "library/item/downloadsession/file", session),
            "prepare",
        ),
    };
    let call = Call::post(path, "prepare download file")
        .json(&json!({ "file_name": file, "endpoint_type": "HTTPS" }))?;
    v.call_some(call).await
}

/// The status of `file` in a download session.
pub(crate) async fn get_download_file(
    v: &Vapi,
    session: &str,
    file: &str,
) -> Result<DownloadFileInfo> {
    let f = v.flavour().await?;
    let call = match f {
        Flavour::Api => Call::get(
            format!("{}/file", one(f, "library/item/download-session", session)),
            "get download file",
        )
        .query("file_name", file),
        Flavour::Rest => Call::post(
            action(
                f,
                one(f, "library/item/downloadsession/file", session),
                "get",
            ),
            "get download file",
        )
        .json(&json!({ "file_name": file }))?
        .read_only(),
    };
    v.call_some(call).await
}

/// `DELETE …/library/item/download-session/{id}`.
pub(crate) async fn delete_download_session(v: &Vapi, session: &str) -> Result<()> {
    let f = v.flavour().await?;
    v.call_unit(Call::delete(
        one(f, "library/item/download-session", session),
        "delete download session",
    ))
    .await
}

fn ovf(f: Flavour, item: &str, act: &str) -> String {
    match f {
        Flavour::Api => format!("/api/vcenter/ovf/library-item/{}?action={act}", seg(item)),
        Flavour::Rest => format!(
            "/rest/com/vmware/vcenter/ovf/library-item/id:{}?~action={act}",
            seg(item)
        ),
    }
}

/// `ovf/library-item/{item}?action=filter`: what deploying the OVF item needs.
pub(crate) async fn ovf_filter(v: &Vapi, item: &str, req: &FilterRequest) -> Result<OvfSummary> {
    let f = v.flavour().await?;
    let call = Call::post(ovf(f, item, "filter"), "inspect OVF item").json(req)?;
    Ok(v.call(call.read_only()).await?.unwrap_or_default())
}

/// `ovf/library-item/{item}?action=deploy`: deploys the OVF item (blocks until the
/// VM exists; a failed deployment can still answer HTTP 200 with `succeeded` false).
pub(crate) async fn ovf_deploy(
    v: &Vapi,
    item: &str,
    req: &DeployRequest,
) -> Result<DeploymentResult> {
    let f = v.flavour().await?;
    let call = Call::post(ovf(f, item, "deploy"), "deploy OVF item")
        .json(req)?
        .timeout(DEPLOY_TIMEOUT);
    v.call_some(call).await
}
