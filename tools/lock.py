"""The lock files: every package the product and its tests install, pinned with hashes.

    python tools/lock.py          # `make lock`: compile requirements.lock and requirements-test.lock
    python tools/lock.py --check  # `make test` / CI: fail when pyproject.toml and the locks disagree

requirements.lock is the runtime (the container installs only it); requirements-test.lock adds
the test extra and the build backend (`make install` builds the editable project without
isolation, so nothing is fetched unpinned). Both are compiled by uv for every platform and
Python the project supports (--universal), so one lock serves this machine, CI and the image.

The check runs offline: each lock carries a digest of the pyproject.toml inputs it was compiled
from, and every requirement pyproject.toml names must be pinned in the lock at a version its
range allows (a hand edit of either file is caught, not only a missed `make lock`).
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME, TEST = "requirements.lock", "requirements-test.lock"
STAMP = "# inputs-sha256: "
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def inputs(pyproject: dict) -> dict[str, list[str]]:
    """What each lock is compiled from, as pyproject.toml says it."""
    project = pyproject["project"]
    runtime = list(project.get("dependencies", []))
    test = runtime + list(project.get("optional-dependencies", {}).get("test", []))
    test += list(pyproject.get("build-system", {}).get("requires", []))
    return {TEST: test, RUNTIME: runtime}  # in this order: the runtime lock is constrained by the test one


def digest(pyproject: dict, name: str) -> str:
    body = {"requires-python": pyproject["project"].get("requires-python", ""), "requirements": inputs(pyproject)[name]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def problems(root: Path) -> list[str]:
    """Every way the locks disagree with pyproject.toml (empty: they agree)."""
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    found = []
    locked = {}
    for name, requirements in inputs(pyproject).items():
        path = root / name
        if not path.exists():
            found.append(f"{name} is missing")
            continue
        text = path.read_text()
        stamps = [line[len(STAMP) :].strip() for line in text.splitlines() if line.startswith(STAMP)]
        if stamps != [digest(pyproject, name)]:
            found.append(f"{name} was not compiled from this pyproject.toml (its inputs-sha256 differs)")
        locked[name] = pins(text)
        for line in text.splitlines():
            if PIN.match(line) and "--hash=" not in line and not line.rstrip().endswith("\\"):
                found.append(f"{name}: {line.split()[0]} has no hash")
        for spec in requirements:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate():
                continue
            version = locked[name].get(canonical(requirement.name))
            if version is None:
                found.append(f"{name}: {requirement.name} (pyproject.toml: {spec}) is not locked")
            elif not requirement.specifier.contains(version, prereleases=True):
                found.append(f"{name}: {requirement.name}=={version} is outside pyproject.toml's {spec}")
    if RUNTIME in locked and TEST in locked:
        for package, version in locked[RUNTIME].items():
            if locked[TEST].get(package) != version:
                found.append(f"{TEST} has {package}=={locked[TEST].get(package)}, {RUNTIME} has {version}")
    return found


def compile_locks(root: Path, upgrade: bool) -> None:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    uv = [str(Path(sys.executable).with_name("uv")), "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
    uv += ["--python-version", "3.11", "--no-header"] + (["--upgrade"] if upgrade else [])
    with tempfile.TemporaryDirectory() as tmp:
        for name, requirements in inputs(pyproject).items():
            source = Path(tmp) / f"{name}.in"
            source.write_text("\n".join(requirements) + "\n")
            output = Path(tmp) / name
            if (root / name).exists():
                output.write_text((root / name).read_text())  # uv keeps the pins it finds there
            # The runtime lock takes the test lock's versions: the image runs what the suite tested.
            constraints = ["--constraint", str(root / TEST)] if name == RUNTIME else []
            env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}
            subprocess.run([*uv, str(source), *constraints, "-o", str(output)], check=True, env=env, cwd=root)
            body = output.read_text().replace(f"-r {source}", "pyproject.toml").replace(str(root) + "/", "")
            header = (
                f"# {name}: compiled from pyproject.toml by `make lock` (tools/lock.py, uv). Do not edit.\n"
                f"{STAMP}{digest(pyproject, name)}\n"
            )
            (root / name).write_text(header + body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when pyproject.toml and the locks disagree")
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions the ranges allow")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        found = problems(args.root)
        for problem in found:
            print(f"lock check: {problem}", file=sys.stderr)
        if found:
            print("lock check: FAILED; run `make lock` and commit the lock files", file=sys.stderr)
            return 1
        print(f"lock check: {RUNTIME} and {TEST} agree with pyproject.toml")
        return 0
    compile_locks(args.root, args.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
