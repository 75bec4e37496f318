"""The shipped type stubs match the native module, every public item has a docstring,
and the async twins are uniform."""

from __future__ import annotations

import ast
import importlib.resources
import inspect

import hybrid
from hybrid import _hybrid

# Stub-only helpers: the models' base and the typed config dicts.
PRIVATE_STUB_CLASSES = {"_Model", "_AzureConfig", "_AzureCloudEndpoints"}


def _stub_tree() -> ast.Module:
    files = importlib.resources.files("hybrid")
    assert files.joinpath("py.typed").is_file(), "py.typed is shipped"
    return ast.parse(files.joinpath("_hybrid.pyi").read_text())


def _stub_classes() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for node in _stub_tree().body:
        if isinstance(node, ast.ClassDef) and node.name not in PRIVATE_STUB_CLASSES:
            names = {
                item.name
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_")
            }
            if any(isinstance(b, ast.Name) and b.id == "_Model" for b in node.bases):
                names |= {"to_dict", "from_dict"}
            out[node.name] = names
    return out


def _public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_stubs_declare_exactly_the_runtime_api():
    stubs = _stub_classes()
    runtime = {n for n, v in vars(_hybrid).items() if isinstance(v, type) and not n.startswith("_")}
    assert set(stubs) == runtime
    for name, declared in stubs.items():
        actual = _public(getattr(_hybrid, name))
        assert declared == actual, (name, declared ^ actual)
    constants = {
        t.id
        for node in _stub_tree().body
        if isinstance(node, ast.AnnAssign)
        for t in [node.target]
        if isinstance(t, ast.Name)
    }
    assert {"FEATURES", "PROFILES", "ERROR_KINDS", "__version__"} <= constants


def test_every_public_item_has_a_docstring():
    missing = []
    for name in hybrid.__all__:
        obj = getattr(hybrid, name)
        if isinstance(obj, type):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            own = [k for k in obj.__mro__ if k.__module__.startswith("hybrid")]
            for attr in sorted({a for k in own for a in vars(k) if not a.startswith("_")}):
                member = inspect.getattr_static(obj, attr)
                if not (callable(member) or inspect.isdatadescriptor(member) or isinstance(member, (classmethod, staticmethod))):
                    continue  # plain class attributes such as an exception's `kind`
                doc = getattr(member, "__doc__", None)
                if not (doc or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_every_io_method_has_an_async_twin():
    for cls in (hybrid.ComputeService, hybrid.NetworkService, hybrid.StorageService, hybrid.ImageService):
        names = _public(cls)
        sync = {n for n in names if not n.startswith("a") or n[1:] not in names}
        for n in sync:
            assert "a" + n in names, f"{cls.__name__}.{n} has no async twin"
    for pair in [("connect", "aconnect"), ("openstack", "aopenstack"), ("from_file", "afrom_file"), ("from_env", "afrom_env"), ("check", "acheck")]:
        assert all(hasattr(hybrid.Cloud, p) for p in pair)
    assert hasattr(hybrid.Operation, "result") and hasattr(hybrid.Operation, "aresult")


def _typed_dict_keys(name: str) -> set[str]:
    for node in _stub_tree().body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return {item.target.id for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)}
    raise AssertionError(f"no class {name} in the stubs")


def test_the_azure_config_stub_names_exactly_the_fields_connect_accepts():
    import re

    import pytest

    with pytest.raises(hybrid.ConfigError) as e:
        hybrid.Cloud.connect({"kind": "azure", "no_such_field": 1})
    # serde lists every accepted field after the unknown one.
    accepted = set(re.findall(r"`(\w+)`", str(e.value).split("expected one of", 1)[1]))
    assert accepted == _typed_dict_keys("_AzureConfig") - {"kind"}
    assert _typed_dict_keys("_AzureCloudEndpoints") == {"authority_host", "resource_manager"}
