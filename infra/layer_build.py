"""The shared layer's third-party packages (layers/requirements.txt), built once per pinned set and cached.

Lambda runs our code on a runtime and architecture (python3.13, arm64) that are not this machine's, so
the packages are installed with pip's cross-platform options: wheels only, for the runtime's Python,
CPU and glibc. No Docker. The result is a ready layer tree, `.build/layer-<key>/python/<packages>`,
where <key> hashes the pinned requirements and the target platform: a synth (every infra test, the
local runtime, `make synth`) reuses it; a new pin, runtime or architecture builds a new one. The
first build needs PyPI (CI and developer machines reach it); `make clean` removes .build/.

    python -m infra.layer_build     # build now (what `make layer` runs), print the directory
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.naming import LAYERS_DIR, ROOT

REQUIREMENTS = LAYERS_DIR / "requirements.txt"
BUILD_DIR = ROOT / ".build"
# The glibc of each Lambda Python runtime's OS (python3.12+: Amazon Linux 2023, before: Amazon Linux 2).
# Any manylinux wheel built for that glibc or an older one loads there.
RUNTIME_GLIBC = {
    "python3.10": (2, 26), "python3.11": (2, 26),
    "python3.12": (2, 34), "python3.13": (2, 34), "python3.14": (2, 34),
}  # fmt: skip
_ARCH = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda's architecture names -> the CPU in wheel tags
# Provided next to the layer, so never bundled (a copy would shadow or clash with theirs): the
# runtime's AWS SDK and the AWS-published Powertools layer (built with all its extras).
PROVIDED = frozenset(
    canonicalize_name(n)
    for n in (
        "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3",
        "aws-lambda-powertools", "aws-xray-sdk", "wrapt", "pydantic", "pydantic-core", "annotated-types",
        "typing-extensions", "typing-inspection", "fastjsonschema",
        "pyjwt", "cryptography", "cffi", "pycparser",  # Powertools' `jwt` extra (in `all`): the authorizer's RS256
    )
)  # fmt: skip
_STRIP_DIRS = ("__pycache__", "tests")  # byte code (pip --no-compile writes none) and packages' test suites
_STRIP_SUFFIXES = (".pyc", ".pyo")
RECIPE = 1  # bump when _install changes what it produces: every cached tree is rebuilt


class LayerBuildError(RuntimeError):
    pass


def requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """The layer's packages, each pinned exactly (`name==version`)."""
    out = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        pins = list(req.specifier)
        if len(pins) != 1 or pins[0].operator != "==" or "*" in pins[0].version or req.url or req.extras:
            raise LayerBuildError(f"{path.name}:{number}: {line!r} must be pinned exactly (name==version)")
        if canonicalize_name(req.name) in PROVIDED:
            raise LayerBuildError(f"{path.name}:{number}: {req.name} comes with the runtime or the Powertools layer")
        out.append(req)
    return out


def target(runtime: str, architecture: str) -> dict[str, str]:
    """Pip's view of a Lambda runtime ("python3.13") and architecture ("arm64")."""
    if runtime not in RUNTIME_GLIBC or architecture not in _ARCH:
        raise LayerBuildError(f"no wheel platform known for {runtime} on {architecture}")
    major, minor = RUNTIME_GLIBC[runtime]
    return {"python_version": runtime.removeprefix("python"), "machine": _ARCH[architecture], "glibc": f"{major}.{minor}"}


def platform_tags(tgt: dict[str, str]) -> list[str]:
    """manylinux tags the runtime can load, newest first (pip takes any of the --platform values);
    pip does not widen one manylinux_2_N tag to the older glibc versions, hence the list."""
    machine = tgt["machine"]
    major, newest = (int(part) for part in tgt["glibc"].split("."))
    return [f"manylinux_{major}_{minor}_{machine}" for minor in range(newest, 16, -1)] + [f"manylinux2014_{machine}"]


