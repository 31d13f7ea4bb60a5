"""The two hashed lock files and the pyproject.toml sections they are made from.

    python tools/locks.py check     # offline, stdlib only: fails when a lock is stale (make lint)
    python tools/locks.py compile   # uv pip compile both locks, then stamp them (make lock)

requirements.txt is the runtime lock ([project].dependencies): what `make run` and the image
install. requirements-dev.txt adds the `dev` dependency group (test, lint, bench, lock) and holds
the same runtime pins. Each lock's second line records a digest of the sections it was compiled
from, so `check` needs neither the network nor uv: it recomputes the digest and compares. Existing
pins are kept on a recompile (uv reads the output file as preferences); upgrade one with
`make lock UV_ARGS="--upgrade-package NAME"`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME_LOCK = ROOT / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
DIGEST_PREFIX = "# pyproject.toml digest: sha256:"
# One resolution for every platform and supported Python (the image's 3.13-slim, a 3.12 laptop).
COMPILE_ARGS = ["--generate-hashes", "--universal", "--python-version", "3.12", "--quiet"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def declared_digest() -> str:
    """A digest of everything a lock is resolved from; key order and whitespace do not count."""
    data = tomllib.loads(PYPROJECT.read_text())
    declared = {
        "requires-python": data["project"].get("requires-python"),
        "dependencies": data["project"].get("dependencies", []),
        "dependency-groups": data.get("dependency-groups", {}),
    }
    canonical = json.dumps(declared, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a `uv pip compile --generate-hashes` file."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    name = ""
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[name] = (match.group(2), frozenset())
        elif name and (hashes := re.findall(r"--hash=(\S+)", line)):
            version, known = found[name]
            found[name] = (version, known | set(hashes))
    return found


def problems() -> list[str]:
    digest = declared_digest()
    found = []
    for lock in (RUNTIME_LOCK, DEV_LOCK):
        if not lock.exists():
            found.append(f"{lock.name} is missing")
            continue
        recorded = [
            line for line in lock.read_text().splitlines() if line.startswith(DIGEST_PREFIX)
        ]
        if recorded != [DIGEST_PREFIX + digest]:
            found.append(f"{lock.name} was not compiled from the current pyproject.toml")
        unhashed = [name for name, (_, hashes) in pins(lock).items() if not hashes]
        if unhashed:
            found.append(f"{lock.name} pins without hashes: {', '.join(unhashed)}")
    if not found:
        dev = pins(DEV_LOCK)
        differing = [name for name, pin in pins(RUNTIME_LOCK).items() if dev.get(name) != pin]
        if differing:
            found.append(f"requirements-dev.txt differs from requirements.txt on {differing}")
    return found


def check() -> int:
    found = problems()
    for problem in found:
        print(f"stale lock: {problem}. Run `make lock`.", file=sys.stderr)
    return 1 if found else 0


def compile_locks(extra: list[str]) -> int:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        print("uv is not installed: `make install-dev` installs the pinned one.", file=sys.stderr)
        return 1
    env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}
    for lock, groups in ((RUNTIME_LOCK, []), (DEV_LOCK, ["--group", "dev"])):
        command = [uv, "pip", "compile", "pyproject.toml", *groups, *COMPILE_ARGS, *extra]
        subprocess.run([*command, "-o", lock.name], cwd=ROOT, env=env, check=True)  # noqa: S603
        stamp(lock)
    return check()


def stamp(lock: Path) -> None:
    lines = [line for line in lock.read_text().splitlines() if not line.startswith(DIGEST_PREFIX)]
    lines.insert(2, DIGEST_PREFIX + declared_digest())
    lock.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["check"]:
            sys.exit(check())
        case ["compile", *extra]:
            sys.exit(compile_locks(extra))
        case _:
            sys.exit(__doc__)
