//! Resource groups, VMs, disks, snapshots, images, galleries, SSH keys, networks and
//! long-running operations, driven over HTTP with reqwest.

mod common;

use common::*;
use hybrid_fake_azure::{FakeAzure, LroEnd};
use serde_json::{json, Value};

#[tokio::test]
async fn resource_groups_crud_and_delete_through_location() {
    let az = setup(FakeAzure::builder()).await;
    let rg = format!("{}/resourcegroups/team-rg", az.sub());
    let r = az
        .put(
            &rg,
            RESOURCES,
            json!({"location": "West Europe", "tags": {"env": "test"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["location"], "westeurope");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(r.body["id"], format!("{}/resourceGroups/team-rg", az.sub()));
    let again = az
        .put(&rg, RESOURCES, json!({"location": "westeurope"}))
        .await;
    assert_eq!(again.status, 200);
    assert!(again.body.get("tags").is_none(), "a PUT replaces the tags");
    let moved = az.put(&rg, RESOURCES, json!({"location": "eastus"})).await;
    assert_eq!(moved.status, 400, "eastus is not offered: {}", moved.text);
    assert_eq!(moved.code(), "LocationNotAvailableForResourceType");
    let no_loc = az
        .put(
            &format!("{}/resourcegroups/x", az.sub()),
            RESOURCES,
            json!({}),
        )
        .await;
    assert_eq!((no_loc.status, no_loc.code()), (400, "LocationRequired"));
    let patched = az.patch(&rg, RESOURCES, json!({"tags": {"a": "b"}})).await;
    assert_eq!(patched.body["tags"], json!({"a": "b"}));

    let list = az
        .get(&format!("{}/resourcegroups", az.sub()), RESOURCES)
        .await;
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hybrid-rg", "team-rg"]);
    let head = az.call(reqwest::Method::HEAD, &rg, RESOURCES, None).await;
    assert_eq!(head.status, 204);

    // A resource inside goes with the group.
    let key = az
        .put(
            &format!("{rg}/providers/Microsoft.Compute/sshPublicKeys/k1"),
            COMPUTE,
            json!({"location": "westeurope", "properties": {"publicKey": SSH_KEY}}),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.text);

    let d = az.delete(&rg, RESOURCES).await;
    assert_eq!(d.status, 202);
    assert!(d.header("azure-asyncoperation").is_none());
    let location = d.header("location").unwrap().to_owned();
    assert!(location.contains("/operationresults/"), "{location}");
    let during = az.get(&rg, RESOURCES).await;
    assert_eq!(during.body["properties"]["provisioningState"], "Deleting");
    let write = az
        .put(
            &format!("{rg}/providers/Microsoft.Compute/sshPublicKeys/k2"),
            COMPUTE,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(
        (write.status, write.code()),
        (409, "ResourceGroupBeingDeleted")
    );
    let mut statuses = Vec::new();
    loop {
        let p = az.get_abs(&location).await;
        statuses.push(p.status);
        if p.status != 202 {
            break;
        }
        assert_eq!(p.header("location"), Some(location.as_str()));
    }
    assert_eq!(statuses.last(), Some(&200));
    let gone = az.get(&rg, RESOURCES).await;
    assert_eq!((gone.status, gone.code()), (404, "ResourceGroupNotFound"));
    let in_gone = az
        .get(
            &format!("{rg}/providers/Microsoft.Compute/sshPublicKeys/k1"),
            COMPUTE,
        )
        .await;
    assert_eq!(
        (in_gone.status, in_gone.code()),
        (404, "ResourceGroupNotFound")
    );
    assert_eq!(az.delete(&rg, RESOURCES).await.status, 404);
}

#[tokio::test]
async fn vm_create_poll_power_resize_delete() {
    let az = setup(FakeAzure::builder().lro_polls(2)).await;
    az.vnet("net1", "10.1.0.0/16", &[("default", "10.1.0.0/24")])
        .await;
    az.nic("nic1", "net1", "default", None).await;
    let path = az.vm_path("vm1");
    let r = az
        .put(&path, COMPUTE, az.vm_body("nic1", "Standard_D2s_v3"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    assert_eq!(
        r.body["properties"]["hardwareProfile"]["vmSize"],
        "Standard_D2s_v3"
    );
    assert!(
        r.body["properties"]["osProfile"]
            .get("customData")
            .is_none(),
        "customData is never returned"
    );
    assert!(r.body["properties"]["osProfile"]
        .get("adminPassword")
        .is_none());
    let op = r.header("azure-asyncoperation").unwrap().to_owned();
    assert!(
        op.contains("/providers/Microsoft.Compute/locations/westeurope/operations/"),
        "{op}"
    );
    assert!(op.contains("api-version=2024-07-01"));
    assert_eq!(r.header("retry-after"), Some("0"));
    // Two polls in progress, then done.
    for _ in 0..2 {
        let s = az.get_abs(&op).await;
        assert_eq!(s.body["status"], "InProgress");
        assert!(s.body["startTime"].is_string());
    }
    let s = az.get_abs(&op).await;
    assert_eq!(s.body["status"], "Succeeded");
    assert!(s.body["endTime"].is_string());
    assert_eq!(
        az.get_abs(&op).await.body["status"],
        "Succeeded",
        "a finished operation stays finished"
    );
    assert_eq!(
        az.fake
            .vm_custom_data(az.fake.resource_group(), "vm1")
            .as_deref(),
        Some("I2Nsb3VkLWNvbmZpZwo=")
    );

    let got = az.get(&path, COMPUTE).await;
    let p = &got.body["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(got.body["tags"], json!({"purpose": "test"}));
    assert_eq!(p["osProfile"]["computerName"], "host1");
    assert_eq!(
        p["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"],
        SSH_KEY
    );
    assert_eq!(p["storageProfile"]["osDisk"]["osType"], "Linux");
    assert_eq!(p["storageProfile"]["osDisk"]["diskSizeGB"], 30);
    let os_disk_id = p["storageProfile"]["osDisk"]["managedDisk"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let os_disk = az
        .get_abs(&format!(
            "{}{os_disk_id}?api-version={DISKS}",
            az.fake.url()
        ))
        .await;
    assert_eq!(os_disk.body["properties"]["diskState"], "Attached");
    assert_eq!(os_disk.body["managedBy"], got.body["id"]);
    let nic = az
        .get(
            &az.rg_path("Microsoft.Network/networkInterfaces/nic1"),
            NETWORK,
        )
        .await;
    assert_eq!(
        nic.body["properties"]["virtualMachine"]["id"],
        got.body["id"]
    );
    assert_eq!(az.power("vm1").await, "PowerState/running");
    let expanded = az
        .get(&format!("{path}?$expand=instanceView"), COMPUTE)
        .await;
    assert_eq!(
        expanded.body["properties"]["instanceView"]["statuses"][1]["code"],
        "PowerState/running"
    );

    // powerOff through the Location URL: 202 until done, then 200.
    let off = az.post(&format!("{path}/powerOff"), COMPUTE).await;
    assert_eq!(off.status, 202);
    assert!(off.header("azure-asyncoperation").is_some());
    let loc = off.header("location").unwrap().to_owned();
    assert!(loc.contains("monitor=true"), "{loc}");
    assert_eq!(az.power("vm1").await, "PowerState/stopping");
    let mut codes = Vec::new();
    loop {
        let p = az.get_abs(&loc).await;
        codes.push(p.status);
        if p.status != 202 {
            break;
        }
    }
    assert_eq!(codes.last(), Some(&200));
    assert_eq!(az.power("vm1").await, "PowerState/stopped");
    let restart = az.post(&format!("{path}/restart"), COMPUTE).await;
    assert_eq!(
        (restart.status, restart.code()),
        (409, "OperationNotAllowed")
    );
    let off_again = az.post(&format!("{path}/powerOff"), COMPUTE).await;
    assert_eq!(
        off_again.status, 202,
        "powering off a stopped VM is accepted"
    );
    az.done(&off_again).await;

    let start = az.post(&format!("{path}/start"), COMPUTE).await;
    az.done(&start).await;
    assert_eq!(az.power("vm1").await, "PowerState/running");
    let restart = az.post(&format!("{path}/restart"), COMPUTE).await;
    az.done(&restart).await;
    assert_eq!(az.power("vm1").await, "PowerState/running");
    let dealloc = az.post(&format!("{path}/deallocate"), COMPUTE).await;
    az.done(&dealloc).await;
    assert_eq!(az.power("vm1").await, "PowerState/deallocated");
    assert_eq!(
        az.get_abs(&format!(
            "{}{os_disk_id}?api-version={DISKS}",
            az.fake.url()
        ))
        .await
        .body["properties"]["diskState"],
        "Reserved"
    );
    let off_dealloc = az.post(&format!("{path}/powerOff"), COMPUTE).await;
    assert_eq!(
        (off_dealloc.status, off_dealloc.code()),
        (409, "OperationNotAllowed")
    );

    // Resize with PATCH.
    let resize = az
        .patch(
            &path,
            COMPUTE,
            json!({"properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v3"}}}),
        )
        .await;
    assert_eq!(resize.status, 200, "{}", resize.text);
    assert_eq!(resize.body["properties"]["provisioningState"], "Updating");
    az.done(&resize).await;
    let got = az.get(&path, COMPUTE).await;
    assert_eq!(
        got.body["properties"]["hardwareProfile"]["vmSize"],
        "Standard_D4s_v3"
    );
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    let bad = az
        .patch(
            &path,
            COMPUTE,
            json!({"properties": {"hardwareProfile": {"vmSize": "Standard_Huge"}}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "InvalidParameter"));
    let immutable = az
        .patch(
            &path,
            COMPUTE,
            json!({"properties": {"osProfile": {"adminUsername": "other"}}}),
        )
        .await;
    assert_eq!(
        (immutable.status, immutable.code()),
        (409, "PropertyChangeNotAllowed")
    );

    let sizes = az.get(&format!("{path}/vmSizes"), COMPUTE).await;
    assert!(sizes.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "Standard_B1s"));

    // Delete: 202, Deleting, then 404; the OS disk (deleteOption Delete) goes too,
    // the NIC (Detach) stays and is free again.
    let del = az.delete(&path, COMPUTE).await;
    assert_eq!(del.status, 202);
    assert!(del.header("location").is_some() && del.header("azure-asyncoperation").is_some());
    assert_eq!(
        az.get(&path, COMPUTE).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    let start_deleting = az.post(&format!("{path}/start"), COMPUTE).await;
    assert_eq!(
        (start_deleting.status, start_deleting.code()),
        (409, "OperationNotAllowed")
    );
    az.done(&del).await;
    let gone = az.get(&path, COMPUTE).await;
    assert_eq!((gone.status, gone.code()), (404, "ResourceNotFound"));
    assert_eq!(
        az.get_abs(&format!(
            "{}{os_disk_id}?api-version={DISKS}",
            az.fake.url()
        ))
        .await
        .status,
        404
    );
    let nic = az
        .get(
            &az.rg_path("Microsoft.Network/networkInterfaces/nic1"),
            NETWORK,
        )
        .await;
    assert!(nic.body["properties"].get("virtualMachine").is_none());
    assert_eq!(
        az.delete(&path, COMPUTE).await.status,
        204,
        "deleting a missing VM is a no-op"
    );
}

#[tokio::test]
async fn vm_validation_errors() {
    let az = setup(FakeAzure::builder()).await;
    az.vnet("net", "10.2.0.0/16", &[("default", "10.2.0.0/24")])
        .await;
    az.nic("nic-a", "net", "default", None).await;
    let path = az.vm_path("bad");
    let mut body = az.vm_body("nic-a", "Standard_Nope");
    let r = az.put(&path, COMPUTE, body.clone()).await;
    assert_eq!((r.status, r.code()), (400, "InvalidParameter"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Standard_B1s"));
    body["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_B2s");

    let mut no_keys = body.clone();
    no_keys["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"] = json!([]);
    let r = az.put(&path, COMPUTE, no_keys).await;
    assert_eq!((r.status, r.code()), (400, "InvalidParameter"));
    let mut admin = body.clone();
    admin["properties"]["osProfile"]["adminUsername"] = json!("admin");
    assert_eq!(
        az.put(&path, COMPUTE, admin).await.code(),
        "InvalidParameter"
    );
    let mut custom = body.clone();
    custom["properties"]["osProfile"]["customData"] = json!("not base64!");
    assert_eq!(
        az.put(&path, COMPUTE, custom).await.code(),
        "InvalidParameter"
    );
    let mut no_nic = body.clone();
    no_nic["properties"]["networkProfile"]["networkInterfaces"] =
        json!([{"id": az.id("Microsoft.Network/networkInterfaces/missing")}]);
    assert_eq!(az.put(&path, COMPUTE, no_nic).await.status, 404);
    let mut image = body.clone();
    image["properties"]["storageProfile"]["imageReference"] =
        json!({"id": az.id("Microsoft.Compute/images/missing")});
    assert_eq!(az.put(&path, COMPUTE, image).await.status, 404);
    let mut loc = body.clone();
    loc["location"] = json!("mars");
    assert_eq!(
        az.put(&path, COMPUTE, loc).await.code(),
        "LocationNotAvailableForResourceType"
    );
    let mut small = body.clone();
    small["properties"]["storageProfile"]["osDisk"]["diskSizeGB"] = json!(10);
    assert_eq!(
        az.put(&path, COMPUTE, small).await.code(),
        "InvalidParameter"
    );
    let malformed = az.call(reqwest::Method::PUT, &path, COMPUTE, None).await;
    assert_eq!(
        (malformed.status, malformed.code()),
        (400, "InvalidRequestContent")
    );
    assert_eq!(az.fake.vm_count(), 0, "nothing was created");
    assert_eq!(
        az.get(&az.rg_path("Microsoft.Compute/disks"), DISKS)
            .await
            .body["value"],
        json!([])
    );

    // The NIC is taken by a first VM; a second cannot use it.
    let ok = az.put(&az.vm_path("first"), COMPUTE, body.clone()).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let taken = az.put(&az.vm_path("second"), COMPUTE, body.clone()).await;
    assert_eq!((taken.status, taken.code()), (400, "NicInUse"));
    let nic_delete = az
        .delete(
            &az.rg_path("Microsoft.Network/networkInterfaces/nic-a"),
            NETWORK,
        )
        .await;
    assert_eq!((nic_delete.status, nic_delete.code()), (400, "NicInUse"));
    let in_rg = az
        .put(
            &format!(
                "{}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/x",
                az.sub()
            ),
            COMPUTE,
            body,
        )
        .await;
    assert_eq!((in_rg.status, in_rg.code()), (404, "ResourceGroupNotFound"));
}

#[tokio::test]
async fn vm_from_gallery_and_managed_images() {
    let az = setup(FakeAzure::builder()).await;
    let versions = az
        .get(
            &az.rg_path("Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions"),
            GALLERY,
        )
        .await;
    assert_eq!(versions.status, 200, "{}", versions.text);
    let names: Vec<&str> = versions.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1.0.0", "1.1.0"]);
    let v = az
        .get(
            &az.rg_path(
                "Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions/1.1.0",
            ),
            GALLERY,
        )
        .await;
    assert_eq!(
        v.body["properties"]["publishingProfile"]["targetRegions"][0]["name"],
        "West Europe"
    );
    assert_eq!(
        v.body["properties"]["storageProfile"]["osDiskImage"]["sizeInGB"],
        30
    );
    let def = az
        .get(
            &az.rg_path("Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04"),
            GALLERY,
        )
        .await;
    assert_eq!(def.body["properties"]["osType"], "Linux");
    let galleries = az
        .get(
            &format!("{}/providers/Microsoft.Compute/galleries", az.sub()),
            GALLERY,
        )
        .await;
    assert_eq!(galleries.body["value"][0]["name"], "hybridGallery");
    let images = az
        .get(&az.rg_path("Microsoft.Compute/images"), COMPUTE)
        .await;
    assert_eq!(images.body["value"][0]["name"], "ubuntu-22.04-image");
    assert_eq!(
        images.body["value"][0]["properties"]["storageProfile"]["osDisk"]["osState"],
        "Generalized"
    );
    let write = az
        .put(
            &az.rg_path("Microsoft.Compute/galleries/hybridGallery"),
            GALLERY,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(write.status, 405);

    az.vnet("net", "10.3.0.0/16", &[("default", "10.3.0.0/24")])
        .await;
    for (i, image) in [
        az.id("Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions/1.0.0"),
        az.id("Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04"),
        az.id("Microsoft.Compute/images/ubuntu-22.04-image"),
    ]
    .iter()
    .enumerate()
    {
        let nic = format!("gnic{i}");
        az.nic(&nic, "net", "default", None).await;
        let mut body = az.vm_body(&nic, "Standard_B2s");
        body["properties"]["storageProfile"]["imageReference"] = json!({ "id": image });
        let r = az.put(&az.vm_path(&format!("gvm{i}")), COMPUTE, body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            r.body["properties"]["storageProfile"]["imageReference"]["id"],
            *image
        );
        az.done(&r).await;
    }
    let missing =
        az.id("Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions/9.9.9");
    az.nic("gnic9", "net", "default", None).await;
    let mut body = az.vm_body("gnic9", "Standard_B2s");
    body["properties"]["storageProfile"]["imageReference"] = json!({ "id": missing });
    let r = az.put(&az.vm_path("gvm9"), COMPUTE, body).await;
    assert_eq!((r.status, r.code()), (404, "GalleryImageNotFound"));

    let del = az
        .delete(
            &az.rg_path("Microsoft.Compute/images/ubuntu-22.04-image"),
            COMPUTE,
        )
        .await;
    assert_eq!(del.status, 202);
    az.done(&del).await;
    assert_eq!(
        az.get(
            &az.rg_path("Microsoft.Compute/images/ubuntu-22.04-image"),
            COMPUTE
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn managed_image_from_a_stopped_vm() {
    let az = setup(FakeAzure::builder()).await;
    az.vm("src").await;
    let image_path = az.rg_path("Microsoft.Compute/images/captured");
    let body = json!({"location": "westeurope", "properties": {"sourceVirtualMachine": {"id": az.id("Microsoft.Compute/virtualMachines/src")}}});
    let running = az.put(&image_path, COMPUTE, body.clone()).await;
    assert_eq!(
        (running.status, running.code()),
        (409, "OperationNotAllowed")
    );
    let off = az
        .post(&format!("{}/deallocate", az.vm_path("src")), COMPUTE)
        .await;
    az.done(&off).await;
    let r = az.put(&image_path, COMPUTE, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    az.done(&r).await;
    let got = az.get(&image_path, COMPUTE).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        got.body["properties"]["sourceVirtualMachine"]["id"],
        az.id("Microsoft.Compute/virtualMachines/src")
    );
}

#[tokio::test]
async fn disks_attach_detach_and_snapshots() {
    let az = setup(FakeAzure::builder()).await;
    let disk_path = az.rg_path("Microsoft.Compute/disks/data1");
    let r = az
        .put(&disk_path, DISKS, json!({"location": "westeurope", "sku": {"name": "Premium_LRS"}, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    let op = r.header("azure-asyncoperation").unwrap();
    assert!(op.contains("/DiskOperations/"), "{op}");
    let (status, _) = az.wait(&r).await;
    assert_eq!(status["status"], "Succeeded");
    assert_eq!(
        status["properties"]["output"]["name"], "data1",
        "DiskRP returns the disk as output"
    );
    let d = az.get(&disk_path, DISKS).await;
    assert_eq!(d.body["properties"]["diskState"], "Unattached");
    assert_eq!(d.body["sku"]["name"], "Premium_LRS");
    assert_eq!(d.body["properties"]["diskSizeBytes"], 64u64 << 30);
    let no_size = az
        .put(&az.rg_path("Microsoft.Compute/disks/nosize"), DISKS, json!({"location": "westeurope", "properties": {"creationData": {"createOption": "Empty"}}}))
        .await;
    assert_eq!((no_size.status, no_size.code()), (400, "InvalidParameter"));

    az.vm("host").await;
    let vm = az.vm_path("host");
    let attach = az
        .patch(&vm, COMPUTE, json!({"properties": {"storageProfile": {"dataDisks": [
            {"lun": 0, "createOption": "Attach", "managedDisk": {"id": az.id("Microsoft.Compute/disks/data1")}},
            {"lun": 1, "createOption": "Empty", "diskSizeGB": 8, "name": "scratch"}
        ]}}}))
        .await;
    assert_eq!(attach.status, 200, "{}", attach.text);
    az.done(&attach).await;
    let got = az.get(&vm, COMPUTE).await;
    let dd = got.body["properties"]["storageProfile"]["dataDisks"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(dd.len(), 2);
    assert_eq!(dd[0]["lun"], 0);
    assert_eq!(dd[0]["createOption"], "Attach");
    assert_eq!(dd[1]["name"], "scratch");
    assert_eq!(dd[1]["diskSizeGB"], 8);
    let d = az.get(&disk_path, DISKS).await;
    assert_eq!(d.body["properties"]["diskState"], "Attached");
    assert_eq!(d.body["managedBy"], got.body["id"]);
    let del = az.delete(&disk_path, DISKS).await;
    assert_eq!((del.status, del.code()), (409, "OperationNotAllowed"));
    let dup = az
        .patch(&vm, COMPUTE, json!({"properties": {"storageProfile": {"dataDisks": [
            {"lun": 0, "createOption": "Attach", "managedDisk": {"id": az.id("Microsoft.Compute/disks/data1")}},
            {"lun": 0, "createOption": "Empty", "diskSizeGB": 8}
        ]}}}))
        .await;
    assert_eq!((dup.status, dup.code()), (400, "InvalidParameter"));

    // Another VM cannot take it.
    az.nic("other-nic", "host-vnet", "default", None).await;
    let mut body = az.vm_body("other-nic", "Standard_B2s");
    body["properties"]["storageProfile"]["dataDisks"] = json!([{"lun": 0, "createOption": "Attach", "managedDisk": {"id": az.id("Microsoft.Compute/disks/data1")}}]);
    let taken = az.put(&az.vm_path("other"), COMPUTE, body).await;
    assert_eq!((taken.status, taken.code()), (409, "ConflictingUserInput"));

    // A snapshot of the attached disk.
    let snap = az
        .put(&az.rg_path("Microsoft.Compute/snapshots/snap1"), DISKS, json!({"location": "westeurope", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": az.id("Microsoft.Compute/disks/data1")}}}))
        .await;
    assert_eq!(snap.status, 202, "{}", snap.text);
    az.done(&snap).await;
    let s = az
        .get(&az.rg_path("Microsoft.Compute/snapshots/snap1"), DISKS)
        .await;
    assert_eq!(s.body["properties"]["diskSizeGB"], 64);
    assert_eq!(
        s.body["properties"]["creationData"]["sourceResourceId"],
        az.id("Microsoft.Compute/disks/data1")
    );
    let snaps = az
        .get(
            &format!("{}/providers/Microsoft.Compute/snapshots", az.sub()),
            DISKS,
        )
        .await;
    assert_eq!(snaps.body["value"].as_array().unwrap().len(), 1);
    let bad_src = az
        .put(&az.rg_path("Microsoft.Compute/snapshots/snap2"), DISKS, json!({"location": "westeurope", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": az.id("Microsoft.Compute/disks/none")}}}))
        .await;
    assert_eq!(bad_src.status, 404);
    // A disk restored from the snapshot.
    let restored = az
        .put(&az.rg_path("Microsoft.Compute/disks/restored"), DISKS, json!({"location": "westeurope", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": az.id("Microsoft.Compute/snapshots/snap1")}}}))
        .await;
    assert_eq!(restored.status, 202);
    assert_eq!(restored.body["properties"]["diskSizeGB"], 64);

    // Detach by leaving it out; then it can be deleted (Location path: 202, then 200).
    let detach = az.patch(&vm, COMPUTE, json!({"properties": {"storageProfile": {"dataDisks": [
        {"lun": 1, "name": "scratch", "createOption": "Empty", "diskSizeGB": 8, "managedDisk": {"id": az.id("Microsoft.Compute/disks/scratch")}}
    ]}}})).await;
    assert_eq!(detach.status, 200, "{}", detach.text);
    az.done(&detach).await;
    assert_eq!(
        az.get(&disk_path, DISKS).await.body["properties"]["diskState"],
        "Unattached"
    );
    let del = az.delete(&disk_path, DISKS).await;
    assert_eq!(del.status, 202);
    let loc = del.header("location").unwrap().to_owned();
    assert_eq!(az.get_abs(&loc).await.status, 202);
    assert_eq!(az.get_abs(&loc).await.status, 200);
    assert_eq!(az.get(&disk_path, DISKS).await.status, 404);
    let del_snap = az
        .delete(&az.rg_path("Microsoft.Compute/snapshots/snap1"), DISKS)
        .await;
    az.done(&del_snap).await;
    assert_eq!(
        az.get(&az.rg_path("Microsoft.Compute/snapshots/snap1"), DISKS)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn ssh_public_keys() {
    let az = setup(FakeAzure::builder()).await;
    let path = az.rg_path("Microsoft.Compute/sshPublicKeys/key1");
    let r = az
        .put(
            &path,
            COMPUTE,
            json!({"location": "westeurope", "properties": {"publicKey": SSH_KEY}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["publicKey"], SSH_KEY);
    let bad = az
        .put(
            &az.rg_path("Microsoft.Compute/sshPublicKeys/bad"),
            COMPUTE,
            json!({"location": "westeurope", "properties": {"publicKey": "hello"}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "InvalidParameter"));
    let empty = az
        .put(
            &az.rg_path("Microsoft.Compute/sshPublicKeys/gen"),
            COMPUTE,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(empty.status, 201);
    let g = az
        .post(
            &az.rg_path("Microsoft.Compute/sshPublicKeys/gen/generateKeyPair"),
            COMPUTE,
        )
        .await;
    assert_eq!(g.status, 200);
    assert!(g.body["privateKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let public = g.body["publicKey"].as_str().unwrap();
    assert!(public.starts_with("ssh-rsa "));
    assert_eq!(
        az.get(&az.rg_path("Microsoft.Compute/sshPublicKeys/gen"), COMPUTE)
            .await
            .body["properties"]["publicKey"],
        public
    );
    let list = az
        .get(
            &format!("{}/providers/Microsoft.Compute/sshPublicKeys", az.sub()),
            COMPUTE,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
    assert_eq!(az.delete(&path, COMPUTE).await.status, 200);
    assert_eq!(az.delete(&path, COMPUTE).await.status, 204);
    assert_eq!(az.get(&path, COMPUTE).await.code(), "ResourceNotFound");
}

#[tokio::test]
async fn virtual_networks_and_subnets() {
    let az = setup(FakeAzure::builder()).await;
    let vnet = az.rg_path("Microsoft.Network/virtualNetworks/v1");
    let r = az
        .put(&vnet, NETWORK, json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}, "subnets": [{"name": "a", "properties": {"addressPrefix": "10.5.1.0/24"}}]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    let op = r.header("azure-asyncoperation").unwrap().to_owned();
    assert!(
        op.contains("/providers/Microsoft.Network/locations/westeurope/operations/"),
        "{op}"
    );
    // A write while the operation runs is refused, as Microsoft.Network does.
    let busy = az.put(&vnet, NETWORK, json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}}})).await;
    assert_eq!(
        (busy.status, busy.code()),
        (409, "AnotherOperationInProgress")
    );
    let s = az.get_abs(&op).await;
    assert_eq!(s.body, json!({"status": "InProgress"}));
    assert_eq!(az.get_abs(&op).await.body, json!({"status": "Succeeded"}));

    let sub_b = az.rg_path("Microsoft.Network/virtualNetworks/v1/subnets/b");
    let outside = az
        .put(
            &sub_b,
            NETWORK,
            json!({"properties": {"addressPrefix": "10.6.0.0/24"}}),
        )
        .await;
    assert_eq!(
        (outside.status, outside.code()),
        (400, "NetcfgSubnetRangeOutsideVnet")
    );
    let overlap = az
        .put(
            &sub_b,
            NETWORK,
            json!({"properties": {"addressPrefix": "10.5.1.128/25"}}),
        )
        .await;
    assert_eq!(
        (overlap.status, overlap.code()),
        (400, "NetcfgSubnetRangesOverlap")
    );
    let bad = az
        .put(
            &sub_b,
            NETWORK,
            json!({"properties": {"addressPrefix": "10.5.2.0/33"}}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "InvalidAddressPrefixFormat")
    );
    let ok = az
        .put(
            &sub_b,
            NETWORK,
            json!({"properties": {"addressPrefix": "10.5.2.0/24"}}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    az.done(&ok).await;
    let subnets = az.get(&format!("{vnet}/subnets"), NETWORK).await;
    assert_eq!(subnets.body["value"].as_array().unwrap().len(), 2);
    let got = az.get(&vnet, NETWORK).await;
    assert_eq!(
        got.body["properties"]["subnets"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        got.body["properties"]["addressSpace"]["addressPrefixes"],
        json!(["10.5.0.0/16"])
    );

    // A NIC makes the subnet busy.
    let nic = az.nic("n1", "v1", "b", None).await;
    assert_eq!(
        nic.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.5.2.4"
    );
    let n2 = az.nic("n2", "v1", "b", None).await;
    assert_eq!(
        n2.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.5.2.5"
    );
    let busy = az.delete(&sub_b, NETWORK).await;
    assert_eq!(
        (busy.status, busy.code()),
        (400, "InUseSubnetCannotBeDeleted")
    );
    let busy_vnet = az.delete(&vnet, NETWORK).await;
    assert_eq!(busy_vnet.code(), "InUseSubnetCannotBeDeleted");
    let sub = az.get(&sub_b, NETWORK).await;
    assert_eq!(
        sub.body["properties"]["ipConfigurations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A PUT of the VNet without the busy subnet would delete it: refused.
    let drop_subnets = az.put(&vnet, NETWORK, json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}}})).await;
    assert_eq!(drop_subnets.code(), "InUseSubnetCannotBeDeleted");

    for n in ["n1", "n2"] {
        let d = az
            .delete(
                &az.rg_path(&format!("Microsoft.Network/networkInterfaces/{n}")),
                NETWORK,
            )
            .await;
        assert_eq!(d.status, 202);
        let loc = d.header("location").unwrap().to_owned();
        assert!(loc.contains("/operationResults/"), "{loc}");
        assert_eq!(az.get_abs(&loc).await.status, 202);
        assert_eq!(az.get_abs(&loc).await.status, 204);
    }
    let d = az.delete(&sub_b, NETWORK).await;
    assert_eq!(d.status, 202);
    az.done(&d).await;
    assert_eq!(az.get(&sub_b, NETWORK).await.code(), "NotFound");
    let d = az.delete(&vnet, NETWORK).await;
    az.done(&d).await;
    assert_eq!(az.get(&vnet, NETWORK).await.code(), "ResourceNotFound");
    let seeded = az
        .get(
            &format!("{}/providers/Microsoft.Network/virtualNetworks", az.sub()),
            NETWORK,
        )
        .await;
    assert_eq!(seeded.body["value"][0]["name"], "hybrid-vnet");
}

#[tokio::test]
async fn security_groups_and_rules() {
    let az = setup(FakeAzure::builder()).await;
    let nsg = az.rg_path("Microsoft.Network/networkSecurityGroups/g1");
    let rule = |p: u32, port: &str| json!({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow", "priority": p, "direction": "Inbound"});
    let conflict = az
        .put(&nsg, NETWORK, json!({"location": "westeurope", "properties": {"securityRules": [
            {"name": "ssh", "properties": rule(100, "22")}, {"name": "web", "properties": rule(100, "80")}
        ]}}))
        .await;
    assert_eq!(
        (conflict.status, conflict.code()),
        (400, "SecurityRuleConflict")
    );
    let r = az
        .put(&nsg, NETWORK, json!({"location": "westeurope", "properties": {"securityRules": [{"name": "ssh", "properties": rule(100, "22")}]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    az.done(&r).await;
    let got = az.get(&nsg, NETWORK).await;
    assert_eq!(
        got.body["properties"]["securityRules"][0]["properties"]["destinationPortRange"],
        "22"
    );
    assert_eq!(
        got.body["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    let web = az.rg_path("Microsoft.Network/networkSecurityGroups/g1/securityRules/web");
    let dup = az
        .put(&web, NETWORK, json!({"properties": rule(100, "80")}))
        .await;
    assert_eq!((dup.status, dup.code()), (400, "SecurityRuleConflict"));
    let bad_prio = az
        .put(&web, NETWORK, json!({"properties": rule(5000, "80")}))
        .await;
    assert_eq!(bad_prio.code(), "SecurityRuleInvalidPriority");
    let bad_port = az
        .put(&web, NETWORK, json!({"properties": rule(110, "99999")}))
        .await;
    assert_eq!(bad_port.code(), "SecurityRuleInvalidPortRange");
    let ok = az
        .put(&web, NETWORK, json!({"properties": rule(110, "80-81")}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    az.done(&ok).await;
    let rules = az.get(&format!("{nsg}/securityRules"), NETWORK).await;
    assert_eq!(rules.body["value"].as_array().unwrap().len(), 2);
    let default = az
        .get(
            &format!("{nsg}/defaultSecurityRules/DenyAllInBound"),
            NETWORK,
        )
        .await;
    assert_eq!(default.body["properties"]["priority"], 65500);
    let del = az.delete(&web, NETWORK).await;
    az.done(&del).await;
    assert_eq!(az.get(&web, NETWORK).await.code(), "NotFound");

    // An NSG used by a NIC cannot be deleted.
    az.vnet("v", "10.7.0.0/16", &[("s", "10.7.0.0/24")]).await;
    let nic_path = az.rg_path("Microsoft.Network/networkInterfaces/nn");
    let r = az
        .put(&nic_path, NETWORK, json!({"location": "westeurope", "properties": {
            "networkSecurityGroup": {"id": az.id("Microsoft.Network/networkSecurityGroups/g1")},
            "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": az.id("Microsoft.Network/virtualNetworks/v/subnets/s")}, "privateIPAllocationMethod": "Static", "privateIPAddress": "10.7.0.10"}}]
        }}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.7.0.10"
    );
    az.done(&r).await;
    let taken = az
        .put(&az.rg_path("Microsoft.Network/networkInterfaces/nn2"), NETWORK, json!({"location": "westeurope", "properties": {
            "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": az.id("Microsoft.Network/virtualNetworks/v/subnets/s")}, "privateIPAllocationMethod": "Static", "privateIPAddress": "10.7.0.10"}}]
        }}))
        .await;
    assert_eq!(taken.code(), "PrivateIPAddressInUse");
    let used = az.get(&nsg, NETWORK).await;
    assert_eq!(
        used.body["properties"]["networkInterfaces"][0]["id"],
        az.id("Microsoft.Network/networkInterfaces/nn")
    );
    let d = az.delete(&nsg, NETWORK).await;
    assert_eq!(
        (d.status, d.code()),
        (400, "InUseNetworkSecurityGroupCannotBeDeleted")
    );
    let missing_ref = az
        .put(&az.rg_path("Microsoft.Network/networkInterfaces/nn3"), NETWORK, json!({"location": "westeurope", "properties": {
            "networkSecurityGroup": {"id": az.id("Microsoft.Network/networkSecurityGroups/none")},
            "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": az.id("Microsoft.Network/virtualNetworks/v/subnets/s")}}}]
        }}))
        .await;
    assert_eq!(
        (missing_ref.status, missing_ref.code()),
        (400, "InvalidResourceReference")
    );
}

#[tokio::test]
async fn public_ips_and_association() {
    let az = setup(FakeAzure::builder()).await;
    let pip = az.rg_path("Microsoft.Network/publicIPAddresses/ip1");
    let r = az
        .put(&pip, NETWORK, json!({"location": "westeurope"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["sku"]["name"], "Basic");
    assert_eq!(r.body["properties"]["publicIPAllocationMethod"], "Dynamic");
    assert!(
        r.body["properties"].get("ipAddress").is_none(),
        "a dynamic address comes with an association"
    );
    az.done(&r).await;
    let std_dyn = az
        .put(&az.rg_path("Microsoft.Network/publicIPAddresses/ip2"), NETWORK, json!({"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}}))
        .await;
    assert_eq!(std_dyn.status, 400);
    let st = az
        .put(
            &az.rg_path("Microsoft.Network/publicIPAddresses/ip3"),
            NETWORK,
            json!({"location": "westeurope", "sku": {"name": "Standard"}}),
        )
        .await;
    assert_eq!(st.body["properties"]["publicIPAllocationMethod"], "Static");
    assert!(st.body["properties"]["ipAddress"].is_string());

    az.vnet("v", "10.8.0.0/16", &[("s", "10.8.0.0/24")]).await;
    az.nic("nic", "v", "s", Some("ip1")).await;
    let got = az.get(&pip, NETWORK).await;
    assert!(got.body["properties"]["ipAddress"]
        .as_str()
        .unwrap()
        .starts_with("20.50."));
    let cfg = got.body["properties"]["ipConfiguration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cfg.ends_with("/networkInterfaces/nic/ipConfigurations/ipconfig1"),
        "{cfg}"
    );
    let expanded = az
        .get(
            &format!(
                "{}?$expand=ipConfigurations/publicIPAddress",
                az.rg_path("Microsoft.Network/networkInterfaces/nic")
            ),
            NETWORK,
        )
        .await;
    assert_eq!(
        expanded.body["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]
            ["properties"]["ipAddress"],
        got.body["properties"]["ipAddress"]
    );
    let del = az.delete(&pip, NETWORK).await;
    assert_eq!(
        (del.status, del.code()),
        (400, "PublicIPAddressCannotBeDeleted")
    );
    let second = az.put(&az.rg_path("Microsoft.Network/networkInterfaces/nic2"), NETWORK, json!({"location": "westeurope", "properties": {"ipConfigurations": [
        {"name": "c", "properties": {"subnet": {"id": az.id("Microsoft.Network/virtualNetworks/v/subnets/s")}, "publicIPAddress": {"id": az.id("Microsoft.Network/publicIPAddresses/ip1")}}}
    ]}})).await;
    assert_eq!(
        (second.status, second.code()),
        (400, "PublicIPAddressInUse")
    );

    // Disassociate with a NIC update, then delete.
    let upd = az.put(&az.rg_path("Microsoft.Network/networkInterfaces/nic"), NETWORK, json!({"location": "westeurope", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": az.id("Microsoft.Network/virtualNetworks/v/subnets/s")}}}
    ]}})).await;
    assert_eq!(upd.status, 200, "{}", upd.text);
    assert_eq!(
        upd.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"], "10.8.0.4",
        "the address is kept"
    );
    az.done(&upd).await;
    let free = az.get(&pip, NETWORK).await;
    assert!(free.body["properties"].get("ipConfiguration").is_none());
    assert!(free.body["properties"].get("ipAddress").is_none());
    let del = az.delete(&pip, NETWORK).await;
    assert_eq!(del.status, 202);
    az.done(&del).await;
    assert_eq!(az.get(&pip, NETWORK).await.status, 404);
    let list = az
        .get(
            &format!("{}/providers/Microsoft.Network/publicIPAddresses", az.sub()),
            NETWORK,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn lro_failed_and_canceled() {
    let az = setup(FakeAzure::builder().lro_polls(0)).await;
    az.vnet("v", "10.9.0.0/16", &[("s", "10.9.0.0/24")]).await;
    az.nic("nic-f", "v", "s", None).await;
    az.fake.lro_fail_next(LroEnd::Failed, 1);
    let r = az
        .put(
            &az.vm_path("failing"),
            COMPUTE,
            az.vm_body("nic-f", "Standard_B2s"),
        )
        .await;
    assert_eq!(r.status, 201);
    let (s, polls) = az.wait(&r).await;
    assert_eq!(polls, 1);
    assert_eq!(s["status"], "Failed");
    assert_eq!(s["error"]["code"], "AllocationFailed");
    let vm = az.get(&az.vm_path("failing"), COMPUTE).await;
    assert_eq!(vm.body["properties"]["provisioningState"], "Failed");
    let iv = az
        .get(&format!("{}/instanceView", az.vm_path("failing")), COMPUTE)
        .await;
    assert_eq!(iv.body["statuses"][0]["code"], "ProvisioningState/failed");

    // A canceled power action leaves the power state as it was.
    az.fake.lro_fail_next(LroEnd::Canceled, 1);
    let start = az
        .post(&format!("{}/start", az.vm_path("failing")), COMPUTE)
        .await;
    let loc = start.header("location").unwrap().to_owned();
    let l = az.get_abs(&loc).await;
    assert_eq!((l.status, l.code()), (409, "OperationCanceled"));
    let (s, _) = az.wait(&start).await;
    assert_eq!(s["status"], "Canceled");
    assert_eq!(az.power("failing").await, "PowerState/stopped");
    assert_eq!(
        az.get(&az.vm_path("failing"), COMPUTE).await.body["properties"]["provisioningState"],
        "Canceled"
    );

    // A failed deletion keeps the resource; the Location URL answers 400.
    az.fake.lro_fail_next(LroEnd::Failed, 1);
    let d = az
        .delete(
            &az.rg_path("Microsoft.Network/virtualNetworks/v/subnets/s"),
            NETWORK,
        )
        .await;
    assert_eq!(d.status, 400, "the subnet is in use by the NIC");
    let d = az
        .delete(
            &az.rg_path("Microsoft.Network/publicIPAddresses/none"),
            NETWORK,
        )
        .await;
    assert_eq!(d.status, 204);
    let pip = az
        .put(
            &az.rg_path("Microsoft.Network/publicIPAddresses/p"),
            NETWORK,
            json!({"location": "westeurope"}),
        )
        .await;
    let (s, _) = az.wait(&pip).await;
    assert_eq!(
        s["status"], "Failed",
        "the scripted failure hits the next operation"
    );
    assert_eq!(s["error"]["code"], "InternalOperationError");
    assert_eq!(
        az.get(
            &az.rg_path("Microsoft.Network/publicIPAddresses/p"),
            NETWORK
        )
        .await
        .body["properties"]["provisioningState"],
        "Failed"
    );
    az.fake.lro_fail_next(LroEnd::Failed, 1);
    let d = az
        .delete(
            &az.rg_path("Microsoft.Network/publicIPAddresses/p"),
            NETWORK,
        )
        .await;
    let l = az.get_abs(d.header("location").unwrap()).await;
    assert_eq!((l.status, l.code()), (400, "InternalOperationError"));
    assert_eq!(
        az.get(
            &az.rg_path("Microsoft.Network/publicIPAddresses/p"),
            NETWORK
        )
        .await
        .status,
        200
    );
    let unknown = az.get_abs(&format!("{}{}/providers/Microsoft.Compute/locations/westeurope/operations/nope?api-version={COMPUTE}", az.fake.url(), az.sub())).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_newer_vm_operation_preempts_the_running_one() {
    let az = setup(FakeAzure::builder().lro_polls(3)).await;
    az.vm("pre").await;
    let off = az
        .post(&format!("{}/powerOff", az.vm_path("pre")), COMPUTE)
        .await;
    let dealloc = az
        .post(&format!("{}/deallocate", az.vm_path("pre")), COMPUTE)
        .await;
    let (s, _) = az.wait(&off).await;
    assert_eq!(s["status"], "Canceled");
    assert_eq!(s["error"]["code"], "OperationPreempted");
    az.done(&dealloc).await;
    assert_eq!(az.power("pre").await, "PowerState/deallocated");
}

#[tokio::test]
async fn a_create_put_sent_again_during_creation_carries_the_creation_on() {
    let az = setup(FakeAzure::builder().lro_polls(3)).await;
    az.vnet("v", "10.12.0.0/16", &[("s", "10.12.0.0/24")]).await;
    az.nic("n", "v", "s", None).await;
    let body = az.vm_body("n", "Standard_B1s");
    let first = az.put(&az.vm_path("again"), COMPUTE, body.clone()).await;
    assert_eq!(first.status, 201);
    let second = az.put(&az.vm_path("again"), COMPUTE, body).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["properties"]["provisioningState"], "Creating");
    let (s, _) = az.wait(&first).await;
    assert_eq!(s["error"]["code"], "OperationPreempted");
    az.done(&second).await;
    assert_eq!(az.power("again").await, "PowerState/running");
    assert_eq!(az.fake.vm_count(), 1);
}

#[tokio::test]
async fn reading_the_resource_also_advances_its_operation() {
    let az = setup(FakeAzure::builder().lro_polls(1)).await;
    az.vnet("v", "10.11.0.0/16", &[("s", "10.11.0.0/24")]).await;
    az.nic("n", "v", "s", None).await;
    let r = az
        .put(
            &az.vm_path("readme"),
            COMPUTE,
            az.vm_body("n", "Standard_B1s"),
        )
        .await;
    let first = az.get(&az.vm_path("readme"), COMPUTE).await;
    assert_eq!(first.body["properties"]["provisioningState"], "Creating");
    let second = az.get(&az.vm_path("readme"), COMPUTE).await;
    assert_eq!(second.body["properties"]["provisioningState"], "Succeeded");
    let (s, polls) = az.wait(&r).await;
    assert_eq!((s["status"].as_str(), polls), (Some("Succeeded"), 1));
    let list = az
        .get(&az.rg_path("Microsoft.Compute/virtualMachines"), COMPUTE)
        .await;
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["readme"]);
}

#[tokio::test]
async fn vm_sizes_by_location() {
    let az = setup(FakeAzure::builder()).await;
    let r = az
        .get(
            &format!(
                "{}/providers/Microsoft.Compute/locations/westeurope/vmSizes",
                az.sub()
            ),
            COMPUTE,
        )
        .await;
    assert_eq!(r.status, 200);
    let sizes = r.body["value"].as_array().unwrap();
    let d2 = sizes
        .iter()
        .find(|s| s["name"] == "Standard_D2s_v3")
        .unwrap();
    assert_eq!(
        (
            d2["numberOfCores"].as_u64(),
            d2["memoryInMB"].as_u64(),
            d2["maxDataDiskCount"].as_u64()
        ),
        (Some(2), Some(8192), Some(4))
    );
    assert_eq!(d2["osDiskSizeInMB"], 1_047_552);
    let other = az
        .get(
            &format!(
                "{}/providers/Microsoft.Compute/locations/eastus/vmSizes",
                az.sub()
            ),
            COMPUTE,
        )
        .await;
    assert_eq!(other.status, 404);
    let _ = Value::Null;
}

#[tokio::test]
async fn tags_at_scope() {
    let az = setup(FakeAzure::builder().servers(1)).await;
    let vm = az.vm_path("vm-00001");
    let tags = format!("{vm}/providers/Microsoft.Resources/tags/default");
    let t = az.get(&tags, "2021-04-01").await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.body["properties"]["tags"], json!({}));
    assert_eq!(
        t.body["id"],
        format!(
            "{}/providers/Microsoft.Resources/tags/default",
            az.id("Microsoft.Compute/virtualMachines/vm-00001")
        )
    );

    let r = az
        .patch(
            &tags,
            "2021-04-01",
            json!({"operation": "Merge", "properties": {"tags": {"a": "1", "b": "2"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["properties"]["tags"], json!({"a": "1", "b": "2"}));
    let r = az
        .patch(
            &tags,
            "2021-04-01",
            json!({"operation": "Merge", "properties": {"tags": {"c": "3"}}}),
        )
        .await;
    assert_eq!(
        r.body["properties"]["tags"],
        json!({"a": "1", "b": "2", "c": "3"})
    );
    let r = az
        .patch(
            &tags,
            "2021-04-01",
            json!({"operation": "Delete", "properties": {"tags": {"a": "1", "b": "other"}}}),
        )
        .await;
    assert_eq!(
        r.body["properties"]["tags"],
        json!({"b": "2", "c": "3"}),
        "a name/value pair must match to delete"
    );
    let r = az
        .patch(
            &tags,
            "2021-04-01",
            json!({"operation": "Replace", "properties": {"tags": {"z": "9"}}}),
        )
        .await;
    assert_eq!(r.body["properties"]["tags"], json!({"z": "9"}));
    assert_eq!(
        az.get(&vm, COMPUTE).await.body["tags"],
        json!({"z": "9"}),
        "the VM shows its tags"
    );
    let bad = az
        .patch(
            &tags,
            "2021-04-01",
            json!({"operation": "Upsert", "properties": {"tags": {}}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let put = az
        .put(
            &tags,
            "2021-04-01",
            json!({"properties": {"tags": {"k": "v"}}}),
        )
        .await;
    assert_eq!(put.body["properties"]["tags"], json!({"k": "v"}));
    assert_eq!(az.delete(&tags, "2021-04-01").await.status, 200);
    assert!(az.get(&vm, COMPUTE).await.body.get("tags").is_none());

    let rg_tags = format!(
        "{}/resourceGroups/{}/providers/Microsoft.Resources/tags/default",
        az.sub(),
        az.fake.resource_group()
    );
    let r = az
        .patch(
            &rg_tags,
            "2021-04-01",
            json!({"operation": "Merge", "properties": {"tags": {"team": "x"}}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        az.get(
            &format!("{}/resourceGroups/{}", az.sub(), az.fake.resource_group()),
            RESOURCES
        )
        .await
        .body["tags"],
        json!({"team": "x"})
    );
    let nic_tags = format!(
        "{}/providers/Microsoft.Resources/tags/default",
        az.rg_path("Microsoft.Network/networkInterfaces/vm-00001-nic")
    );
    assert_eq!(
        az.patch(
            &nic_tags,
            "2021-04-01",
            json!({"operation": "Merge", "properties": {"tags": {"n": "1"}}})
        )
        .await
        .status,
        200
    );
    let missing = az
        .get(
            &format!(
                "{}/providers/Microsoft.Resources/tags/default",
                az.vm_path("nope")
            ),
            "2021-04-01",
        )
        .await;
    assert_eq!((missing.status, missing.code()), (404, "ResourceNotFound"));
}
