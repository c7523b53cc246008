"""What a snippet prints in fresh processes of different PYTHONHASHSEED: a set's order follows string (and date)
hashing, so JSON that depends on it answers one stored document differently in two Lambda environments."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAYERS = Path(__file__).resolve().parents[2] / "layers"


def answers_per_hash_seed(code: str, seeds: tuple[str, ...] = ("0", "1", "2", "3", "4", "5")) -> set[str]:
    """The distinct outputs of `code` (run with the layer's path as argv[1]) over `seeds`."""
    answers = set()
    for seed in seeds:
        out = subprocess.run([sys.executable, "-c", code, str(LAYERS)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.returncode == 0, out.stderr
        answers.add(out.stdout)
    return answers
