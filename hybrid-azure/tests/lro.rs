//! Long-running operations: every way ARM answers a write, followed to its end.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hybrid_azure::api;
use hybrid_azure::api::compute::VmAction;
use hybrid_azure::ids::ResourceId;
use hybrid_azure::lro::{self, Lro};
use hybrid_core::{ErrorKind, Operation, Result};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const VM_VERSION: &str = "2024-07-01";

fn vm_id() -> ResourceId {
    ResourceId::parse(&rg_id("Microsoft.Compute/virtualMachines/vm1")).unwrap()
}

fn vm_doc(state: &str) -> Value {
    json!({"id": rg_id("Microsoft.Compute/virtualMachines/vm1"), "name": "vm1", "location": LOC,
           "properties": {"provisioningState": state, "hardwareProfile": {"vmSize": "Standard_B1s"}}})
}

/// The progress reports seen: status and percent.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<u8>)>>>;

fn follow(lro: Lro) -> (Operation<Option<Value>>, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let op = lro::operation("test".into(), "vm1".into(), lro, |v| async move { Ok(v) })
        .with_options(fast_wait())
        .on_progress(move |p| s2.lock().unwrap().push((p.status.clone(), p.percent)));
    (op, seen)
}

async fn status_mock(server: &MockServer, op_path: &str, bodies: Vec<Value>) {
    for (i, b) in bodies.iter().enumerate() {
        let last = i + 1 == bodies.len();
        let m = arm("GET", op_path, &v("2024-07-01"))
            .respond_with(ok(200, b.clone()).insert_header("retry-after", "0"))
            .with_priority((i + 1) as u8);
        let m = if last { m } else { m.up_to_n_times(1) };
        m.mount(server).await;
    }
}

async fn put_vm(server: &MockServer, response: ResponseTemplate) -> Result<Lro> {
    arm(
        "PUT",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM_VERSION),
    )
    .respond_with(response)
    .expect(1)
    .mount(server)
    .await;
    let p = hybrid_azure::AzureProvider::new(config(&server.uri())).unwrap();
    api::compute::create_or_update_vm(p.arm(), &vm_id(), &json!({"location": LOC})).await
}

#[tokio::test]
async fn async_operation_polled_to_succeeded() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let op_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/op-1");
    let op_url = format!("{}{op_path}?api-version=2024-07-01", server.uri());
    status_mock(
        &server,
        &op_path,
        vec![
            json!({"status": "InProgress", "percentComplete": 10}),
            json!({"status": "InProgress", "percentComplete": 60.5}),
            json!({"status": "Succeeded", "startTime": "2024-01-01T00:00:00Z"}),
        ],
    )
    .await;
    arm(
        "GET",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM_VERSION),
    )
    .respond_with(ok(200, vm_doc("Succeeded")))
    .expect(1)
    .mount(&server)
    .await;
    let lro = put_vm(
        &server,
        ok(201, vm_doc("Creating"))
            .insert_header("azure-asyncoperation", op_url.as_str())
            .insert_header("retry-after", "0"),
    )
    .await
    .unwrap();
    let (op, seen) = follow(lro);
    let v = op.await.unwrap().unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(received(&server, "GET", &op_path).await.len(), 3);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (Some("Accepted".into()), None),
            (Some("InProgress".into()), Some(10)),
            (Some("InProgress".into()), Some(60))
        ]
    );
}

#[tokio::test]
async fn async_operation_polled_to_failed() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let op_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/op-2");
    let op_url = format!("{}{op_path}?api-version=2024-07-01", server.uri());
    status_mock(
        &server,
        &op_path,
        vec![
            json!({"status": "InProgress"}),
            json!({"status": "Failed", "error": {"code": "OSProvisioningTimedOut", "message": "OS Provisioning did not finish in the allotted time."}}),
        ],
    )
    .await;
    let lro = put_vm(
        &server,
        ok(201, vm_doc("Creating")).insert_header("Azure-AsyncOperation", op_url.as_str()),
    )
    .await
    .unwrap();
    let e = follow(lro).0.await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OperationFailed);
    assert_eq!(
        e.message(),
        "create server vm1 ended Failed: OSProvisioningTimedOut: OS Provisioning did not finish in the allotted time."
    );
    assert_eq!(
        received(
            &server,
            "GET",
            &rg_path("Microsoft.Compute/virtualMachines/vm1")
        )
        .await
        .len(),
        0
    );
}

