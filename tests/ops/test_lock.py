"""The lock check (tools/lock.py --check, run by `make test`): it passes on the repository
and fails on every kind of planted disagreement between pyproject.toml and the locks."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ("pyproject.toml", "requirements.lock", "requirements-test.lock")


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lock.py"), "--check", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def copy(tmp_path):
    for name in FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_repository_locks_agree_with_pyproject():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr
    assert "agree with pyproject.toml" in result.stdout


def test_the_copy_agrees_before_anything_is_planted(copy):
    assert check(copy).returncode == 0


def test_a_dependency_added_to_pyproject_without_make_lock_fails(copy):
    edit(copy / "pyproject.toml", '    "whitenoise>=6.7,<7",\n', '    "whitenoise>=6.7,<7",\n    "attrs>=23",\n')
    result = check(copy)
    assert result.returncode == 1
    assert "requirements.lock was not compiled from this pyproject.toml" in result.stderr
    assert "requirements-test.lock was not compiled from this pyproject.toml" in result.stderr
    assert "run `make lock`" in result.stderr


def test_a_range_the_pinned_version_is_outside_of_fails_even_with_the_digest_forged(copy):
    import tomllib

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lock
    finally:
        sys.path.pop(0)
    edit(copy / "pyproject.toml", '"django>=5.2,<5.3"', '"django>=6.0,<7"')
    # Forge the digests as a hand edit might: the pins themselves must still be checked.
    pyproject = tomllib.loads((copy / "pyproject.toml").read_text())
    for name in ("requirements.lock", "requirements-test.lock"):
        text = (copy / name).read_text().splitlines(keepends=True)
        text = [f"{lock.STAMP}{lock.digest(pyproject, name)}\n" if t.startswith(lock.STAMP) else t for t in text]
        (copy / name).write_text("".join(text))
    result = check(copy)
    assert result.returncode == 1
    assert "requirements.lock: django==5.2" in result.stderr
    assert "outside pyproject.toml's django>=6.0,<7" in result.stderr


def test_a_lock_edited_by_hand_out_of_step_with_the_other_fails(copy):
    lock = copy / "requirements.lock"
    text = lock.read_text()
    start = text.index("\nwhitenoise==") + 1
    version = text[start:].split("==", 1)[1].split()[0]
    lock.write_text(text.replace(f"whitenoise=={version}", "whitenoise==6.7.0", 1))
    result = check(copy)
    assert result.returncode == 1
    assert f"requirements-test.lock has whitenoise=={version}, requirements.lock has 6.7.0" in result.stderr


def test_a_missing_lock_fails(copy):
    (copy / "requirements-test.lock").unlink()
    result = check(copy)
    assert result.returncode == 1 and "requirements-test.lock is missing" in result.stderr


def test_every_pin_has_a_hash_and_the_makefile_installs_only_from_the_lock():
    for name in ("requirements.lock", "requirements-test.lock"):
        blocks = (ROOT / name).read_text().split("\n")
        pins = [line for line in blocks if "==" in line and not line.startswith((" ", "#"))]
        assert pins and all(line.rstrip().endswith("\\") for line in pins), f"{name}: a pin without hashes"
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --no-deps -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e '.[test]'" in makefile
    assert "test: install lock-check" in makefile
