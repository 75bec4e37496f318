"""The blocking API over the in-memory mock: every domain's list / get / create /
delete / actions, paging and operations."""

from __future__ import annotations

import pytest

import hybrid


def test_lists_page_lazily_and_resume_from_tokens():
    mock = hybrid.Mock("openstack_kvm", servers=25)
    compute = mock.cloud.compute
    mock.reset_counters()

    it = compute.list_servers(page_size=10)
    assert mock.request_count("list_servers") == 0, "nothing is fetched before the first next()"
    first = next(it)
    assert mock.request_count("list_servers") == 1
    rest = list(it)
    assert mock.request_count("list_servers") == 3, "25 servers in pages of 10: three requests"
    names = [first.name] + [s.name for s in rest]
    assert len(names) == 25 and len(set(names)) == 25
    assert it.exhausted
    with pytest.raises(StopIteration):
        next(it)

    page = compute.list_servers_page(page_size=10)
    assert len(page) == 10 and page.has_next and isinstance(page.next_token, str)
    second = compute.list_servers_page(page_size=10, page_token=page.next_token)
    third = compute.list_servers_page(page_size=10, page_token=second.next_token)
    assert not third.has_next and third.next_token is None
    paged = [s.name for p in (page, second, third) for s in p]
    assert paged == names


def test_list_filters_by_name_and_tags():
    cloud = hybrid.Cloud.mock("openstack_kvm", servers=3, delays="instant")
    c = cloud.compute
    s = c.create_server("tagged", "1", image="img-0000000001", tags=["web", "prod"])
    assert [x.id for x in c.list_servers(tags=["web", "prod"])] == [s.id]
    assert list(c.list_servers(tags=["web", "nope"])) == []
    assert [x.id for x in c.list_servers(name="tagged")] == [s.id]
    assert c.find_server("tagged") == s
    assert c.find_server("absent") is None


def test_server_lifecycle_and_actions(kvm):
    c = kvm.cloud.compute
    flavor = c.smallest_flavor(1, 512)
    assert flavor is not None and flavor.vcpus >= 1 and flavor.ram_mib >= 512
    big = c.smallest_flavor(4, 8192)
    assert big is not None and big.vcpus >= 4 and big.ram_mib >= 8192

    server = c.create_server(
        "web-1",
        flavor.id,
        image="img-0000000001",
        networks=["net-0000000004", {"network": "net-0000000003"}],
        metadata={"role": "web"},
        tags=["t1"],
        user_data="#cloud-config\n",
    )
    assert isinstance(server, hybrid.Server)
    assert server.name == "web-1" and server.status == "ACTIVE"
    assert server.flavor == flavor.id and server.image == "img-0000000001"
    assert server.metadata == {"role": "web"} and server.tags == ["t1"]
    assert all(isinstance(a, hybrid.ServerAddress) for a in server.addresses)
    assert c.get_server(server.id) == server

    stopped = c.stop_server(server.id)
    assert stopped.status == "SHUTOFF"
    assert c.start_server(server.id).status == "ACTIVE"
    assert c.reboot_server(server.id, hard=True).status == "ACTIVE"
    resized = c.resize_server(server.id, big.id)
    assert resized.flavor == big.id

    assert c.set_server_tags(server.id, ["a", "b"]) == ["a", "b"]
    c.add_server_tag(server.id, "c")
    c.remove_server_tag(server.id, "a")
    assert sorted(c.get_server(server.id).tags) == ["b", "c"]
    assert c.set_server_metadata(server.id, {"tier": "1"}) == {"role": "web", "tier": "1"}
    c.delete_server_metadata(server.id, "role")
    assert c.get_server(server.id).metadata == {"tier": "1"}

    assert c.delete_server(server.id) is None
    with pytest.raises(hybrid.NotFoundError):
        c.get_server(server.id)


