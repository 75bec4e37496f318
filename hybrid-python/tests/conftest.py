"""Fixtures of hybrid's Python suite: mock clouds, and a local fake OpenStack started
from the workspace's `fake-openstack` binary (scripts/test.sh builds it and exports
HYBRID_FAKE_OPENSTACK). Only the processes started here are stopped here."""

from __future__ import annotations

import os
import pathlib
import subprocess
import time
from dataclasses import dataclass

import pytest

import hybrid

WORKSPACE = pathlib.Path(__file__).resolve().parents[2]
FAKE_SERVERS = 250


def _fake_binary() -> pathlib.Path:
    env = os.environ.get("HYBRID_FAKE_OPENSTACK")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = WORKSPACE / "target" / profile / "fake-openstack"
        if p.exists():
            return p
    raise RuntimeError(
        "fake-openstack not built: run `cargo build -p hybrid-fake-openstack --bin fake-openstack` "
        "or set HYBRID_FAKE_OPENSTACK (scripts/test.sh does both)"
    )


@dataclass
class FakeOpenStack:
    """A running fake: its clouds.yaml (entry `fake`), auth URL and process."""

    clouds_yaml: pathlib.Path
    auth_url: str
    process: subprocess.Popen

    def cloud(self, **kw) -> hybrid.Cloud:
        return hybrid.Cloud.openstack("fake", clouds_yaml=self.clouds_yaml, **kw)


def start_fake(tmp: pathlib.Path, *args: str) -> FakeOpenStack:
    clouds = tmp / "clouds.yaml"
    proc = subprocess.Popen(
        [str(_fake_binary()), "--port", "0", "--clouds-yaml", str(clouds), "--cloud-name", "fake", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("OS_AUTH_URL="):
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError(f"fake-openstack did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    deadline = time.monotonic() + 10
    while not clouds.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return FakeOpenStack(clouds_yaml=clouds, auth_url=line.split("=", 1)[1], process=proc)


def stop_fake(fake: FakeOpenStack) -> None:
    fake.process.terminate()
    try:
        fake.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fake.process.kill()
        fake.process.wait(timeout=10)


@pytest.fixture(scope="session")
def fake_openstack(tmp_path_factory: pytest.TempPathFactory):
    """One fake OpenStack for the session, seeded with FAKE_SERVERS servers."""
    fake = start_fake(tmp_path_factory.mktemp("fake-openstack"), "--servers", str(FAKE_SERVERS))
    yield fake
    stop_fake(fake)


@pytest.fixture()
def os_cloud(fake_openstack: FakeOpenStack) -> hybrid.Cloud:
    return fake_openstack.cloud()


@pytest.fixture()
def kvm() -> hybrid.Mock:
    """An OpenStack-on-KVM mock with instant lifecycles."""
    return hybrid.Mock("openstack_kvm", servers=5, delays="instant")


def run(coro):
    """Runs a coroutine on a fresh event loop (the suite needs no asyncio plugin)."""
    import asyncio

    return asyncio.run(coro)
