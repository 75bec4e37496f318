"""The README's ten-line example runs as written."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

# The Python section lives in the top-level README (hybrid-python/README.md points there).
README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    code = blocks[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    lines = out.getvalue().splitlines()
    assert len(lines) == 5, lines
    assert all(line.endswith(" ACTIVE") for line in lines[:4])
    assert "web-1 ACTIVE" in lines[:4]
    assert lines[4].startswith("deployment_dependent - security groups need the NSX")


def test_package_docstring_examples():
    import doctest

    import hybrid

    failed, attempted = doctest.testmod(hybrid, verbose=False)
    assert attempted >= 3 and failed == 0
