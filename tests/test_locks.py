"""The hashed locks (requirements.txt, requirements-dev.txt) match pyproject.toml."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_AND_LINT_PACKAGES = {"pytest", "mypy", "ruff", "playwright", "schemathesis", "hypothesis"}


def load_locks_module(root: Path):
    spec = importlib.util.spec_from_file_location("locks_under_test", ROOT / "tools" / "locks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.PYPROJECT = root / "pyproject.toml"
    module.RUNTIME_LOCK = root / "requirements.txt"
    module.DEV_LOCK = root / "requirements-dev.txt"
    return module


@pytest.fixture
def checkout(tmp_path):
    for name in ("pyproject.toml", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_committed_locks_are_fresh():
    result = subprocess.run(
        [sys.executable, "tools/locks.py", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_a_new_runtime_dependency_makes_both_locks_stale(checkout):
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"Django>=5.2.19",', '"Django>=5.2.19",\n    "attrs",', 1)
    )
    problems = load_locks_module(checkout).problems()
    assert problems == [
        "requirements.txt was not compiled from the current pyproject.toml",
        "requirements-dev.txt was not compiled from the current pyproject.toml",
    ]


def test_a_changed_group_makes_the_locks_stale(checkout):
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"ruff>=', '"ruff>=0.1,', 1))
    assert load_locks_module(checkout).problems()


def test_reformatting_pyproject_is_not_staleness(checkout):
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [\n", "dependencies=[\n", 1))
    assert load_locks_module(checkout).problems() == []


def test_a_hand_edited_pin_without_hashes_is_refused(checkout):
    lock = checkout / "requirements.txt"
    lock.write_text(lock.read_text() + "six==1.17.0\n")
    problems = load_locks_module(checkout).problems()
    assert problems == ["requirements.txt pins without hashes: six"]


def test_the_dev_lock_must_hold_the_runtime_pins(checkout):
    dev = checkout / "requirements-dev.txt"
    dev.write_text(dev.read_text().replace("django==5.2.19", "django==5.2.18", 1))
    assert load_locks_module(checkout).problems() == [
        "requirements-dev.txt differs from requirements.txt on ['django']"
    ]


def test_the_runtime_lock_holds_no_test_or_lint_package():
    locks = load_locks_module(ROOT)
    runtime = set(locks.pins(locks.RUNTIME_LOCK))
    assert not runtime & TEST_AND_LINT_PACKAGES
    assert set(locks.pins(locks.DEV_LOCK)) >= TEST_AND_LINT_PACKAGES
    assert {"django", "uvicorn", "standardwebhooks"} <= runtime


def test_make_run_installs_the_runtime_lock_and_make_test_adds_the_dev_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes" in makefile
    assert "run: install web" in makefile
    assert "$(STAMP): requirements.txt" in makefile
    assert "$(DEV_STAMP): requirements-dev.txt" in makefile
    assert "lint: install-dev" in makefile
    assert "tools/locks.py check" in makefile
