"""Fixtures of hybrid's Python suite: mock clouds, a local fake OpenStack started from
the workspace's `fake-openstack` binary and a local fake Azure (Entra ID + ARM) started
from its `fake-azure` binary (scripts/test.sh builds both and exports
HYBRID_FAKE_OPENSTACK and HYBRID_FAKE_AZURE). Only the processes started here are
stopped here, by their PID."""

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


def _binary(name: str, package: str, variable: str) -> pathlib.Path:
    env = os.environ.get(variable)
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = WORKSPACE / "target" / profile / name
        if p.exists():
            return p
    raise RuntimeError(
        f"{name} not built: run `cargo build -p {package} --bin {name}` "
        f"or set {variable} (scripts/test.sh does both)"
    )


def _fake_binary() -> pathlib.Path:
    return _binary("fake-openstack", "hybrid-fake-openstack", "HYBRID_FAKE_OPENSTACK")


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


def _stop(process: subprocess.Popen) -> None:
    """Stops a fake this suite started (its own PID only)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def stop_fake(fake: FakeOpenStack) -> None:
    _stop(fake.process)


@pytest.fixture(scope="session")
def fake_openstack(tmp_path_factory: pytest.TempPathFactory):
    """One fake OpenStack for the session, seeded with FAKE_SERVERS servers."""
    fake = start_fake(tmp_path_factory.mktemp("fake-openstack"), "--servers", str(FAKE_SERVERS))
    yield fake
    stop_fake(fake)


@pytest.fixture()
def os_cloud(fake_openstack: FakeOpenStack) -> hybrid.Cloud:
    return fake_openstack.cloud()


# ------------------------------------------------------------------- fake Azure

AZURE_SERVERS = 23
AZURE_PAGE_SIZE = 5
AZURE_CLIENT_ID = "5a0c3b9e-1d2f-4e6a-8b7c-0f1e2d3c4b5a"
AZURE_SECRET = "py-azure-Secret-3kQ8~vW"


@dataclass
class FakeAzure:
    """A running fake Entra ID + ARM: the settings it printed (``AZURE_*`` and
    ``FAKE_AZURE_URL``) and its process."""

    settings: dict[str, str]
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return self.settings["FAKE_AZURE_URL"]

    def config(self, secret: str | None = AZURE_SECRET, **extra) -> dict:
        """A `Cloud.connect` dict for this fake (`secret=None` leaves the secret out)."""
        s = self.settings
        cfg = {
            "kind": "azure",
            "name": "az-py",
            "subscription_id": s["AZURE_SUBSCRIPTION_ID"],
            "resource_group": s["AZURE_RESOURCE_GROUP"],
            "location": s["AZURE_LOCATION"],
            "tenant_id": s["AZURE_TENANT_ID"],
            "client_id": s["AZURE_CLIENT_ID"],
            "cloud": {"authority_host": self.url, "resource_manager": self.url},
        }
        if secret is not None:
            cfg["client_secret"] = secret
        cfg.update(extra)
        return cfg

    def cloud(self, **kw) -> hybrid.Cloud:
        return hybrid.Cloud.connect(self.config(**kw))


def start_fake_azure(*args: str) -> FakeAzure:
    """Starts `fake-azure` on a free 127.0.0.1 port with our client and secret."""
    binary = _binary("fake-azure", "hybrid-fake-azure", "HYBRID_FAKE_AZURE")
    proc = subprocess.Popen(
        [str(binary), "--port", "0", "--client", AZURE_CLIENT_ID, AZURE_SECRET, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    settings: dict[str, str] = {}
    # NAME=value lines, FAKE_AZURE_URL first and AZURE_LOCATION last.
    while "AZURE_LOCATION" not in settings:
        line = proc.stdout.readline()
        if not line or "=" not in line:
            _stop(proc)
            raise RuntimeError(f"fake-azure did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        name, value = line.rstrip("\n").split("=", 1)
        settings[name] = value
    if not settings.get("FAKE_AZURE_URL", "").startswith("http://127.0.0.1:"):
        _stop(proc)
        raise RuntimeError(f"fake-azure printed unexpected settings: {sorted(settings)}")
    return FakeAzure(settings=settings, process=proc)


def stop_fake_azure(fake: FakeAzure) -> None:
    _stop(fake.process)


@pytest.fixture(scope="session")
def fake_azure():
    """One fake Azure for the session: AZURE_SERVERS running VMs, pages of AZURE_PAGE_SIZE."""
    fake = start_fake_azure("--servers", str(AZURE_SERVERS), "--page-size", str(AZURE_PAGE_SIZE))
    yield fake
    stop_fake_azure(fake)


@pytest.fixture()
def own_fake_azure():
    """A fresh, empty fake Azure for one test (which may change or stop it)."""
    fake = start_fake_azure("--page-size", str(AZURE_PAGE_SIZE))
    yield fake
    stop_fake_azure(fake)


@pytest.fixture()
def az_cloud(fake_azure: FakeAzure) -> hybrid.Cloud:
    return fake_azure.cloud()


@pytest.fixture()
def kvm() -> hybrid.Mock:
    """An OpenStack-on-KVM mock with instant lifecycles."""
    return hybrid.Mock("openstack_kvm", servers=5, delays="instant")


def run(coro):
    """Runs a coroutine on a fresh event loop (the suite needs no asyncio plugin)."""
    import asyncio

    return asyncio.run(coro)
