"""The plot command against a running backend: a tenant's stored history -> its forecast, as a PNG."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ccaas.adapters.aws.history import DynamoHistoryStore
from local import plot_forecast
from local.runtime import ACCOUNT_ID
from local.testing import seed_history_records
from tests.history_data import synthetic_records

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]


def test_plot_from_the_tenants_stored_history(tmp_path, capsys):
    from local.runtime import LocalRuntime

    runtime = LocalRuntime().start(simulate=False)
    try:
        table = runtime.deployment.function_by_folder("record_history").environment["HISTORY_TABLE"]
        utc = ZoneInfo("UTC")
        today = datetime.now(utc).date()
        records, _ = synthetic_records("demo", today - timedelta(days=14), 14, tz=utc)
        # the history is the input, not the subject: one bulk write in put_record's layout, read back here
        seed_history_records(table, records, account_id=ACCOUNT_ID, region=runtime.region)
        sample = DynamoHistoryStore(runtime.client("dynamodb"), table).get_entry("demo", records[-1].contact_id)
        assert sample is not None and sample.record == records[-1]
        out = tmp_path / "demo-sales.png"
        code = plot_forecast.main(["--api", runtime.api_url, "--key", runtime.api_keys["demo"], "--queue", "sales",
                                   "--day", (today + timedelta(days=1)).isoformat(), "--out", str(out)])
        assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
        capsys.readouterr()
        assert plot_forecast.main(["--api", runtime.api_url, "--queue", "sales", "--day", today.isoformat(),
                                   "--out", str(out)]) == 2
        assert "--key" in capsys.readouterr().err
        # A wrong key: one line naming what was tried, the status and the server's message (exit code 1).
        assert plot_forecast.main(["--api", runtime.api_url, "--key", "ck_wrong", "--queue", "sales", "--day",
                                   today.isoformat(), "--out", str(out)]) == 1
        err = capsys.readouterr().err
        # the gateway's 401 is the API's error body: code and message
        assert err.count("\n") == 1 and "/forecast/staffing" in err, err
        assert "HTTP 401: unauthorized: Unauthorized" in err, err
    finally:
        runtime.stop()
