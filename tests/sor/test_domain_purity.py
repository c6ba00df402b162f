"""sor/domain is a pure core: the standard library, numpy and itself, nothing else."""

import ast
import subprocess
import sys
from pathlib import Path

import sor.domain

DOMAIN = Path(sor.domain.__file__).parent
ALLOWED_THIRD_PARTY = {"numpy"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the package
                continue
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_only_stdlib_numpy_and_itself():
    offenders = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        for root in _imported_roots(path):
            if root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY:
                continue
            if root == "sor":
                continue  # checked below: only sor.domain
            offenders.setdefault(path.name, set()).add(root)
    assert offenders == {}


def test_domain_reaches_no_other_sor_module():
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sor"):
                assert node.module.startswith("sor.domain"), f"{path.name} imports {node.module}"


def test_importing_the_domain_loads_no_django():
    code = "import sys, sor.domain; print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'celery', 'channels'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=DOMAIN.parent.parent)
    assert out.stdout.strip() == "[]"
