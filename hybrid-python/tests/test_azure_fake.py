"""The bindings against a local fake Azure (Entra ID client credentials + Azure Resource
Manager) over HTTP on 127.0.0.1, started from the workspace's `fake-azure` binary:
configs of kind ``azure`` (a dict, a file, ``HYBRID_PROVIDER=azure``, a fleet
environment), ``nextLink`` paging, long-running operations, Azure's limits as
capabilities with reasons, and authentication failures without the secret."""

from __future__ import annotations

import json
import pickle

import pytest

import hybrid
from conftest import (
    AZURE_PAGE_SIZE,
    AZURE_SECRET,
    AZURE_SERVERS,
    FakeAzure,
    run,
)

WRONG_SECRET = "not-the-Secret-Zq71~x"
AZURE_GAPS = {"network.routers", "image.upload", "image.import_url", "image.download"}


def _texts_of(err: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, args, attributes, causes, its pickle."""
    out = [str(err), repr(err), repr(err.args), repr(vars(err))]
    cause = err.__cause__
    while cause is not None:
        out += [str(cause), repr(cause)]
        cause = cause.__cause__
    out.append(pickle.dumps(err).decode("latin-1"))
    return out


# ------------------------------------------------------------------- sync

def test_connect_info_and_capabilities_with_reasons(az_cloud, fake_azure: FakeAzure):
    info = az_cloud.info
    assert (info.kind, info.name, info.region, info.simulated) == ("azure", "az-py", fake_azure.settings["AZURE_LOCATION"], False)
    assert "hybrid-rg" in info.variant
    assert repr(az_cloud) == "Cloud(kind='azure', name='az-py', region='westeurope')"
    az_cloud.check()
    caps = az_cloud.capabilities
    gaps = dict(caps.unsupported())
    assert set(gaps) == AZURE_GAPS
    assert caps.network.routers.reason.kind == "platform_never"
    assert "routes between its subnets" in caps.network.routers.reason.message
    assert {gaps[p].reason.kind for p in ("image.upload", "image.import_url", "image.download")} == {"not_implemented"}
    assert "Blob storage" in caps.image.upload.reason.message
    assert caps.network.security_groups and caps.network.sdn and caps.compute.servers
    assert caps.platform.image_sharing.supported and caps.platform.live_migration.supported


def test_list_servers_across_pages(az_cloud):
    servers = list(az_cloud.compute.list_servers())
    assert len(servers) == AZURE_SERVERS
    assert len({s.id for s in servers}) == AZURE_SERVERS
    assert all(s.status == "ACTIVE" for s in servers)
    assert sorted(s.name for s in servers) == [f"vm-{i:05}" for i in range(1, AZURE_SERVERS + 1)]
    s = servers[0]
    assert s.id.startswith("/subscriptions/") and "/providers/Microsoft.Compute/virtualMachines/" in s.id
    assert isinstance(s.raw, dict) and s.raw["name"] == s.name
    assert s.flavor == "Standard_B1s"

    # The same listing page by page: ARM's nextLink, resumable as a token.
    c = az_cloud.compute
    first = c.list_servers_page()
    assert len(first) == AZURE_PAGE_SIZE and first.has_next and first.next_token
    pages, ids, token = 1, [x.id for x in first], first.next_token
    while token is not None:
        page = c.list_servers_page(page_token=token)
        ids.extend(x.id for x in page)
        token = page.next_token
        pages += 1
    assert ids == [x.id for x in servers]
    assert pages == -(-AZURE_SERVERS // AZURE_PAGE_SIZE)


def test_get_find_and_not_found_with_http_facts(az_cloud):
    c = az_cloud.compute
    s = next(iter(c.list_servers()))
    got = c.get_server(s.id)
    assert got == c.get_server(s.name) and got.name == s.name and got.status == "ACTIVE"
    assert c.find_server(s.name).id == s.id
    assert c.find_server("no-such-vm") is None
    with pytest.raises(hybrid.NotFoundError) as e:
        c.get_server("no-such-vm")
    err = e.value
    assert (err.kind, err.http_status, err.provider, err.operation, err.retryable) == ("not_found", 404, "az-py", "get_server", False)
    assert err.request_id and f"request id {err.request_id}" in str(err)
    assert "no-such-vm" in err.message


def test_create_wait_and_delete_a_server(own_fake_azure: FakeAzure):
    cloud = own_fake_azure.cloud()
    c = cloud.compute
    assert list(c.list_servers()) == []
    flavor = c.smallest_flavor(1, 512)
    assert flavor.vcpus >= 1 and flavor.ram_mib >= 512
    image = next(iter(cloud.images.list_images()))
    net = next(iter(cloud.network.list_networks()))
    assert net.kind == "overlay"
    op = c.create_server("py-az-web", flavor.id, image=image.id, networks=[net.id], metadata={"owner": "py"}, wait=False)
    assert isinstance(op, hybrid.Operation) and op.resource.endswith("/virtualMachines/py-az-web")
    server = op.result(timeout=60)
    assert op.done and op.result() == server
    assert (server.name, server.status, server.metadata) == ("py-az-web", "ACTIVE", {"owner": "py"})
    assert server.flavor == flavor.id and server.image == image.id
    assert server.addresses and server.addresses[0].address.startswith("10.")
    assert [s.id for s in c.list_servers()] == [server.id]
    with pytest.raises(hybrid.AlreadyExistsError):
        c.create_server("py-az-web", flavor.id, image=image.id, networks=[net.id], timeout=60)
    assert c.delete_server(server.id, timeout=60) is None
    with pytest.raises(hybrid.NotFoundError):
        c.get_server(server.id)
    assert list(c.list_servers()) == []


def test_refusals_come_with_reasons_before_any_request(own_fake_azure: FakeAzure):
    from conftest import stop_fake_azure

    cloud = own_fake_azure.cloud()
    routers = cloud.capabilities.network.routers
    # Nothing answers from now on: any request would be a TransportError.
    stop_fake_azure(own_fake_azure)
    assert own_fake_azure.process.returncode is not None

    with pytest.raises(hybrid.UnsupportedError) as e:
        cloud.network.create_network("vlan100", "vlan", segmentation_id=100, physical_network="physnet1")
    assert e.value.kind == "unsupported" and e.value.http_status is None and not e.value.retryable
    assert e.value.reason.kind == "platform_never"
    assert "no flat or VLAN provider networks" in e.value.reason.message
    with pytest.raises(hybrid.UnsupportedError):
        cloud.network.create_network("flat", "flat")

    with pytest.raises(hybrid.UnsupportedError) as e:
        cloud.network.create_router("r1")
    assert e.value.reason.message == routers.reason.message and e.value.reason.kind == "platform_never"
    assert (e.value.provider, e.value.operation, e.value.resource) == ("az-py", "create_router", "network.routers")

    with pytest.raises(hybrid.UnsupportedError) as e:
        cloud.images.create_image("img", data=b"\0" * 512, disk_format="vhd", container_format="bare")
    assert e.value.reason.kind == "not_implemented"

    # The refusals made no request: a call that does make one finds nobody listening.
    with pytest.raises(hybrid.TransportError) as e:
        cloud.compute.get_server("vm-00001")
    assert e.value.retryable


def test_a_wrong_secret_is_unauthenticated_without_the_secret(fake_azure: FakeAzure):
    with pytest.raises(hybrid.UnauthenticatedError) as e:
        fake_azure.cloud(secret=WRONG_SECRET)
    err = e.value
    assert isinstance(err, hybrid.HybridError)
    assert (err.kind, err.http_status, err.provider, err.retryable) == ("unauthenticated", 401, "az-py", False)
    assert err.request_id and "client secret" in str(err)
    for text in _texts_of(err):
        assert WRONG_SECRET not in text and AZURE_SECRET not in text
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is hybrid.UnauthenticatedError and back.http_status == 401 and back.provider == "az-py"


def test_the_client_secret_is_a_str_kept_secret(fake_azure: FakeAzure):
    cloud = fake_azure.cloud()
    for text in (repr(cloud), repr(cloud.info), repr(cloud.capabilities), repr(cloud.info.to_dict()), repr(cloud.compute)):
        assert AZURE_SECRET not in text
    with pytest.raises(TypeError):
        pickle.dumps(cloud)
    # A secret that is not a str is refused without showing it.
    for bad in (73519024, 7351.9024, [7351, 9024], {"value": "7351-9024"}):
        with pytest.raises(hybrid.ConfigError) as e:
            hybrid.Cloud.connect(fake_azure.config(secret=bad))
        assert "`client_secret` must be a str" in str(e.value)
        assert "7351" not in str(e.value)
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.connect({"kind": "vsphere", "url": "https://vc.example/sdk", "user": "u", "password": 90817})
    assert "`password` must be a str" in str(e.value) and "90817" not in str(e.value)
    # Other config errors name the field, never the secret beside it.
    for extra, needle in (({"resource_grup": "x"}, "resource_grup"), ({"cloud": "mars"}, "mars"), ({"location": "west/europe"}, "location")):
        with pytest.raises(hybrid.ConfigError) as e:
            hybrid.Cloud.connect(fake_azure.config(**extra))
        assert needle in str(e.value)
        for text in _texts_of(e.value):
            assert AZURE_SECRET not in text
    # The secret is required for the client secret credential.
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.connect(fake_azure.config(secret=None, credentials=["client_secret"]))
    assert "AZURE_CLIENT_SECRET" in str(e.value)


def test_from_env_from_file_and_an_empty_config(fake_azure: FakeAzure, monkeypatch, tmp_path):
    for name, value in fake_azure.settings.items():
        if name.startswith("AZURE_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("HYBRID_CONFIG", raising=False)
    monkeypatch.setenv("HYBRID_PROVIDER", "azure")
    cloud = hybrid.Cloud.from_env()
    assert (cloud.info.kind, cloud.info.name) == ("azure", "azure")
    assert len(list(cloud.compute.list_servers())) == AZURE_SERVERS
    # `{"kind": "azure"}` alone reads the same variables when connecting.
    assert hybrid.Cloud.connect({"kind": "azure"}).info.region == fake_azure.settings["AZURE_LOCATION"]
    path = tmp_path / "azure.json"
    path.write_text(json.dumps(fake_azure.config(name="az-file")))
    assert hybrid.Cloud.from_file(path).info.name == "az-file"

    async def from_env():
        return await hybrid.Cloud.afrom_env()

    assert run(from_env()).info.kind == "azure"
    monkeypatch.setenv("AZURE_CLIENT_SECRET", WRONG_SECRET)
    with pytest.raises(hybrid.UnauthenticatedError) as e:
        hybrid.Cloud.from_env()
    assert all(WRONG_SECRET not in t for t in _texts_of(e.value))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.from_env()
    assert "AZURE_SUBSCRIPTION_ID" in str(e.value)


def test_a_fleet_environment_of_kind_azure(fake_azure: FakeAzure, monkeypatch):
    monkeypatch.setenv("HYBRID_PY_TEST_AZURE_SECRET", AZURE_SECRET)
    s = fake_azure.settings
    text = f"""
deadline_ms: 20000
environments:
  vsphere-prod:
    kind: mock
    profile: vsphere
    servers: 2
    roles: [traditional]
  azure-public:
    kind: azure
    name: azure-public
    subscription_id: {s["AZURE_SUBSCRIPTION_ID"]}
    resource_group: {s["AZURE_RESOURCE_GROUP"]}
    location: {s["AZURE_LOCATION"]}
    tenant_id: {s["AZURE_TENANT_ID"]}
    client_id: {s["AZURE_CLIENT_ID"]}
    client_secret_from: {{env: HYBRID_PY_TEST_AZURE_SECRET}}
    cloud: {{authority_host: "{fake_azure.url}", resource_manager: "{fake_azure.url}"}}
    roles: [public-web]
    tags: {{public_bandwidth: high}}
"""
    fleet = hybrid.Fleet.from_yaml(text)
    assert fleet.environments == ["vsphere-prod", "azure-public"]
    assert AZURE_SECRET not in repr(fleet)
    az = fleet.cloud("azure-public")
    assert (az.info.kind, az.info.name) == ("azure", "azure-public")

    events = list(fleet.inventory(kinds=["servers", "networks"]))
    reports = {e.environment: e.report for e in events if e.kind == "finished"}
    assert reports["azure-public"].is_complete and reports["azure-public"].errors == []
    counts = reports["azure-public"].counts
    assert (counts["servers"], counts["networks"]) == (AZURE_SERVERS, 1)
    az_servers = [e.resource for e in events if e.kind == "item" and e.environment == "azure-public" and isinstance(e.resource, hybrid.Server)]
    assert len(az_servers) == AZURE_SERVERS

    # A workload on a flat VLAN cannot go to Azure; a public web server can.
    vlan = fleet.place(hybrid.WorkloadSpec("db", 1, 1024, os_family="linux", vlan_id=120))
    rejected = vlan.rejection("azure-public")
    assert rejected is not None and any(f.constraint == "network" for f in rejected.findings)
    assert "VLAN" in rejected.explanation
    web = fleet.place(hybrid.WorkloadSpec("web", 1, 1024, image="ubuntu-22.04-image", public_ip=True))
    assert web.chosen.environment == "azure-public"
    assert web.rejection("vsphere-prod") is not None

    # A wrong secret in one environment is that environment's failure, not the fleet's.
    monkeypatch.setenv("HYBRID_PY_TEST_AZURE_SECRET", WRONG_SECRET)
    fleet = hybrid.Fleet.from_yaml(text)
    reports = {e.environment: e.report for e in fleet.inventory(kinds=["servers"]) if e.kind == "finished"}
    assert reports["vsphere-prod"].is_complete and reports["vsphere-prod"].counts["servers"] == 2
    down = reports["azure-public"]
    assert not down.is_complete and isinstance(down.errors[0], hybrid.UnauthenticatedError)
    assert WRONG_SECRET not in down.summary and all(WRONG_SECRET not in t for t in _texts_of(down.errors[0]))


# ----------------------------------------------------------------- asyncio

def test_async_connect_list_get_and_errors(fake_azure: FakeAzure):
    async def main():
        cloud = await hybrid.Cloud.aconnect(fake_azure.config())
        await cloud.acheck()
        names = [s.name async for s in cloud.compute.alist_servers()]
        page = await cloud.compute.alist_servers_page()
        rest = await cloud.compute.alist_servers_page(page_token=page.next_token)
        got = await cloud.compute.aget_server(names[0])
        flavors = [f async for f in cloud.compute.alist_flavors()]
        with pytest.raises(hybrid.NotFoundError) as missing:
            await cloud.compute.aget_server("no-such-vm")
        with pytest.raises(hybrid.UnsupportedError) as vlan:
            await cloud.network.acreate_network("vlan7", "vlan", segmentation_id=7)
        with pytest.raises(hybrid.UnauthenticatedError) as bad:
            await hybrid.Cloud.aconnect(fake_azure.config(secret=WRONG_SECRET))
        return names, page, rest, got, flavors, missing.value, vlan.value, bad.value

    names, page, rest, got, flavors, missing, vlan, bad = run(main())
    assert len(names) == AZURE_SERVERS and len(set(names)) == AZURE_SERVERS
    assert len(page) == AZURE_PAGE_SIZE and len(rest) == AZURE_PAGE_SIZE
    assert {s.name for s in page}.isdisjoint({s.name for s in rest})
    assert got.name == names[0] and got.status == "ACTIVE"
    assert flavors and all(f.vcpus > 0 and f.ram_mib > 0 for f in flavors)
    assert missing.http_status == 404 and missing.provider == "az-py"
    assert vlan.reason.kind == "platform_never"
    assert bad.http_status == 401 and not bad.retryable
    assert all(WRONG_SECRET not in t for t in _texts_of(bad))


def test_async_create_and_delete(own_fake_azure: FakeAzure):
    async def main():
        cloud = await hybrid.Cloud.aconnect(own_fake_azure.config())
        c = cloud.compute
        flavor = await c.asmallest_flavor(1, 512)
        image = [i async for i in cloud.images.alist_images()][0]
        net = [n async for n in cloud.network.alist_networks()][0]
        server = await c.acreate_server("py-az-async", flavor.id, image=image.id, networks=[net.id], timeout=60)
        listed = [s.id async for s in c.alist_servers()]
        await c.adelete_server(server.id, timeout=60)
        after = [s.id async for s in c.alist_servers()]
        return server, listed, after

    server, listed, after = run(main())
    assert server.name == "py-az-async" and server.status == "ACTIVE"
    assert listed == [server.id] and after == []