def test_wait_false_returns_an_operation_to_wait_for_later():
    mock = hybrid.Mock("openstack_kvm")  # default delays: BUILD lasts 200 ms
    c = mock.cloud.compute
    op = c.create_server("slow", "1", image="img-0000000001", wait=False)
    assert isinstance(op, hybrid.Operation)
    assert not op.done
    assert "slow" in op.description or op.resource
    building = c.find_server("slow")
    assert building is not None and building.status == "BUILD"
    server = op.result(timeout=30)
    assert server.status == "ACTIVE" and op.done
    assert op.result() == server, "a second result() returns the same value"
    assert "done=True" in repr(op)

    delete = c.delete_server(server.id, wait=False)
    assert isinstance(delete, hybrid.Operation)
    assert delete.result() is None


def test_operation_timeout_raises_timeout_error():
    mock = hybrid.Mock("openstack_kvm", delays={"build_ms": 5000})
    op = mock.cloud.compute.create_server("x", "1", image="img-0000000001", wait=False)
    with pytest.raises(hybrid.TimeoutError) as e:
        op.result(timeout=0.3)
    assert isinstance(e.value, TimeoutError), "hybrid.TimeoutError is a builtin TimeoutError"
    assert e.value.kind == "timeout"
    # The result is kept: the same error again.
    with pytest.raises(hybrid.TimeoutError):
        op.result()
    with pytest.raises(hybrid.InvalidInputError):
        mock.cloud.compute.create_server("y", "1", image="img-0000000001", timeout=-1)


