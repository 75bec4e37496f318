"""The bindings against a local fake OpenStack (Keystone, Nova, Neutron, Cinder,
Glance) over HTTP on 127.0.0.1, configured through clouds.yaml as openstacksdk users
configure theirs."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

import hybrid
from conftest import FAKE_SERVERS, run


def test_connect_and_list_every_server_across_pages(os_cloud):
    info = os_cloud.info
    assert (info.kind, info.name, info.region, info.simulated) == ("openstack", "fake", "RegionOne", False)
    assert os_cloud.capabilities.unsupported() == []
    os_cloud.check()
    servers = list(os_cloud.compute.list_servers(page_size=100))
    assert len(servers) == FAKE_SERVERS
    assert len({s.id for s in servers}) == FAKE_SERVERS
    assert all(s.status == "ACTIVE" for s in servers)
    assert isinstance(servers[0].raw, dict) and servers[0].raw["id"] == servers[0].id


def test_resumable_pages(os_cloud):
    c = os_cloud.compute
    first = c.list_servers_page(page_size=100)
    assert len(first) == 100 and first.has_next
    ids = [s.id for s in first]
    token = first.next_token
    while token is not None:
        page = c.list_servers_page(page_size=100, page_token=token)
        ids.extend(s.id for s in page)
        token = page.next_token
    assert ids == [s.id for s in c.list_servers(page_size=100)]
    assert len(ids) == FAKE_SERVERS


def test_get_and_not_found_with_http_facts(os_cloud):
    c = os_cloud.compute
    s = next(iter(c.list_servers(page_size=1)))
    assert c.get_server(s.id).name == s.name
    with pytest.raises(hybrid.NotFoundError) as e:
        c.get_server("00000000-0000-0000-0000-000000000000")
    err = e.value
    assert err.http_status == 404 and err.kind == "not_found"
    assert err.request_id and err.request_id.startswith("req-")
    assert err.service_code == "itemNotFound"
    assert err.provider == "fake" and err.operation == "get_server"
    assert f"request id {err.request_id}" in str(err)


def test_server_network_volume_and_image_lifecycles(os_cloud):
    cloud = os_cloud
    c = cloud.compute
    flavor = c.smallest_flavor(1, 512)
    image = next(iter(cloud.images.list_images()))
    net = cloud.network.create_network("py-net", "vxlan")
    sub = cloud.network.create_subnet(net.id, "py-sub", "10.77.0.0/24")
    server = c.create_server("py-web", flavor.id, image=image.id, networks=[net.id], metadata={"k": "v"}, timeout=60)
    assert server.status == "ACTIVE" and server.metadata == {"k": "v"}
    vol = cloud.storage.create_volume("py-vol", 1, timeout=60)
    att = cloud.storage.attach_volume(vol.id, server.id, timeout=60)
    assert att.server_id == server.id
    cloud.storage.detach_volume(vol.id, server.id, timeout=60)
    cloud.storage.delete_volume(vol.id, timeout=60)
    c.delete_server(server.id, timeout=60)
    with pytest.raises(hybrid.NotFoundError):
        c.get_server(server.id)
    cloud.network.delete_subnet(sub.id)
    cloud.network.delete_network(net.id)

    data = bytes(range(256)) * 64
    img = cloud.images.create_image("py-img", data=data, disk_format="raw", container_format="bare", timeout=60)
    assert img.status == "active" and img.size_bytes == len(data)
    assert cloud.images.download_image(img.id) == data
    cloud.images.delete_image(img.id)


def test_async_against_the_fake(fake_openstack):
    async def main():
        cloud = await hybrid.Cloud.aopenstack("fake", clouds_yaml=fake_openstack.clouds_yaml)
        n = 0
        async for _ in cloud.compute.alist_servers(page_size=64):
            n += 1
        flavors = [f async for f in cloud.compute.alist_flavors()]
        return n, flavors

    n, flavors = run(main())
    assert n == FAKE_SERVERS and flavors and all(f.vcpus > 0 for f in flavors)


def test_the_other_ways_to_connect(fake_openstack, tmp_path, monkeypatch):
    clouds = str(fake_openstack.clouds_yaml)
    cfg = {"kind": "openstack", "cloud": "fake", "clouds_yaml": clouds}
    assert hybrid.Cloud.connect(cfg).info.name == "fake"
    path = tmp_path / "hybrid.json"
    path.write_text(json.dumps(cfg))
    assert hybrid.Cloud.from_file(path).info.name == "fake"
    assert hybrid.Cloud.from_file(str(path)).info.region == "RegionOne"
    monkeypatch.delenv("HYBRID_CONFIG", raising=False)
    monkeypatch.setenv("HYBRID_PROVIDER", "openstack")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds)
    monkeypatch.setenv("OS_CLOUD", "fake")
    assert hybrid.Cloud.from_env().info.name == "fake"
    monkeypatch.setenv("HYBRID_CONFIG", str(path))

    async def from_env():
        return await hybrid.Cloud.afrom_env()

    assert run(from_env()).info.name == "fake"
    # Async twins start their work at once, so they need a running event loop.
    with pytest.raises(RuntimeError, match="no running event loop"):
        hybrid.Cloud.afrom_env()


def test_wrong_password_is_unauthenticated_and_not_echoed(fake_openstack, tmp_path):
    secret = "wrong-pw-81c2e"
    text = pathlib.Path(fake_openstack.clouds_yaml).read_text().replace("password: secret", f"password: {secret}")
    bad = tmp_path / "clouds.yaml"
    bad.write_text(text)
    with pytest.raises(hybrid.UnauthenticatedError) as e:
        hybrid.Cloud.openstack("fake", clouds_yaml=bad)
    assert e.value.http_status == 401
    assert secret not in str(e.value) and secret not in repr(vars(e.value))


def test_nothing_listening_is_a_transport_error(tmp_path):
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  gone:\n    auth:\n      auth_url: http://127.0.0.1:9/identity/v3\n"
        "      username: u\n      password: p\n      project_name: p\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
    )
    with pytest.raises(hybrid.TransportError) as e:
        hybrid.Cloud.openstack("gone", clouds_yaml=tmp_path / "clouds.yaml")
    assert e.value.retryable
    assert e.value.__cause__ is not None, "the Rust source chain is kept as __cause__"


def test_a_vsphere_backed_region_refuses_what_vmware_cannot(tmp_path):
    from conftest import start_fake, stop_fake

    fake = start_fake(tmp_path, "--hypervisor-type", "VMware vCenter Server", "--servers", "3")
    try:
        cloud = fake.cloud()
        caps = cloud.capabilities
        assert cloud.info.variant and "vmware" in cloud.info.variant.lower()
        assert not caps.network.security_groups
        assert caps.network.security_groups.reason.kind in ("deployment_dependent", "platform_never")
        with pytest.raises(hybrid.UnsupportedError) as e:
            cloud.network.create_security_group("web")
        assert e.value.reason.message == caps.network.security_groups.reason.message
        assert len(list(cloud.compute.list_servers())) == 3
    finally:
        stop_fake(fake)
    assert fake.process.returncode is not None


@pytest.mark.skipif(os.name != "posix", reason="uses a POSIX signal")
def test_fake_is_ours_and_stops(fake_openstack):
    assert fake_openstack.process.poll() is None
