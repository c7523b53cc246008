"""Synthesizes the CDK app (the same `python -m infra.app` that `make synth` runs) when cdk.out/ is stale.

Synth takes ~4-10 s (jsii starts Node), so an up-to-date cdk.out/ is reused: it is fresh when its
template is newer than every source file the app reads (infra/, functions/, layers/,
statemachines/, cdk.json). A file lock keeps parallel test workers from synthesizing at once.
Synth runs in a subprocess: the jsii kernel (a Node process) stays out of the runtime's process.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
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
        return tpl, time.perf_counter() - started, True