#[tokio::test]
async fn async_operation_polled_to_canceled() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let op_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/op-3");
    let op_url = format!("{}{op_path}?api-version=2024-07-01", server.uri());
    status_mock(&server, &op_path, vec![json!({"status": "Canceled"})]).await;
    let lro = put_vm(
        &server,
        ok(201, vm_doc("Creating")).insert_header("azure-asyncoperation", op_url.as_str()),
    )
    .await
    .unwrap();
    let e = follow(lro).0.await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert_eq!(e.message(), "create server vm1 ended Canceled");
}

#[tokio::test]
async fn accepted_with_location_polled_until_done() {
    let (server, p) = setup().await;
    let loc_path = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/del-1"
    );
    let loc_url = format!(
        "{}{loc_path}?monitor=true&api-version=2024-07-01",
        server.uri()
    );
    arm(
        "DELETE",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM_VERSION),
    )
    .and(NoBody)
    .respond_with(
        ResponseTemplate::new(202)
            .insert_header("location", loc_url.as_str())
            .insert_header("retry-after", "0"),
    )
    .expect(1)
    .mount(&server)
    .await;
    let q = [("monitor", "true"), ("api-version", "2024-07-01")];
    arm("GET", &loc_path, &q)
        .respond_with(ResponseTemplate::new(202).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &loc_path, &q)
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&server)
        .await;
    let lro = api::compute::delete_vm(p.arm(), &vm_id()).await.unwrap();
    let done = follow(lro).0.await.unwrap();
    assert_eq!(done, None);
    assert_eq!(received(&server, "GET", &loc_path).await.len(), 3);

    // A POST action whose Location ends with 200 and a body.
    let act = format!("{}/start", rg_path("Microsoft.Compute/virtualMachines/vm1"));
    let loc2 = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/start-1"
    );
    arm("POST", &act, &v(VM_VERSION))
        .and(NoBody)
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("Location", format!("{}{loc2}", server.uri()).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    arm("GET", &loc2, &[])
        .respond_with(ok(200, json!({"done": true})))
        .expect(1)
        .mount(&server)
        .await;
    let lro = api::compute::vm_action(p.arm(), &vm_id(), VmAction::Start)
        .await
        .unwrap();
    assert_eq!(follow(lro).0.await.unwrap(), Some(json!({"done": true})));
}

#[tokio::test]
async fn location_failure_is_the_operations_failure() {
    let (server, p) = setup().await;
    let loc_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/bad");
    arm(
        "POST",
        &format!(
            "{}/deallocate",
            rg_path("Microsoft.Compute/virtualMachines/vm1")
        ),
        &v(VM_VERSION),
    )
    .respond_with(
        ResponseTemplate::new(202)
            .insert_header("location", format!("{}{loc_path}", server.uri()).as_str()),
    )
    .mount(&server)
    .await;
    arm("GET", &loc_path, &[])
        .respond_with(arm_error(
            409,
            "OperationNotAllowed",
            "The VM is being deleted.",
        ))
        .mount(&server)
        .await;
    let lro = api::compute::vm_action(p.arm(), &vm_id(), VmAction::Deallocate)
        .await
        .unwrap();
    let e = follow(lro).0.await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OperationFailed);
    assert!(
        e.message()
            .contains("OperationNotAllowed: The VM is being deleted."),
        "{e}"
    );
    assert_eq!(e.http_status(), Some(409));
    assert_eq!(e.request_id(), Some("req-0001"));
}

