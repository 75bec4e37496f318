"""Exceptions per error kind, their attributes, fault injection, and secrets."""

from __future__ import annotations

import pickle
import threading
import time

import pytest

import hybrid
from hybrid import errors

SECRET = "pw-python-7f3a9c"


def test_one_class_per_error_kind():
    assert len(hybrid.ERROR_KINDS) == 17
    classes = {errors.error_class(k) for k in hybrid.ERROR_KINDS}
    assert len(classes) == 17
    for kind in hybrid.ERROR_KINDS:
        cls = errors.error_class(kind)
        assert issubclass(cls, hybrid.HybridError) and cls.kind == kind
        assert getattr(hybrid, cls.__name__) is cls
    assert errors.error_class("no-such-kind") is hybrid.OtherError
    assert issubclass(hybrid.TimeoutError, TimeoutError)
    assert issubclass(hybrid.InvalidInputError, ValueError)


@pytest.mark.parametrize(
    "kind, cls, status",
    [
        ("not_found", hybrid.NotFoundError, None),
        ("conflict", hybrid.ConflictError, None),
        ("unavailable", hybrid.UnavailableError, 503),
        ("unauthenticated", hybrid.UnauthenticatedError, 401),
        ("quota_exceeded", hybrid.QuotaExceededError, None),
        ("permission_denied", hybrid.PermissionDeniedError, None),
        ("transport", hybrid.TransportError, None),
        ("invalid_response", hybrid.InvalidResponseError, None),
    ],
)
def test_injected_faults_raise_their_class_with_context(kind, cls, status):
    mock = hybrid.Mock("openstack_kvm", servers=1, name="lab-kvm", region="RegionX")
    mock.inject(hybrid.Fault.error(kind, operation="get_server"))
    server = next(iter(mock.cloud.compute.list_servers()))
    with pytest.raises(cls) as e:
        mock.cloud.compute.get_server(server.id)
    err = e.value
    assert err.kind == kind
    assert err.provider == "lab-kvm" and err.region == "RegionX" and err.operation == "get_server"
    assert err.http_status == status
    assert err.retryable == (kind in ("unavailable", "transport"))
    assert err.message == "injected fault on get_server"
    assert str(err).startswith("get_server on lab-kvm (RegionX) failed: ")
    # Exceptions pickle with their attributes.
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and back.kind == kind and back.provider == "lab-kvm"
    assert back.http_status == status and str(back) == str(err)


def test_throttling_carries_retry_after_and_counts():
    mock = hybrid.Mock("openstack_kvm", servers=3)
    mock.inject(hybrid.Fault.throttle(1.5, operation="list_servers", count=2))
    c = mock.cloud.compute
    for _ in range(2):
        with pytest.raises(hybrid.RateLimitedError) as e:
            list(c.list_servers())
        assert e.value.http_status == 429 and e.value.retry_after == 1.5 and e.value.retryable
    assert len(list(c.list_servers())) == 3, "the fault fired its count and stopped"
    assert mock.request_count("list_servers") == 3


def test_seeded_probability_is_deterministic():
    def outcomes(seed):
        mock = hybrid.Mock("openstack_kvm", servers=1, seed=seed, faults=[{"operation": "check", "kind": "unavailable", "probability": 0.5}])
        out = []
        for _ in range(40):
            try:
                mock.cloud.check()
                out.append(True)
            except hybrid.UnavailableError:
                out.append(False)
        return out

    a, b = outcomes(7), outcomes(7)
    assert a == b
    assert 5 < a.count(False) < 35
    assert outcomes(8) != a


