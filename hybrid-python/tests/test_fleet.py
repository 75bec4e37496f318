"""The fleet: many environments from one config or from connected clouds; concurrent
inventory with deadlines and partial results; placement decisions with reasons;
provisioning."""

from __future__ import annotations

import pickle
import time

import pytest

import hybrid
from conftest import run

SECRET = "fleet-pw-55e1"

POLICY = [
    {
        "name": "public-sites-need-bandwidth",
        "when": {"tags": ["public"]},
        "require": {"tags": {"public_bandwidth": "high"}},
        "because": "public sites serve the internet",
    }
]


@pytest.fixture()
def mocks():
    return {
        "vsphere-prod": hybrid.Mock("vsphere", servers=3, name="vsphere-prod", delays="instant"),
        "openstack-kvm": hybrid.Mock("openstack_kvm", servers=5, name="openstack-kvm", delays="instant"),
        "azure-public": hybrid.Mock("azure", servers=2, name="azure-public", delays="instant"),
    }


@pytest.fixture()
def fleet(mocks):
    return hybrid.Fleet.from_clouds(
        {name: m.cloud for name, m in mocks.items()},
        roles={"vsphere-prod": ["traditional"], "openstack-kvm": ["dev-test"]},
        tags={
            "vsphere-prod": {"tier": "production", "certified": ["oracle", "sap"]},
            "azure-public": {"public_bandwidth": "high"},
        },
        policy=POLICY,
        deadline=5,
    )


ORACLE = dict(
    disk_gib=200,
    image="rhel-9-template",
    vlan_id=120,
    high_availability=True,
    certifications=["oracle"],
    tags=["production"],
)


def test_inventory_streams_every_environment(fleet, mocks):
    assert fleet.environments == ["vsphere-prod", "openstack-kvm", "azure-public"]
    events = list(fleet.inventory())
    by_kind = {}
    for ev in events:
        by_kind.setdefault(ev.kind, []).append(ev)
    assert {e.environment for e in by_kind["opened"]} == set(mocks)
    reports = {e.environment: e.report for e in by_kind["finished"]}
    assert set(reports) == set(mocks)
    servers = [e for e in by_kind["item"] if isinstance(e.resource, hybrid.Server)]
    assert len(servers) == 3 + 5 + 2
    assert {type(e.resource) for e in by_kind["item"]} <= {hybrid.Server, hybrid.Network, hybrid.Volume, hybrid.Image}
    r = reports["openstack-kvm"]
    assert r.is_complete and r.counts["servers"] == 5 and r.errors == [] and not r.timed_out
    assert r.info.name == "openstack-kvm"
    assert r.summary.startswith("openstack-kvm: complete")
    # Each environment's events end with its report.
    for name in mocks:
        mine = [e.kind for e in events if e.environment == name]
        assert mine[0] == "opened" and mine[-1] == "finished" and mine.count("finished") == 1


def test_a_slow_and_a_failing_environment_give_partial_results(fleet, mocks):
    mocks["azure-public"].inject(hybrid.Fault.delay(3.0, operation="list_servers"))
    mocks["openstack-kvm"].inject(hybrid.Fault.error("unavailable", operation="list_volumes"))
    started = time.monotonic()
    events = list(fleet.inventory(deadline=0.5, kinds=["servers", "volumes"]))
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, "the slow environment does not hold the others up past its deadline"
    reports = {e.environment: e.report for e in events if e.kind == "finished"}
    assert reports["vsphere-prod"].is_complete
    az = reports["azure-public"]
    assert az.timed_out and not az.is_complete and "servers" in az.incomplete
    assert any(isinstance(e, hybrid.TimeoutError) for e in az.errors)
    kvm = reports["openstack-kvm"]
    assert not kvm.is_complete and kvm.complete == ["servers"] and kvm.incomplete == ["volumes"]
    assert isinstance(kvm.errors[0], hybrid.UnavailableError) and kvm.errors[0].provider == "openstack-kvm"
    assert "partial" in kvm.summary
    servers = [e for e in events if e.kind == "item" and e.environment == "openstack-kvm"]
    assert len(servers) == 5