#[tokio::test]
async fn created_with_provisioning_state_polls_the_resource() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let get = rg_path("Microsoft.Compute/virtualMachines/vm1");
    arm("GET", &get, &v(VM_VERSION))
        .respond_with(ok(200, vm_doc("Updating")).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &get, &v(VM_VERSION))
        .respond_with(ok(200, vm_doc("Succeeded")))
        .with_priority(2)
        .mount(&server)
        .await;
    let lro = put_vm(&server, ok(201, vm_doc("Creating"))).await.unwrap();
    assert!(!lro.is_done());
    let (op, seen) = follow(lro);
    let doc = op.await.unwrap().unwrap();
    assert_eq!(doc["properties"]["provisioningState"], "Succeeded");
    assert_eq!(received(&server, "GET", &get).await.len(), 2);
    assert_eq!(
        seen.lock().unwrap().last().unwrap().0.as_deref(),
        Some("Updating")
    );

    // Failed while provisioning
    let server = MockServer::start().await;
    mount_token(&server).await;
    arm("GET", &get, &v(VM_VERSION))
        .respond_with(ok(200, vm_doc("Failed")))
        .mount(&server)
        .await;
    let lro = put_vm(&server, ok(201, vm_doc("Creating"))).await.unwrap();
    assert_eq!(
        follow(lro).0.await.unwrap_err().kind(),
        ErrorKind::OperationFailed
    );
}

#[tokio::test]
async fn succeeded_at_once_makes_no_poll() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let lro = put_vm(&server, ok(200, vm_doc("Succeeded"))).await.unwrap();
    assert!(lro.is_done());
    let v = follow(lro).0.await.unwrap().unwrap();
    assert_eq!(v["name"], "vm1");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "token and PUT only"
    );
    // failed in the first answer
    let server = MockServer::start().await;
    mount_token(&server).await;
    let e = put_vm(&server, ok(200, vm_doc("Failed")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OperationFailed);
}

#[tokio::test]
async fn poll_urls_off_the_arm_origin_are_refused() {
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&other)
        .await;
    for h in ["azure-asyncoperation", "location"] {
        let server = MockServer::start().await;
        mount_token(&server).await;
        let e = put_vm(
            &server,
            ok(201, vm_doc("Creating"))
                .insert_header(h, format!("{}/steal?x=1", other.uri()).as_str()),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{h}");
        assert!(e.to_string().contains("another origin"), "{e}");
    }
    assert!(
        other.received_requests().await.unwrap().is_empty(),
        "no token went to the other origin"
    );
}

#[tokio::test]
async fn accepted_without_a_way_to_follow_it() {
    let (server, p) = setup().await;
    arm(
        "POST",
        &format!(
            "{}/restart",
            rg_path("Microsoft.Compute/virtualMachines/vm1")
        ),
        &v(VM_VERSION),
    )
    .respond_with(ResponseTemplate::new(202))
    .mount(&server)
    .await;
    let e = api::compute::vm_action(p.arm(), &vm_id(), VmAction::Restart)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    // a DELETE accepted with no header is followed until the resource is gone
    arm(
        "DELETE",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM_VERSION),
    )
    .respond_with(ResponseTemplate::new(202))
    .mount(&server)
    .await;
    let get = rg_path("Microsoft.Compute/virtualMachines/vm1");
    arm("GET", &get, &v(VM_VERSION))
        .respond_with(ok(200, vm_doc("Deleting")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &get, &v(VM_VERSION))
        .respond_with(arm_error(404, "ResourceNotFound", "gone"))
        .with_priority(2)
        .mount(&server)
        .await;
    let lro = api::compute::delete_vm(p.arm(), &vm_id()).await.unwrap();
    assert_eq!(follow(lro).0.await.unwrap(), None);
    assert_eq!(received(&server, "GET", &get).await.len(), 2);
}

#[tokio::test]
async fn retry_after_sets_the_first_wait() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let op_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/slow");
    status_mock(&server, &op_path, vec![json!({"status": "Succeeded"})]).await;
    arm(
        "GET",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM_VERSION),
    )
    .respond_with(ok(200, vm_doc("Succeeded")))
    .mount(&server)
    .await;
    let lro = put_vm(
        &server,
        ok(201, vm_doc("Creating"))
            .insert_header(
                "azure-asyncoperation",
                format!("{}{op_path}?api-version=2024-07-01", server.uri()).as_str(),
            )
            .insert_header("retry-after", "1"),
    )
    .await
    .unwrap();
    let start = Instant::now();
    follow(lro).0.await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        start.elapsed()
    );
}
