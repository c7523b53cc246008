"""Plain-text tables for benchmark output (no dependency, stable for diffs in notes)."""
from __future__ import annotations

from collections.abc import Sequence


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(r, widths)))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def _numeric(s: str) -> bool:
    """A number as the tables print it: signed (+16.6), with thousands separators, a unit suffix (12 %, 3.1x)."""
    core = s.strip().removesuffix("%").removesuffix("×").removesuffix("x").strip().lstrip("+-$")
    return core.replace(".", "", 1).replace(",", "").replace("e-", "", 1).replace("e", "", 1).isdigit()
