//! Wire tests of first-class disks (the core's volumes): every `VStorageObjectManager`
//! call's exact envelope, the vcsim answers they decode, and the volume flows through
//! the core `Storage` trait, including the `ReconfigVM_Task` fallback of attach and
//! detach when `AttachDisk_Task`/`DetachDisk_Task` are missing.

use wiremock::matchers::body_string;
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use hybrid_core::model::{
    CreateSnapshot, CreateVolume, ServerId, SnapshotId, VolumeId, VolumeStatus,
};
use hybrid_core::{ErrorKind, Storage};

use crate::api::vslm;
use crate::protocol::requests::{DiskFileBackingSpec, VslmCreateSpec};
use crate::protocol::types::{Mor, VStorageObject};
use crate::provider::{Inner, VsphereProvider};
use crate::wire_tests::{
    config, expect, fault, fixture, request, response, session, task_answer, Soap,
};

const MGR: &str = r#"<_this type="VcenterVStorageObjectManager">VStorageObjectManager</_this>"#;
const DS: &str = r#"<datastore type="Datastore">datastore-1</datastore>"#;
const ID: &str = "b2b69104-5e8c-4ebc-af67-70bc89820d5a";

/// The body contains every fragment.
struct Contains(Vec<String>);

impl Match for Contains {
    fn matches(&self, r: &Request) -> bool {
        let b = String::from_utf8_lossy(&r.body);
        self.0.iter().all(|f| b.contains(f.as_str()))
    }
}

fn contains(parts: &[&str]) -> Contains {
    Contains(parts.iter().map(|s| (*s).to_owned()).collect())
}

fn ok(inner: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(response(inner))
}

fn task_info_req(task: &str) -> String {
    request(&format!(
        r#"<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>Task</type><pathSet>info</pathSet></propSet><objectSet><obj type="Task">{task}</obj></objectSet></specSet><options/></RetrievePropertiesEx>"#
    ))
}

fn task_done(task: &str, result: &str) -> ResponseTemplate {
    ok(&format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Task">{task}</obj><propSet><name>info</name><val xsi:type="TaskInfo"><key>{task}</key><state>success</state>{result}</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#
    ))
}

/// A disk of `mb` MiB on datastore-1, as `RetrieveVStorageObject` answers it.
fn disk_xml(mb: u64) -> String {
    format!(
        r#"<config><id><id>{ID}</id></id><name>data</name><createTime>2026-11-24T04:37:20Z</createTime><keepAfterDeleteVm>true</keepAfterDeleteVm><backing xsi:type="BaseConfigInfoDiskFileBackingInfo"><datastore type="Datastore">datastore-1</datastore><filePath>[LocalDS_0] fcd/{ID}.vmdk</filePath><provisioningType>thin</provisioningType></backing><capacityInMB>{mb}</capacityInMB><consumptionType>disk</consumptionType></config>"#
    )
}

