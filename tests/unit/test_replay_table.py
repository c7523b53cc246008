"""local.replay's comparison table: the signed ΔSL column is right-aligned like every number column
(`+6.8` and `-9.0` end in the same column; bench.table alone would left-align the `+` ones)."""
from __future__ import annotations

from types import SimpleNamespace

from local.replay import print_comparison


def _queue(queue_id: str, sl: float | None) -> SimpleNamespace:
    return SimpleNamespace(queue_id=queue_id, service_level=sl, asa_s=12.0, abandonment=0.05, occupancy=0.8)


def test_the_delta_sl_column_is_right_aligned(capsys) -> None:
    a = SimpleNamespace(policy="a", queues=(_queue("sales", 0.80), _queue("support", 0.90), _queue("billing", None)),
                        total=_queue("total", 0.85))
    b = SimpleNamespace(policy="b", queues=(_queue("sales", 0.868), _queue("support", 0.81), _queue("billing", 0.5)),
                        total=_queue("total", 1.0))
    print_comparison(a, b)
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if "ΔSL pt" in line)
    start = lines[header].index("ΔSL pt")
    end = start + len(lines[header + 1].split("  ")[3])  # the column's dashes
    cells = [line[start:end] for line in lines[header + 2:] if line.strip()]
    assert [c.strip() for c in cells] == ["+6.8", "-9.0", "-", "+15.0"]
    assert all(c == c.strip().rjust(end - start) for c in cells), cells
