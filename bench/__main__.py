"""`make bench`: runs every bench/bench_*.py module's main() in name order (or those named)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    for name in names:
        started = time.perf_counter()
        print(f"\n# {name}")
        importlib.import_module(f"bench.{name}").main()
        print(f"({name}: {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
