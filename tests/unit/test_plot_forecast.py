"""`python -m local.plot_forecast` writes a real PNG from synthetic and from JSON history.

Its `main(argv)` runs in the test process: the same code from the arguments on, without an interpreter start
and its imports (matplotlib's: ~0.9 s of CPU). The entry point itself runs as a subprocess in
tests/local/test_cli_errors.py."""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from ccaas.domain.forecast import SyntheticShape, synthetic_history
from local import plot_forecast

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path: Path) -> None:
    assert path.exists()
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000  # two annotated panels of 96 intervals, not an empty canvas


def test_synthetic_forecast_plot(tmp_path):
    out = tmp_path / "forecast.png"
    assert plot_forecast.main(["--synthetic", "--queue", "support", "--day", "2026-11-20", "--out", str(out),
                               "--tz", "Europe/Berlin", "--seed", "3"]) == 0
    _assert_png(out)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out, ARTIFACTS / "forecast_synthetic_2026-11-20.png")


def test_plot_from_json_history_as_a_command(tmp_path, capsys):
    tz = ZoneInfo("America/New_York")
    records = []
    for queue, channel, volume in (("billing", "VOICE", 2500.0), ("billing", "CHAT", 400.0), ("sales", "VOICE", 900.0)):
        for point in synthetic_history(date(2026, 9, 14), 7 * 7, seed=len(records),
                                       shape=SyntheticShape(weekday_volume=volume), tz=tz):
            if point.offered:  # like an aggregator: empty intervals are simply absent
                records.append({"tenant_id": "t-1", "queue_id": queue, "channel": channel,
                                "interval_start": point.interval_start.isoformat(), "offered": point.offered,
                                "aht_seconds": point.aht_seconds})
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"tenant_id": "t-1", "timezone": "America/New_York", "intervals": records}))
    out = tmp_path / "billing.png"
    # The documented command's arguments (the day is the Sunday DST ends: 100 intervals).
    assert plot_forecast.main(["--input", str(history), "--queue", "billing", "--channel", "VOICE",
                               "--day", "2026-11-01", "--out", str(out)]) == 0
    assert "100 intervals" in capsys.readouterr().out
    _assert_png(out)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out, ARTIFACTS / "forecast_json_billing_2026-11-01.png")

    # Two channels on one queue: the command asks which one instead of mixing them.
    assert plot_forecast.main(["--input", str(history), "--queue", "billing", "--day", "2026-11-01",
                               "--out", str(tmp_path / "x.png")]) == 2
    assert "--channel" in capsys.readouterr().err
    assert plot_forecast.main(["--input", str(history), "--queue", "nope", "--day", "2026-11-01",
                               "--out", str(tmp_path / "y.png")]) == 2
    assert "no history" in capsys.readouterr().err