def test_key_pairs_flavors_and_images(kvm):
    c = kvm.cloud.compute
    kp = c.create_key_pair("me", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake me@host")
    assert kp.name == "me" and kp.public_key.startswith("ssh-ed25519")
    assert [k.name for k in c.list_key_pairs()] == ["me"]
    assert c.get_key_pair("me") == kp
    with pytest.raises(hybrid.AlreadyExistsError):
        c.create_key_pair("me", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake me@host")
    c.delete_key_pair("me")
    with pytest.raises(hybrid.NotFoundError):
        c.get_key_pair("me")

    flavors = list(c.list_flavors())
    assert len(flavors) >= 4 and all(isinstance(f, hybrid.Flavor) for f in flavors)
    assert c.get_flavor(flavors[0].id) == flavors[0]
    assert c.find_flavor(flavors[0].name) == flavors[0]

    img = kvm.cloud.images
    data = b"\x00hybrid-image\xff" * 100
    up = img.create_image("blob", data=data, disk_format="raw", container_format="bare", tags=["x"])
    assert up.status == "active" and up.size_bytes == len(data)
    assert img.download_image(up.id) == data
    with pytest.raises(hybrid.InvalidResponseError):
        img.download_image(up.id, max_bytes=10)
    imported = img.create_image("from-url", url="https://images.example/cirros.img", disk_format="qcow2")
    assert imported.status == "active"
    assert len(img.download_image(imported.id)) == 4096
    assert img.find_image("blob") == img.get_image(up.id)
    with pytest.raises(hybrid.InvalidInputError):
        img.create_image("neither")
    with pytest.raises(hybrid.InvalidInputError):
        img.create_image("both", data=b"x", url="https://x")
    img.delete_image(up.id)
    with pytest.raises(hybrid.NotFoundError):
        img.get_image(up.id)


def test_network_domain(kvm):
    n = kvm.cloud.network
    net = n.create_network("app", "overlay", tags=["t"])
    assert isinstance(net, hybrid.Network) and net.kind == "overlay" and net.tags == ["t"]
    vlan = n.create_network("v100", "vlan", segmentation_id=100, physical_network="physnet1")
    assert vlan.segmentation_id == 100
    sub = n.create_subnet(net.id, "app-v4", "10.20.0.0/24", dns_nameservers=["10.0.0.53"])
    assert sub.cidr == "10.20.0.0/24" and sub.ip_version == 4 and sub.network_id == net.id
    assert n.get_network(net.id).subnets == [sub.id]
    sub6 = n.create_subnet(net.id, "app-v6", "fd00::/64", ip_version=6)
    assert sub6.ip_version == 6
    with pytest.raises(hybrid.InvalidInputError):
        n.create_subnet(net.id, "bad", "10.30.0.0/24", ip_version=5)

    sg = n.create_security_group("web", "web servers")
    rule = n.create_security_group_rule(sg.id, "ingress", protocol="tcp", port_min=443, port_max=443, remote_cidr="0.0.0.0/0")
    assert rule.direction == "ingress" and rule.port_min == 443 and rule.remote == {"cidr": "0.0.0.0/0"}
    assert [r.id for r in n.get_security_group(sg.id).rules if r.port_min == 443] == [rule.id]
    with pytest.raises(hybrid.InvalidInputError):
        n.create_security_group_rule(sg.id, "sideways")
    with pytest.raises(hybrid.InvalidInputError):
        n.create_security_group_rule(sg.id, remote_cidr="0.0.0.0/0", remote_group=sg.id)
    assert n.find_security_group("web") == n.get_security_group(sg.id)

    port = n.create_port(net.id, "p1", fixed_ips=[{"ip_address": "10.20.0.10", "subnet_id": sub.id}], security_groups=[sg.id])
    assert [ip.ip_address for ip in port.fixed_ips] == ["10.20.0.10"]
    assert port.security_groups == [sg.id]

    public = n.find_network("public")
    router = n.create_router("r1", external_network=public.id)
    assert n.add_router_interface(router.id, sub.id).interfaces == [sub.id]
    assert n.remove_router_interface(router.id, sub.id).interfaces == []

    fip = n.create_floating_ip(network_id=public.id)
    assert fip.port_id is None
    assert n.associate_floating_ip(fip.id, port.id).port_id == port.id
    assert n.associate_floating_ip(fip.id, None).port_id is None
    assert [f.id for f in n.list_floating_ips()] == [fip.id]

    for delete, rid in [
        (n.delete_floating_ip, fip.id),
        (n.delete_router, router.id),
        (n.delete_port, port.id),
        (n.delete_security_group_rule, rule.id),
        (n.delete_security_group, sg.id),
        (n.delete_subnet, sub6.id),
        (n.delete_subnet, sub.id),
        (n.delete_network, net.id),
    ]:
        assert delete(rid) is None
    with pytest.raises(hybrid.NotFoundError):
        n.get_network(net.id)
    assert [x.name for x in n.list_networks(name="v100")] == ["v100"]
    assert list(n.list_ports()) == [] and list(n.list_routers()) == []


def test_storage_domain(kvm):
    cloud = kvm.cloud
    s = cloud.storage
    server = next(iter(cloud.compute.list_servers()))
    vol = s.create_volume("data", 10, metadata={"app": "db"})
    assert vol.status == "available" and vol.size_gib == 10 and vol.metadata == {"app": "db"}
    att = s.attach_volume(vol.id, server.id)
    assert isinstance(att, hybrid.Attachment) and att.volume_id == vol.id and att.server_id == server.id
    assert s.get_volume(vol.id).status == "in-use"
    with pytest.raises(hybrid.ConflictError):
        s.create_snapshot(vol.id, "snap")
    snap = s.create_snapshot(vol.id, "snap", force=True)
    assert snap.volume_id == vol.id and snap.status == "available"
    assert s.detach_volume(vol.id, server.id) is None
    assert s.extend_volume(vol.id, 20).size_gib == 20
    with pytest.raises(hybrid.InvalidInputError):
        s.extend_volume(vol.id, 5)
    clone = s.create_volume("clone", 10, snapshot_id=snap.id)
    assert clone.status == "available"
    assert {v.name for v in s.list_volumes()} == {"data", "clone"}
    assert [x.id for x in s.list_snapshots()] == [snap.id]
    assert s.find_volume("clone") == s.get_volume(clone.id)
    s.delete_volume(clone.id)
    s.delete_snapshot(snap.id)
    s.delete_volume(vol.id)
    assert list(s.list_volumes()) == []