def test_fault_objects_and_validation():
    f = hybrid.Fault("unavailable", operation="x", probability=0.25, count=3, latency=0.05, retry_after=2, http_status=502)
    assert (f.kind, f.operation, f.probability, f.count, f.latency, f.retry_after, f.http_status) == (
        "unavailable", "x", 0.25, 3, 0.05, 2.0, 502)
    assert f.to_dict()["latency_ms"] == 50 and f.to_dict()["retry_after_ms"] == 2000
    assert hybrid.Fault.delay(0.1).kind is None
    assert f == hybrid.Fault("unavailable", operation="x", probability=0.25, count=3, latency=0.05, retry_after=2, http_status=502)
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fault("unavailable", probability=1.5)
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fault("no_such_kind")
    with pytest.raises(hybrid.ConfigError):
        hybrid.Fault.delay(-1)
    with pytest.raises(hybrid.ConfigError):
        hybrid.Mock("esxi")
    mock = hybrid.Mock()
    with pytest.raises(hybrid.ConfigError):
        mock.inject({"kind": "unavailable", "probability": 2})
    with pytest.raises(hybrid.InvalidInputError):
        mock.inject({"kind": "unavailable", "probabilty": 0.5, "count": "many"})
    mock.inject({"kind": "unavailable", "operation": "check"})
    with pytest.raises(hybrid.UnavailableError):
        mock.cloud.check()
    mock.clear_faults()
    mock.cloud.check()


def test_latency_fault_releases_the_gil():
    mock = hybrid.Mock("openstack_kvm", servers=1, faults=[hybrid.Fault.delay(0.4, operation="list_servers")])
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.005)

    t = threading.Thread(target=spin)
    t.start()
    started = time.monotonic()
    try:
        assert len(list(mock.cloud.compute.list_servers())) == 1
    finally:
        stop.set()
        t.join()
    elapsed = time.monotonic() - started
    assert elapsed >= 0.4
    # The other thread kept running while Rust waited (about 80 ticks in 0.4 s).
    assert ticks >= 20, ticks


def test_secrets_never_reach_repr_errors_or_pickles():
    mock = hybrid.Mock("openstack_kvm", api_key=SECRET)
    cloud = mock.cloud
    for text in (repr(mock), repr(cloud), repr(cloud.compute), repr(cloud.capabilities), repr(cloud.info)):
        assert SECRET not in text
    with pytest.raises(TypeError):
        pickle.dumps(cloud)
    with pytest.raises(TypeError):
        pickle.dumps(mock)
    cloud.check()
    empty = hybrid.Mock("openstack_kvm", api_key="")
    with pytest.raises(hybrid.UnauthenticatedError):
        empty.cloud.check()

    # A config dict's password goes into a secret at once; a failed connection does not show it.
    with pytest.raises(hybrid.HybridError) as e:
        hybrid.Cloud.connect(
            {
                "kind": "vsphere",
                "url": "http://127.0.0.1:9/sdk",
                "user": "administrator@vsphere.local",
                "password": SECRET,
                "request_timeout_secs": 5,
            }
        )
    assert e.value.kind in ("transport", "timeout")
    assert SECRET not in str(e.value) and SECRET not in repr(e.value.args)
    cause = e.value.__cause__
    while cause is not None:
        assert SECRET not in str(cause)
        cause = cause.__cause__
    assert SECRET not in repr(vars(e.value))
    assert SECRET.encode() not in pickle.dumps(e.value)
    # Credentials in a URL are moved out of it, never echoed.
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.connect({"kind": "vsphere", "url": f"ftp://u:{SECRET}@vc"})
    assert SECRET not in str(e.value)


def test_config_errors():
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.connect({"kind": "esxi"})
    assert "esxi" in str(e.value)
    with pytest.raises(hybrid.ConfigError):
        hybrid.Cloud.connect({"kind": "mock", "profile": "nope"})
    with pytest.raises(hybrid.ConfigError):
        hybrid.Cloud.from_file("/nonexistent/hybrid.json")
    with pytest.raises(TypeError):
        hybrid.Cloud.connect({"kind": "mock", "seed": object()})
    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.openstack("absent-entry", clouds_yaml="/nonexistent/clouds.yaml")
    assert e.value.kind == "config"


def test_ctrl_c_interrupts_a_blocking_call():
    import signal
    import subprocess
    import sys

    code = (
        "import hybrid, time\n"
        "m = hybrid.Mock(faults=[hybrid.Fault.delay(30, operation='check')])\n"
        "print('ready', flush=True)\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    m.cloud.check()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted after', round(time.monotonic() - t, 1), flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.startswith("interrupted after"), out
    assert float(out.split()[-1]) < 5