#[tokio::test]
async fn first_class_disk_calls_have_exact_envelopes() {
    let server = MockServer::start().await;
    let s = session(&server).await;
    let ds = Mor::new("Datastore", "datastore-1");

    expect(&server, &format!(r#"<CreateDisk_Task xmlns="urn:vim25">{MGR}<spec><name>data</name><keepAfterDeleteVm>true</keepAfterDeleteVm><backingSpec xsi:type="VslmCreateSpecDiskFileBackingSpec">{DS}<provisioningType>eagerZeroedThick</provisioningType></backingSpec><capacityInMB>2048</capacityInMB></spec></CreateDisk_Task>"#),
        task_answer("CreateDisk_Task", "task-1")).await;
    let spec = VslmCreateSpec {
        name: "data".into(),
        keep_after_delete_vm: true,
        backing_spec: DiskFileBackingSpec {
            xsi_type: "VslmCreateSpecDiskFileBackingSpec",
            datastore: ds.clone(),
            provisioning_type: Some("eagerZeroedThick".into()),
        },
        capacity_in_mb: 2048,
    };
    assert_eq!(
        vslm::create_disk_task(&s, &spec).await.unwrap(),
        Mor::new("Task", "task-1")
    );

    expect(
        &server,
        &format!(r#"<ListVStorageObject xmlns="urn:vim25">{MGR}{DS}</ListVStorageObject>"#),
        ResponseTemplate::new(200).set_body_string(fixture("vcsim-ListVStorageObject.resp.xml")),
    )
    .await;
    assert_eq!(vslm::list_vstorage_object(&s, &ds).await.unwrap(), vec![ID]);

    let disk_args = format!("{MGR}<id><id>{ID}</id></id>{DS}");
    expect(
        &server,
        &format!(
            r#"<RetrieveVStorageObject xmlns="urn:vim25">{disk_args}</RetrieveVStorageObject>"#
        ),
        ResponseTemplate::new(200)
            .set_body_string(fixture("vcsim-RetrieveVStorageObject.resp.xml")),
    )
    .await;
    let d = vslm::retrieve_vstorage_object(&s, ID, &ds).await.unwrap();
    assert_eq!((d.name.as_str(), d.capacity_mb), ("fixture-disk", 2048));
    assert_eq!(
        d.file_path.as_deref(),
        Some("[LocalDS_0] fcd/b2b69104-5e8c-4ebc-af67-70bc89820d5a.vmdk")
    );
    assert_eq!(d.provisioning_type.as_deref(), Some("thin"));
    assert_eq!(
        d.datastore.as_ref().map(|m| m.kind.as_str()),
        Some("Datastore")
    );

    expect(&server, &format!(r#"<DeleteVStorageObject_Task xmlns="urn:vim25">{disk_args}</DeleteVStorageObject_Task>"#),
        task_answer("DeleteVStorageObject_Task", "task-2")).await;
    vslm::delete_vstorage_object_task(&s, ID, &ds)
        .await
        .unwrap();

    expect(&server, &format!(r#"<ExtendDisk_Task xmlns="urn:vim25">{disk_args}<newCapacityInMB>3072</newCapacityInMB></ExtendDisk_Task>"#),
        task_answer("ExtendDisk_Task", "task-3")).await;
    vslm::extend_disk_task(&s, ID, &ds, 3072).await.unwrap();

    expect(&server, &format!(r#"<VStorageObjectCreateSnapshot_Task xmlns="urn:vim25">{disk_args}<description>before &amp; after</description></VStorageObjectCreateSnapshot_Task>"#),
        task_answer("VStorageObjectCreateSnapshot_Task", "task-4")).await;
    vslm::create_snapshot_task(&s, ID, &ds, "before & after")
        .await
        .unwrap();

    expect(&server, &format!(r#"<DeleteSnapshot_Task xmlns="urn:vim25">{disk_args}<snapshotId><id>snap-1</id></snapshotId></DeleteSnapshot_Task>"#),
        task_answer("DeleteSnapshot_Task", "task-5")).await;
    vslm::delete_snapshot_task(&s, ID, &ds, "snap-1")
        .await
        .unwrap();

    expect(
        &server,
        &format!(r#"<RetrieveSnapshotInfo xmlns="urn:vim25">{disk_args}</RetrieveSnapshotInfo>"#),
        ResponseTemplate::new(200).set_body_string(fixture("vcsim-RetrieveSnapshotInfo.resp.xml")),
    )
    .await;
    let snaps = vslm::retrieve_snapshot_info(&s, ID, &ds).await.unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(
        (snaps[0].id.as_str(), snaps[0].description.as_str()),
        ("a7e0f130-f13e-488f-9f1b-17eb4f8d1e86", "before")
    );

    expect(&server, &format!(r#"<CreateDiskFromSnapshot_Task xmlns="urn:vim25">{disk_args}<snapshotId><id>snap-1</id></snapshotId><name>copy</name></CreateDiskFromSnapshot_Task>"#),
        task_answer("CreateDiskFromSnapshot_Task", "task-6")).await;
    vslm::create_disk_from_snapshot_task(&s, ID, &ds, "snap-1", "copy")
        .await
        .unwrap();

    let vm = Mor::new("VirtualMachine", "vm-7");
    expect(&server, &format!(r#"<AttachDisk_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-7</_this><diskId><id>{ID}</id></diskId>{DS}</AttachDisk_Task>"#),
        task_answer("AttachDisk_Task", "task-7")).await;
    vslm::attach_disk_task(&s, &vm, ID, &ds).await.unwrap();

    expect(&server, &format!(r#"<DetachDisk_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-7</_this><diskId><id>{ID}</id></diskId></DetachDisk_Task>"#),
        task_answer("DetachDisk_Task", "task-8")).await;
    vslm::detach_disk_task(&s, &vm, ID).await.unwrap();

    // An empty listing has no returnval; a broken one is a typed error.
    Mock::given(body_string(request(&format!(r#"<ListVStorageObject xmlns="urn:vim25">{MGR}<datastore type="Datastore">datastore-empty</datastore></ListVStorageObject>"#))))
        .respond_with(ok(r#"<ListVStorageObjectResponse xmlns="urn:vim25"></ListVStorageObjectResponse>"#))
        .mount(&server)
        .await;
    assert!(
        vslm::list_vstorage_object(&s, &Mor::new("Datastore", "datastore-empty"))
            .await
            .unwrap()
            .is_empty()
    );
    Mock::given(body_string(request(&format!(r#"<RetrieveVStorageObject xmlns="urn:vim25">{MGR}<id><id>broken</id></id>{DS}</RetrieveVStorageObject>"#))))
        .respond_with(ok(r#"<RetrieveVStorageObjectResponse xmlns="urn:vim25"><returnval><config><name>x</name></config></returnval></RetrieveVStorageObjectResponse>"#))
        .mount(&server)
        .await;
    assert_eq!(
        vslm::retrieve_vstorage_object(&s, "broken", &ds)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidResponse
    );
}

#[test]
fn vcsim_disk_task_results_decode() {
    let n = crate::protocol::xml::parse(&fixture("vcsim-CreateDisk_Task-info.resp.xml")).unwrap();
    let val = n
        .child("Body")
        .unwrap()
        .child("RetrievePropertiesExResponse")
        .unwrap()
        .child("returnval")
        .unwrap()
        .child("objects")
        .unwrap()
        .child("propSet")
        .unwrap()
        .child("val")
        .unwrap();
    let info = crate::protocol::types::TaskInfo::from_node(val).unwrap();
    let d = VStorageObject::from_node(info.result.as_ref().unwrap()).unwrap();
    assert_eq!((d.id.as_str(), d.capacity_mb), (ID, 2048));
    let n = crate::protocol::xml::parse(&fixture(
        "vcsim-VStorageObjectCreateSnapshot_Task-info.resp.xml",
    ))
    .unwrap();
    let val = n
        .child("Body")
        .unwrap()
        .child("RetrievePropertiesExResponse")
        .unwrap()
        .child("returnval")
        .unwrap()
        .child("objects")
        .unwrap()
        .child("propSet")
        .unwrap()
        .child("val")
        .unwrap();
    let info = crate::protocol::types::TaskInfo::from_node(val).unwrap();
    assert_eq!(
        info.result.unwrap().req_text("id").unwrap(),
        "a7e0f130-f13e-488f-9f1b-17eb4f8d1e86"
    );
}

async fn provider(server: &MockServer) -> VsphereProvider {
    let s = session(server).await;
    VsphereProvider {
        inner: Inner::for_tests(config(server), s),
    }
}

/// Mounts the disk lookup: `ListVStorageObject` on datastore-1 and
/// `RetrieveVStorageObject` answering a disk of `mb` MiB.
async fn mount_disk(server: &MockServer, mb: u64) {
    Mock::given(Soap("ListVStorageObject"))
        .respond_with(ok(&format!(r#"<ListVStorageObjectResponse xmlns="urn:vim25"><returnval><id>{ID}</id></returnval></ListVStorageObjectResponse>"#)))
        .mount(server)
        .await;
    Mock::given(Soap("RetrieveVStorageObject"))
        .respond_with(ok(&format!(r#"<RetrieveVStorageObjectResponse xmlns="urn:vim25"><returnval>{}</returnval></RetrieveVStorageObjectResponse>"#, disk_xml(mb))))
        .mount(server)
        .await;
}

fn vm_devices(with_disk: bool) -> ResponseTemplate {
    let disk = if with_disk {
        format!(
            r#"<VirtualDevice xsi:type="VirtualDisk"><key>2001</key><deviceInfo><label>Hard disk 2</label></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[LocalDS_0] fcd/{ID}.vmdk</fileName></backing><controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>2097152</capacityInKB></VirtualDevice>"#
        )
    } else {
        String::new()
    };
    ok(&format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-7</obj><propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="ParaVirtualSCSIController"><key>1000</key><busNumber>0</busNumber></VirtualDevice><VirtualDevice xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[LocalDS_0] vm-7/vm-7.vmdk</fileName></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber></VirtualDevice>{disk}</val></propSet><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#
    ))
}

/// The datastore's VMs (vm-7).
async fn mount_datastore_vms(server: &MockServer) {
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(contains(&[r#"<type>Datastore</type><pathSet>vm</pathSet>"#, r#"<obj type="Datastore">datastore-1</obj>"#]))
        .respond_with(ok(r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Datastore">datastore-1</obj><propSet><name>vm</name><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="VirtualMachine">vm-7</ManagedObjectReference></val></propSet></objects></returnval></RetrievePropertiesExResponse>"#))
        .mount(server)
        .await;
}

#[tokio::test]
async fn volumes_through_the_core_with_attach_fallback() {
    let server = MockServer::start().await;
    let p = provider(&server).await;

    // create: CreateDisk_Task on the default datastore, thin, 2 GiB.
    expect(&server, &format!(r#"<CreateDisk_Task xmlns="urn:vim25">{MGR}<spec><name>data</name><keepAfterDeleteVm>true</keepAfterDeleteVm><backingSpec xsi:type="VslmCreateSpecDiskFileBackingSpec">{DS}<provisioningType>thin</provisioningType></backingSpec><capacityInMB>2048</capacityInMB></spec></CreateDisk_Task>"#),
        task_answer("CreateDisk_Task", "task-1")).await;
    Mock::given(body_string(task_info_req("task-1")))
        .respond_with(task_done(
            "task-1",
            &format!(
                r#"<result xsi:type="VStorageObject">{}</result>"#,
                disk_xml(2048)
            ),
        ))
        .mount(&server)
        .await;
    let v = p
        .create_volume(&CreateVolume::new("data", 2))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(v.id.as_str(), ID);
    assert_eq!((v.size_gib, v.status.clone()), (2, VolumeStatus::Available));
    assert_eq!(v.availability_zone.as_deref(), Some("LocalDS_0"));
    assert_eq!(v.volume_type.as_deref(), Some("thin"));

    // Bad input never reaches the vCenter.
    for bad in [
        CreateVolume::new("", 1),
        CreateVolume::new("x", 0),
        {
            let mut c = CreateVolume::new("x", 1);
            c.volume_type = Some("gold".into());
            c
        },
        {
            let mut c = CreateVolume::new("x", 1);
            c.availability_zone = Some("NoSuchDS".into());
            c
        },
    ] {
        assert_eq!(
            p.create_volume(&bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    mount_disk(&server, 2048).await;
    mount_datastore_vms(&server).await;
    let devices_read = || {
        Mock::given(Soap("RetrievePropertiesEx")).and(contains(&[
            r#"<type>VirtualMachine</type><pathSet>config.hardware.device</pathSet></propSet>"#,
            r#"<obj type="VirtualMachine">vm-7</obj>"#,
        ]))
    };
    // Before the attach: vm-7 has only its own disk.
    devices_read()
        .respond_with(vm_devices(false))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // The server exists.
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(contains(&["<pathSet>runtime.powerState</pathSet>", r#"<obj type="VirtualMachine">vm-7</obj>"#]))
        .respond_with(ok(r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-7</obj><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#))
        .mount(&server)
        .await;
    // AttachDisk_Task is missing (as on vcsim): the disk's file is added instead.
    Mock::given(Soap("AttachDisk_Task"))
        .respond_with(
            ResponseTemplate::new(500).set_body_string(
                fixture("vcsim-fault-MethodNotFound.resp.xml")
                    .replace("ExtendDisk_Task", "AttachDisk_Task"),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(contains(&[
            "<pathSet>config.template</pathSet><pathSet>config.hardware.device</pathSet>",
            r#"<obj type="VirtualMachine">vm-7</obj>"#,
        ]))
        .respond_with(vm_devices(false))
        .mount(&server)
        .await;
    expect(&server, &format!(r#"<ReconfigVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-7</_this><spec><deviceChange><operation>add</operation><device xsi:type="VirtualDisk"><key>-101</key><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[LocalDS_0] fcd/{ID}.vmdk</fileName><datastore type="Datastore">datastore-1</datastore><diskMode>persistent</diskMode></backing><controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>2097152</capacityInKB></device></deviceChange></spec></ReconfigVM_Task>"#),
        task_answer("ReconfigVM_Task", "task-2")).await;
    Mock::given(body_string(task_info_req("task-2")))
        .respond_with(task_done("task-2", ""))
        .mount(&server)
        .await;
    let attach = p
        .attach_volume(&v.id, &ServerId::new("vm-7"), None)
        .await
        .unwrap();
    // After the attach: the disk is there.
    devices_read()
        .respond_with(vm_devices(true))
        .mount(&server)
        .await;
    let a = attach.await.unwrap();
    assert_eq!(
        (a.server_id.as_str(), a.device.as_deref()),
        ("vm-7", Some("Hard disk 2"))
    );
    let got = p.get_volume(&v.id).await.unwrap();
    assert_eq!(got.status, VolumeStatus::InUse);
    assert_eq!(got.attachments[0].server_id.as_str(), "vm-7");

    // Attached: no second attach, no delete, no snapshot without force; a device
    // name cannot be asked for.
    assert_eq!(
        p.attach_volume(&v.id, &ServerId::new("vm-7"), None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        p.delete_volume(&v.id).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let snap = CreateSnapshot {
        volume_id: v.id.clone(),
        name: "s".into(),
        force: false,
    };
    assert_eq!(
        p.create_snapshot(&snap).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        p.attach_volume(&v.id, &ServerId::new("vm-7"), Some("/dev/sdb"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );

    // Detach: DetachDisk_Task is missing too; the device is removed, its file kept.
    Mock::given(Soap("DetachDisk_Task"))
        .respond_with(fault(
            "MethodNotFound",
            "vm-7 does not implement: DetachDisk_Task",
            r#"<method>DetachDisk_Task</method>"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    expect(&server, r#"<ReconfigVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-7</_this><spec><deviceChange><operation>remove</operation><device xsi:type="VirtualDisk"><key>2001</key></device></deviceChange></spec></ReconfigVM_Task>"#,
        task_answer("ReconfigVM_Task", "task-3")).await;
    Mock::given(body_string(task_info_req("task-3")))
        .respond_with(task_done("task-3", ""))
        .mount(&server)
        .await;
    p.detach_volume(&v.id, &ServerId::new("vm-7"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(
        p.detach_volume(&v.id, &ServerId::new("vm-8"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // Unknown ids.
    assert_eq!(
        p.get_volume(&VolumeId::new("nope"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.get_snapshot(&SnapshotId::new("nope"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.get_snapshot(&SnapshotId::new(format!("{ID}:nope")))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn extend_snapshot_and_delete_through_the_core() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_disk(&server, 2048).await;
    mount_datastore_vms(&server).await;
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(contains(&[
            r#"<type>VirtualMachine</type><pathSet>config.hardware.device</pathSet></propSet>"#,
        ]))
        .respond_with(vm_devices(false))
        .mount(&server)
        .await;
    let id = VolumeId::new(ID);

    assert_eq!(
        p.extend_volume(&id, 2).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    expect(&server, &format!(r#"<ExtendDisk_Task xmlns="urn:vim25">{MGR}<id><id>{ID}</id></id>{DS}<newCapacityInMB>3072</newCapacityInMB></ExtendDisk_Task>"#),
        task_answer("ExtendDisk_Task", "task-4")).await;
    Mock::given(body_string(task_info_req("task-4")))
        .respond_with(task_done("task-4", ""))
        .mount(&server)
        .await;
    // (The answer still says 2 GiB: the mock does not grow.)
    assert_eq!(p.extend_volume(&id, 3).await.unwrap().await.unwrap().id, id);

    expect(&server, &format!(r#"<VStorageObjectCreateSnapshot_Task xmlns="urn:vim25">{MGR}<id><id>{ID}</id></id>{DS}<description>nightly</description></VStorageObjectCreateSnapshot_Task>"#),
        task_answer("VStorageObjectCreateSnapshot_Task", "task-5")).await;
    Mock::given(body_string(task_info_req("task-5")))
        .respond_with(task_done(
            "task-5",
            r#"<result xsi:type="ID"><id>snap-9</id></result>"#,
        ))
        .mount(&server)
        .await;
    let s = p
        .create_snapshot(&CreateSnapshot {
            volume_id: id.clone(),
            name: "nightly".into(),
            force: false,
        })
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(s.id.as_str(), format!("{ID}:snap-9"));
    assert_eq!((s.name.as_str(), s.size_gib), ("nightly", 2));

    Mock::given(Soap("RetrieveSnapshotInfo"))
        .respond_with(ok(r#"<RetrieveSnapshotInfoResponse xmlns="urn:vim25"><returnval><snapshots><id><id>snap-9</id></id><createTime>2026-11-24T04:37:20Z</createTime><description>nightly</description></snapshots></returnval></RetrieveSnapshotInfoResponse>"#))
        .mount(&server)
        .await;
    assert_eq!(p.get_snapshot(&s.id).await.unwrap().name, "nightly");
    expect(&server, &format!(r#"<DeleteSnapshot_Task xmlns="urn:vim25">{MGR}<id><id>{ID}</id></id>{DS}<snapshotId><id>snap-9</id></snapshotId></DeleteSnapshot_Task>"#),
        task_answer("DeleteSnapshot_Task", "task-6")).await;
    Mock::given(body_string(task_info_req("task-6")))
        .respond_with(task_done("task-6", ""))
        .mount(&server)
        .await;
    p.delete_snapshot(&s.id).await.unwrap().await.unwrap();

    expect(&server, &format!(r#"<DeleteVStorageObject_Task xmlns="urn:vim25">{MGR}<id><id>{ID}</id></id>{DS}</DeleteVStorageObject_Task>"#),
        task_answer("DeleteVStorageObject_Task", "task-7")).await;
    Mock::given(body_string(task_info_req("task-7")))
        .respond_with(task_done("task-7", ""))
        .mount(&server)
        .await;
    p.delete_volume(&id).await.unwrap().await.unwrap();

    // A vCenter without ExtendDisk_Task (vcsim): a typed Unsupported error.
    let server = MockServer::start().await;
    let p2 = provider(&server).await;
    mount_disk(&server, 2048).await;
    Mock::given(Soap("ExtendDisk_Task"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(fixture("vcsim-fault-MethodNotFound.resp.xml")),
        )
        .mount(&server)
        .await;
    let e = p2.extend_volume(&id, 5).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(
        e.message().contains("ExtendDisk_Task: MethodNotFound"),
        "{e}"
    );
}
