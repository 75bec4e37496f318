"""Models: attributes, plain-data round trips, pickling, equality, repr."""

from __future__ import annotations

import copy
import pickle

import pytest

import hybrid


@pytest.fixture(scope="module")
def world():
    cloud = hybrid.Cloud.mock("openstack_kvm", servers=2, delays="instant")
    n, s, c = cloud.network, cloud.storage, cloud.compute
    net = n.create_network("m-net", "overlay")
    sub = n.create_subnet(net.id, "m-sub", "10.9.0.0/24")
    sg = n.create_security_group("m-sg")
    rule = n.create_security_group_rule(sg.id, "egress", protocol="udp", remote_group=sg.id)
    port = n.create_port(net.id, "m-port", fixed_ips=["10.9.0.7"])
    router = n.create_router("m-router")
    fip = n.create_floating_ip()
    vol = s.create_volume("m-vol", 2)
    server = next(iter(c.list_servers()))
    att = s.attach_volume(vol.id, server.id)
    snap = s.create_snapshot(vol.id, "m-snap", force=True)
    kp = c.create_key_pair("m-kp", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM m@h")
    return {
        "server": c.get_server(server.id),
        "address": c.get_server(server.id).addresses[0],
        "flavor": next(iter(c.list_flavors())),
        "key_pair": kp,
        "network": n.get_network(net.id),
        "subnet": sub,
        "port": port,
        "fixed_ip": port.fixed_ips[0],
        "security_group": n.get_security_group(sg.id),
        "rule": rule,
        "router": router,
        "floating_ip": fip,
        "volume": s.get_volume(vol.id),
        "attachment": att,
        "snapshot": snap,
        "image": next(iter(cloud.images.list_images())),
        "locality": next(iter(cloud.images.list_images())).locality,
    }


def test_every_model_round_trips_through_dicts_and_pickles(world):
    for name, model in world.items():
        d = model.to_dict()
        assert isinstance(d, dict), name
        back = type(model).from_dict(d)
        assert back == model, name
        assert pickle.loads(pickle.dumps(model)) == model, name
        assert copy.deepcopy(model) == model, name
        assert repr(model).startswith(type(model).__name__ + "("), name
        assert type(model).__module__ == "hybrid", name


def test_attributes_are_plain_python(world):
    srv = world["server"]
    assert isinstance(srv.id, str) and isinstance(srv.tags, list) and isinstance(srv.metadata, dict)
    assert srv.addresses[0].kind in ("fixed", "floating")
    rule = world["rule"]
    assert rule.direction == "egress" and rule.protocol == "udp"
    assert rule.remote == {"group": world["security_group"].id}
    assert world["subnet"].ip_version == 4
    assert world["fixed_ip"].ip_address == "10.9.0.7"
    assert world["attachment"].volume_id == world["volume"].id
    assert world["volume"].attachments == [world["attachment"]]
    assert isinstance(world["image"].locality, hybrid.ImageLocality)
    assert world["flavor"].vcpus > 0 and world["flavor"].is_public in (True, False)
    assert world["server"] != world["network"]
    assert world["server"] != world["server"].to_dict()


def test_from_dict_reports_what_does_not_fit():
    with pytest.raises(hybrid.InvalidInputError) as e:
        hybrid.Server.from_dict({"id": "x", "name": "y"})
    assert "status" in str(e.value)
    with pytest.raises(TypeError):
        hybrid.Server.from_dict({"id": object()})
    unknown = hybrid.Server.from_dict({"id": "x", "name": "y", "status": "SHELVED_OFFLOADED"})
    assert unknown.status == "SHELVED_OFFLOADED", "unknown states are kept, not refused"
    assert repr(unknown) == "Server(id='x', name='y', status='SHELVED_OFFLOADED')"


def test_pages_and_iterators_are_typed(world):
    cloud = hybrid.Cloud.mock("openstack_kvm", servers=4)
    page = cloud.compute.list_servers_page(page_size=3)
    assert isinstance(page, hybrid.Page)
    assert all(isinstance(s, hybrid.Server) for s in page.items)
    assert [s.id for s in page] == [s.id for s in page.items]
    assert "Page(items=<3 items>" in repr(page)
    assert isinstance(cloud.compute.list_servers(), hybrid.ListIterator)
    assert isinstance(cloud.compute.alist_servers(), hybrid.AsyncListIterator)
