"""The asyncio twins: awaitables on the tokio runtime, async iterators that fetch a page
at a time, concurrency, errors and cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

import hybrid
from conftest import run


def test_async_iteration_fetches_a_page_at_a_time():
    mock = hybrid.Mock("openstack_kvm", servers=23)

    async def main():
        mock.reset_counters()
        it = mock.cloud.compute.alist_servers(page_size=5)
        assert mock.request_count("list_servers") == 0
        names = []
        async for s in it:
            names.append(s.name)
            if len(names) == 1:
                assert mock.request_count("list_servers") == 1
        assert mock.request_count("list_servers") == 5
        with pytest.raises(StopAsyncIteration):
            await it.__anext__()
        return names

    names = run(main())
    sync_names = [s.name for s in mock.cloud.compute.list_servers()]
    assert names == sync_names and len(names) == 23


def test_async_crud_and_concurrency():
    mock = hybrid.Mock("openstack_kvm", delays={"build_ms": 300, "action_ms": 50, "delete_ms": 50})
    c = mock.cloud.compute

    async def main():
        flavor = await c.asmallest_flavor(1, 512)
        started = time.monotonic()
        servers = await asyncio.gather(
            *(c.acreate_server(f"web-{i}", flavor.id, image="img-0000000001") for i in range(8))
        )
        elapsed = time.monotonic() - started
        assert sorted(s.name for s in servers) == [f"web-{i}" for i in range(8)]
        assert all(s.status == "ACTIVE" for s in servers)
        got = await c.aget_server(servers[0].id)
        assert got == servers[0]
        assert await c.afind_server("web-3") == next(s for s in servers if s.name == "web-3")
        page = await c.alist_servers_page(page_size=3)
        assert len(page) == 3 and page.has_next
        stopped = await c.astop_server(servers[0].id)
        assert stopped.status == "SHUTOFF"
        op = await c.adelete_server(servers[1].id, wait=False)
        assert isinstance(op, hybrid.Operation)
        assert await op.aresult() is None
        await asyncio.gather(*(c.adelete_server(s.id) for s in servers if s.id != servers[1].id))
        assert [s async for s in c.alist_servers()] == []
        return elapsed

    elapsed = run(main())
    # Eight 300 ms builds ran concurrently, not one after the other (2.4 s).
    assert elapsed < 2.0, elapsed


def test_async_errors_are_the_same_classes():
    mock = hybrid.Mock("vsphere", servers=2)

    async def main():
        with pytest.raises(hybrid.NotFoundError) as e:
            await mock.cloud.compute.aget_server("nope")
        assert e.value.operation == "get_server"
        with pytest.raises(hybrid.UnsupportedError) as e:
            await mock.cloud.network.acreate_security_group("web")
        assert e.value.reason.kind == "deployment_dependent"
        mock.inject(hybrid.Fault.error("unavailable", operation="list_servers"))
        with pytest.raises(hybrid.UnavailableError):
            async for _ in mock.cloud.compute.alist_servers():
                pass
        mock.clear_faults()
        # An error in the middle of a listing ends it after being raised once.
        mock.inject(hybrid.Fault.error("unavailable", operation="list_servers", count=1))
        it = mock.cloud.compute.alist_servers()
        with pytest.raises(hybrid.UnavailableError):
            await it.__anext__()
        with pytest.raises(StopAsyncIteration):
            await it.__anext__()

    run(main())


def test_cancelling_an_awaitable_stops_the_rust_work():
    mock = hybrid.Mock("openstack_kvm", servers=1, faults=[hybrid.Fault.delay(5.0, operation="check")])

    async def main():
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(mock.cloud.acheck(), timeout=0.2)
        assert time.monotonic() - started < 2.0
        # The event loop and the runtime stay usable.
        assert len([s async for s in mock.cloud.compute.alist_servers()]) == 1

    run(main())


def test_async_constructors_and_other_domains():
    async def main():
        cloud = await hybrid.Cloud.aconnect({"kind": "mock", "profile": "vsphere_nsx", "servers": 2})
        assert cloud.info.kind == "vsphere" and cloud.as_mock is not None
        await cloud.acheck()
        nets = [n async for n in cloud.network.alist_networks()]
        assert {n.kind for n in nets} == {"vlan", "overlay"}
        overlay = await cloud.network.acreate_network("seg", "overlay")
        assert overlay.kind == "overlay"
        vol = await cloud.storage.acreate_volume("d", 1)
        assert (await cloud.storage.aget_volume(vol.id)).name == "d"
        imgs = [i async for i in cloud.images.alist_images()]
        assert imgs and all(not i.locality.shareable for i in imgs)
        data = await cloud.images.adownload_image(imgs[0].id)
        assert isinstance(data, bytes)

    run(main())
