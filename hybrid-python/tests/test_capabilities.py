"""Capabilities with reasons, and the fail-fast gate: an unsupported call raises
UnsupportedError with the reason and makes no request."""

from __future__ import annotations

import pytest

import hybrid


def test_vsphere_limits_are_data_with_reasons():
    caps = hybrid.Cloud.mock("vsphere").capabilities
    sg = caps.network.security_groups
    assert isinstance(sg, hybrid.Capability)
    assert not sg and sg.supported is False
    assert sg.reason.kind == "deployment_dependent"
    assert "NSX" in sg.reason.message
    assert caps["network.sdn"].reason.kind == "deployment_dependent"
    assert caps.platform.object_storage.reason.kind == "platform_never"
    assert "Swift" in caps.platform.object_storage.reason.message
    assert caps.platform.image_sharing.supported is False
    assert caps.compute.servers and caps.compute.servers.reason is None
    assert caps.supports("compute.servers") and not caps.supports("network.routers")
    unsupported = dict(caps.unsupported())
    assert set(unsupported) == {
        "compute.key_pairs",
        "network.sdn",
        "network.subnets",
        "network.ports",
        "network.security_groups",
        "network.routers",
        "network.floating_ips",
    }
    assert all(not c.supported and c.reason is not None for c in unsupported.values())
    assert set(hybrid.FEATURES) >= set(unsupported)
    d = caps.to_dict()
    assert d["network"]["security_groups"]["reason"]["kind"] == "deployment_dependent"
    assert d["compute"]["servers"] == {"supported": True}
    with pytest.raises(KeyError):
        caps["network.nope"]
    with pytest.raises(AttributeError):
        caps.network.nope
    names = [name for name, _ in caps.network]
    assert "sdn" in names and "security_groups" in names


def test_profiles_differ_as_their_backends_do():
    nsx = hybrid.Cloud.mock("vsphere_nsx").capabilities
    assert nsx.network.sdn and nsx.network.security_groups and not nsx.network.ports
    kvm = hybrid.Cloud.mock("openstack_kvm").capabilities
    assert kvm.unsupported() == []
    on_vmware = hybrid.Cloud.mock("openstack_on_vsphere").capabilities
    assert {p for p, _ in on_vmware.unsupported()} == {
        "network.sdn",
        "network.security_groups",
        "network.routers",
        "network.floating_ips",
    }
    azure = hybrid.Cloud.mock("azure").capabilities
    assert not azure.image.upload and azure.image.import_url
    assert kvm == hybrid.Cloud.mock("openstack_kvm").capabilities
    assert kvm != nsx


def test_unsupported_calls_fail_fast_without_a_request():
    mock = hybrid.Mock("vsphere")
    net = mock.cloud.network
    mock.reset_counters()
    with pytest.raises(hybrid.UnsupportedError) as e:
        net.create_security_group("web")
    err = e.value
    assert err.kind == "unsupported"
    assert err.reason is not None and err.reason.kind == "deployment_dependent"
    assert "NSX" in err.reason.message and "NSX" in str(err)
    assert err.resource == "network.security_groups"
    assert err.retryable is False and err.http_status is None
    assert isinstance(err, hybrid.HybridError)
    for call in (
        lambda: list(net.list_routers()),
        lambda: net.create_network("overlay", "overlay"),
        lambda: mock.cloud.compute.create_key_pair("k", "ssh-ed25519 AAAA"),
        lambda: net.create_port("net-0000000003", "p"),
        lambda: net.create_floating_ip(),
    ):
        with pytest.raises(hybrid.UnsupportedError):
            call()
    assert mock.total_requests() == 0, mock.request_counts()
    # A flat VLAN network is what vSphere without NSX can do.
    vlan = net.create_network("pg-300", "vlan", segmentation_id=300)
    assert vlan.kind == "vlan"
    assert mock.total_requests() > 0


def test_vsphere_images_are_bound_to_the_datastore():
    img = next(iter(hybrid.Cloud.mock("vsphere").images.list_images()))
    assert img.locality.shareable is False and img.locality.bound_to
    kvm_img = next(iter(hybrid.Cloud.mock("openstack_kvm").images.list_images()))
    assert kvm_img.locality.shareable is True


def test_provider_info():
    cloud = hybrid.Cloud.mock("openstack_on_vsphere", name="os-vmw", region="RegionTwo")
    info = cloud.info
    assert (info.kind, info.name, info.region, info.simulated) == ("openstack", "os-vmw", "RegionTwo", True)
    assert info.variant == "openstack on vsphere"
    assert info.to_dict()["name"] == "os-vmw"
    assert repr(cloud) == "Cloud(kind='openstack', name='os-vmw', region='RegionTwo')"