def test_kinds_an_environment_cannot_list_are_skipped_with_the_reason():
    mock = hybrid.Mock("vsphere", servers=1)
    fleet = hybrid.Fleet.from_clouds({"vc": mock.cloud})
    events = list(fleet.inventory(environments=["vc"]))
    report = events[-1].report
    assert report.is_complete and report.skipped == []  # vSphere lists all four kinds
    with pytest.raises(hybrid.NotFoundError):
        fleet.inventory(environments=["nope"])
    with pytest.raises(hybrid.InvalidInputError):
        fleet.inventory(kinds=["routers"])


def test_async_inventory(fleet):
    async def main():
        kinds = []
        async for ev in fleet.ainventory(kinds=["servers"]):
            kinds.append((ev.kind, ev.environment))
        return kinds

    events = run(main())
    assert sum(1 for k, _ in events if k == "item") == 10
    assert sum(1 for k, _ in events if k == "finished") == 3


def test_placement_explains_the_choice_and_every_rejection(fleet):
    oracle = hybrid.WorkloadSpec("oracle-db", 8, 64 * 1024, **ORACLE)
    p = fleet.place(oracle)
    assert p.chosen.environment == "vsphere-prod"
    assert p.require().environment == "vsphere-prod"
    assert "certified for oracle" in p.chosen.explanation
    res = p.chosen.resolution
    assert res.network.segmentation_id == 120 and res.flavor.vcpus >= 8 and res.image.action == "present"
    assert res.provider.kind == "vsphere"
    kvm = p.rejection("openstack-kvm")
    constraints = [f.constraint for f in kvm.findings]
    assert "certified" in constraints and "high_availability" in constraints and "size" in constraints
    ha = next(f for f in kvm.findings if f.constraint == "high_availability")
    assert ha.reason is not None and ha.reason.kind == "deployment_dependent"
    text = str(p)
    assert text.startswith("oracle-db → vsphere-prod: ")
    assert "openstack-kvm: rejected: not certified for oracle" in text
    assert p.candidate("azure-public") is None

    web = {"name": "web", "vcpus": 2, "ram_mib": 4096, "os_family": "linux", "tags": ["public"], "network": {"public_ip": True}}
    pw = fleet.place(web)
    assert pw.chosen.environment == "azure-public"
    policy = next(f for f in pw.rejection("openstack-kvm").findings if f.constraint == "policy")
    assert policy.policy == "public-sites-need-bandwidth"
    assert "public sites serve the internet" in policy.message


def test_nothing_eligible_raises_only_on_require(fleet):
    huge = hybrid.WorkloadSpec("huge", 512, 4 * 1024 * 1024, os_family="linux")
    p = fleet.place(huge)
    assert p.chosen is None and len(p.rejected) == 3
    with pytest.raises(hybrid.UnsupportedError) as e:
        p.require()
    assert "no environment can run huge" in str(e.value)
    with pytest.raises(hybrid.UnsupportedError):
        fleet.provision(huge)


def test_provision_resolve_and_image_plans(fleet, mocks):
    made = fleet.provision({"name": "dev-1", "vcpus": 1, "ram_mib": 1024, "os_family": "linux"})
    assert isinstance(made, hybrid.Provisioned)
    assert made.server.status == "ACTIVE" and made.environment == made.candidate.environment
    assert made.placement is not None and made.placement.chosen.environment == made.environment
    cloud = fleet.cloud(made.environment)
    assert cloud.compute.get_server(made.server.id).name == "dev-1"
    on = fleet.provision_on({"name": "dev-2", "vcpus": 1, "ram_mib": 1024, "os_family": "linux"}, "openstack-kvm")
    assert on.environment == "openstack-kvm" and on.placement is None
    assert mocks["openstack-kvm"].cloud.compute.find_server("dev-2") is not None
    with pytest.raises(hybrid.UnsupportedError) as e:
        fleet.provision_on(hybrid.WorkloadSpec("oracle-db", 8, 65536, **ORACLE), "openstack-kvm")
    assert "oracle" in str(e.value)
    with pytest.raises(hybrid.NotFoundError):
        fleet.cloud("nope")

    spec = hybrid.WorkloadSpec("oracle-db", 8, 65536, **ORACLE)
    resolved = fleet.resolve(spec)
    assert [type(r) for r in resolved] == [hybrid.Resolution, hybrid.Rejection, hybrid.Rejection]
    assert fleet.resolve_on(spec, "vsphere-prod").flavor == resolved[0].flavor
    plan = fleet.image_plan(spec, "openstack-kvm")
    assert plan.action == "convert" and plan.source == "vsphere-prod" and plan.target_format
    assert "cannot be shared" in plan.explanation


