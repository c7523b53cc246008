"""Synthesizes the CDK app (the same `python -m infra.app` that `make synth` runs) when cdk.out/ is stale.

Synth takes ~4-10 s (jsii starts Node), so an up-to-date cdk.out/ is reused: it is fresh when its
template is newer than every source file the app reads (infra/, functions/, layers/,
statemachines/, cdk.json). A file lock keeps parallel test workers from synthesizing at once.
Synth runs in a subprocess: the jsii kernel (a Node process) stays out of the runtime's process.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK_OUT = ROOT / "cdk.out"
STACK_NAME = "Ccaas"
SOURCES = ("infra", "functions", "layers", "statemachines", "cdk.json")


class SynthError(RuntimeError):
    pass


def template_path(cdk_out: Path = CDK_OUT, stack_name: str = STACK_NAME) -> Path:
    return cdk_out / f"{stack_name}.template.json"


def newest_source_mtime(root: Path = ROOT) -> float:
    newest = 0.0
    for name in SOURCES:
        path = root / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for p in path.rglob("*"):
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
                    newest = max(newest, p.stat().st_mtime)
    return newest


def is_fresh(cdk_out: Path = CDK_OUT, stack_name: str = STACK_NAME, root: Path = ROOT) -> bool:
    tpl = template_path(cdk_out, stack_name)
    return tpl.is_file() and tpl.stat().st_mtime >= newest_source_mtime(root)


@contextmanager
def locked(cdk_out: Path = CDK_OUT) -> Iterator[None]:
    """Held while `cdk_out` is checked and written: parallel test workers synthesize one at a time."""
    cdk_out.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(str(cdk_out.resolve()).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"ccaas-synth-{key}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def synth(force: bool = False, cdk_out: Path = CDK_OUT, stack_name: str = STACK_NAME, timeout_s: float = 300) -> tuple[Path, float, bool]:
    """Returns (template path, seconds spent, whether synth ran)."""
    started = time.perf_counter()
    with locked(cdk_out):
        if not force and is_fresh(cdk_out, stack_name):
            return template_path(cdk_out, stack_name), time.perf_counter() - started, False
        if not (ROOT / "infra" / "app.py").is_file():
            raise SynthError("infra/app.py does not exist yet: nothing to synthesize")
        env = dict(os.environ)
        paths = [str(ROOT / "layers"), str(ROOT)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        env.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
        if cdk_out != CDK_OUT:
            env["CDK_OUTDIR"] = str(cdk_out)
        for name in ("AWS_ENDPOINT_URL",):  # synth never talks to AWS; keep it that way
            env.pop(name, None)
        proc = subprocess.run(
            [sys.executable, "-m", "infra.app"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if proc.returncode != 0:
            raise SynthError(f"`python -m infra.app` failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        tpl = template_path(cdk_out, stack_name)
        if not tpl.is_file():
            raise SynthError(f"synth succeeded but {tpl} does not exist")
        prune_assets(cdk_out)
        return tpl, time.perf_counter() - started, True


def prune_assets(cdk_out: Path = CDK_OUT) -> int:
    """Removes the `asset.*` entries of `cdk_out` that no `*.assets.json` there names; how many it removed.

    Every synth after a source change writes the changed assets under new hashes (the shared layer with its
    bundled wheels is ~27 MB) and the CDK never removes the old ones: a day of edits left 181 stale copies,
    4.4 GB. What `cdk deploy --app cdk.out` uploads is what the manifests name, so nothing it needs goes."""
    named: set[str] = set()
    for manifest in cdk_out.glob("*.assets.json"):
        document = json.loads(manifest.read_text())
        for kind, key in (("files", "path"), ("dockerImages", "directory")):
            named.update(entry["source"][key] for entry in document.get(kind, {}).values() if key in entry.get("source", {}))
    if not named:  # no manifest (yet): what the assets belong to is unknown, so nothing is removed
        return 0
    removed = 0
    for path in cdk_out.glob("asset.*"):
        if path.name in named:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed += 1
    return removed