def cache_key(reqs: list[Requirement], runtime: str, architecture: str) -> str:
    spec = {
        "requirements": sorted(str(r) for r in reqs),
        "target": target(runtime, architecture),
        "recipe": RECIPE,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def build(
    runtime: str,
    architecture: str,
    *,
    requirements_file: Path = REQUIREMENTS,
    build_dir: Path = BUILD_DIR,
) -> Path:
    """The cached layer tree for these requirements and target (its `python/` holds the packages),
    built first if missing. Safe to call from parallel processes (a file lock, an atomic rename)."""
    reqs = requirements(requirements_file)
    key = cache_key(reqs, runtime, architecture)
    done = build_dir / f"layer-{key}"
    if (done / "python").is_dir():
        return done
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / f"layer-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (done / "python").is_dir():  # another process built it while we waited
                return done
            work = build_dir / f"layer-{key}.tmp-{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            try:
                record = _install(reqs, runtime, architecture, work)
                shutil.rmtree(done, ignore_errors=True)
                work.rename(done)  # the tree appears whole or not at all
            finally:
                shutil.rmtree(work, ignore_errors=True)
            # beside the tree, not in it: everything in the tree goes into the layer
            (build_dir / f"layer-{key}.json").write_text(json.dumps(record, indent=2))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return done


def _install(reqs: list[Requirement], runtime: str, architecture: str, work: Path) -> dict[str, object]:
    site = work / "python"
    site.mkdir(parents=True)
    tgt = target(runtime, architecture)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--no-compile",  # Lambda's /opt is read-only; byte code compiled here would only make the asset vary
        "--no-deps",  # every package is pinned in the requirements file; checked below
        "--only-binary=:all:", "--implementation", "cp", "--python-version", tgt["python_version"],
        *(arg for tag in platform_tags(tgt) for arg in ("--platform", tag)),
        "--target", str(site),
        *(str(r) for r in reqs),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise LayerBuildError(
            f"pip could not install the layer's packages for {runtime}/{architecture} (exit {proc.returncode}); "
            f"the first build needs PyPI, later ones reuse {BUILD_DIR.name}/:\n{proc.stderr[-3000:]}"
        )
    _strip(site)
    _check_dependencies(reqs, site, tgt)
    return {
        "requirements": [str(r) for r in reqs],
        "runtime": runtime,
        "architecture": architecture,
        "platforms": platform_tags(tgt),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _strip(site: Path) -> None:
    for path in sorted(site.rglob("*"), reverse=True):  # children before parents
        if path.is_dir() and path.name in _STRIP_DIRS and path.parent != site:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in _STRIP_SUFFIXES:
            path.unlink()


def _check_dependencies(reqs: list[Requirement], site: Path, tgt: dict[str, str]) -> None:
    """--no-deps installs exactly the listed packages: each one's own requirements (for the Lambda
    platform) must be listed too, or be provided by the runtime / Powertools layer."""
    listed = {canonicalize_name(r.name) for r in reqs}
    env = default_environment()
    env.update(
        python_version=tgt["python_version"],
        python_full_version=f"{tgt['python_version']}.0",
        platform_machine=tgt["machine"],
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    missing = []
    for metadata in site.glob("*.dist-info/METADATA"):
        for line in metadata.read_text(errors="replace").splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            dep = Requirement(line.split(":", 1)[1].strip())
            if dep.marker is not None and not dep.marker.evaluate({**env, "extra": ""}):
                continue
            name = canonicalize_name(dep.name)
            if name not in listed and name not in PROVIDED:
                missing.append(f"{metadata.parent.name} needs {dep}")
    if missing:
        raise LayerBuildError(f"add to {REQUIREMENTS.name} (pinned) or to PROVIDED: " + "; ".join(sorted(missing)))


def main() -> int:
    from infra import jsii_env

    jsii_env.configure()  # before aws_cdk (imported by the layer construct, which names the target)
    from infra.constructs.layer import ARCHITECTURE, RUNTIME

    started = time.perf_counter()
    path = build(RUNTIME.name, ARCHITECTURE.name)
    print(f"{path.relative_to(ROOT)} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