def test_async_twins_of_the_fleet(fleet):
    async def main():
        p = await fleet.aplace(hybrid.WorkloadSpec("oracle-db", 8, 65536, **ORACLE))
        made = await fleet.aprovision({"name": "a-1", "vcpus": 1, "ram_mib": 512, "os_family": "linux"})
        cloud = await fleet.acloud("vsphere-prod")
        return p, made, cloud

    p, made, cloud = run(main())
    assert p.chosen.environment == "vsphere-prod" and made.server.status == "ACTIVE"
    assert cloud.info.kind == "vsphere"


def test_fleet_from_yaml_with_secrets_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HYBRID_TEST_VC_PASSWORD", SECRET)
    text = f"""
deadline_ms: 5000
environments:
  vc-down:
    kind: vsphere
    url: http://127.0.0.1:9/sdk
    user: administrator@vsphere.local
    password_from: {{env: HYBRID_TEST_VC_PASSWORD}}
    request_timeout_secs: 5
    roles: [traditional]
  lab:
    kind: mock
    profile: openstack_kvm
    servers: 4
    tags: {{tier: dev}}
policy: []
"""
    fleet = hybrid.Fleet.from_yaml(text)
    assert fleet.environments == ["vc-down", "lab"]
    reports = {e.environment: e.report for e in fleet.inventory() if e.kind == "finished"}
    assert reports["lab"].counts["servers"] == 4 and reports["lab"].is_complete
    down = reports["vc-down"]
    assert not down.is_complete and down.info is None and down.errors
    assert "failed" in down.summary
    assert all(isinstance(e, hybrid.HybridError) for e in down.errors)
    assert SECRET not in down.summary and all(SECRET not in str(e) for e in down.errors)
    assert SECRET not in repr(fleet)

    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    monkeypatch.setenv("HYBRID_FLEET", str(path))
    assert hybrid.Fleet.from_env().environments == ["vc-down", "lab"]
    assert hybrid.Fleet.from_file(path).environments == ["vc-down", "lab"]
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fleet.from_yaml("environments: {x: {kind: esxi}}")
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fleet.from_yaml("environments: {}")


def test_workload_specs():
    spec = hybrid.WorkloadSpec("db", 4, 8192, image="rhel", vlan_id=120, security_groups=["db"], tags=["t"])
    assert spec.flat_vlan and spec.vlan_id == 120 and spec.security_groups == ["db"]
    d = spec.to_dict()
    assert d["network"]["vlan_id"] == 120
    assert hybrid.WorkloadSpec.from_dict(d) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert repr(spec) == "WorkloadSpec(name='db', vcpus=4, ram_mib=8192, image='rhel')"
    with pytest.raises(hybrid.InvalidInputError):
        hybrid.WorkloadSpec("db", 0, 8192, image="rhel")
    with pytest.raises(hybrid.InvalidInputError):
        hybrid.WorkloadSpec("db", 1, 1024)
    with pytest.raises(hybrid.InvalidInputError):
        hybrid.WorkloadSpec.from_dict({"name": "x", "vcpus": 1, "ram_mib": 1, "image": "i", "colour": "red"})
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fleet.from_clouds({"a": hybrid.Cloud.mock()}, roles={"b": ["x"]})
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fleet.from_clouds({"a": hybrid.Cloud.mock()}, policy=[{"name": "r"}])
    with pytest.raises(TypeError):
        hybrid.Fleet.from_clouds({"a": "not a cloud"})
