"""The pure cores import only the standard library, numpy and sortedcontainers: no Django,
no ORM, no other part of the product outside their own package."""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["oms/domain", "sor/domain", "ems/algos", "marketdata/sim", "marketdata/feeds"]
ALLOWED_THIRD_PARTY = {"numpy", "sortedcontainers"}


def imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", PURE)
def test_pure_core_imports(package):
    files = list((ROOT / package).rglob("*.py"))
    if package != "ems/algos":
        assert files, f"{package} is empty"
    own = {package.replace("/", "."), "marketdata.sim"} if package == "marketdata/feeds" else {package.replace("/", ".")}
    if package == "oms/domain":
        own.add("oms.domain")
    for path in files:
        for name in imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                continue
            assert any(name == o or name.startswith(o + ".") for o in own), f"{path.relative_to(ROOT)} imports {name}"
