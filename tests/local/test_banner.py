"""The start-up banner says what is true: the demo campaign dials only when it was started (not with
--no-simulate / --no-outbound), and the deployed table names are printed (History first: the one
`local.lake export --table` reads)."""
from __future__ import annotations

from types import SimpleNamespace

from local.__main__ import banner, table_names

API = "http://127.0.0.1:8080/v1"


def fake_runtime() -> SimpleNamespace:
    timings = SimpleNamespace(ready_s=9.0, synth_s=1.0, synthesized=False, moto_s=1.0, deploy_s=2.0, warm_s=1.0, seed_s=1.0)
    tables = {"DataContactsTableDC2B0D3C": "Ccaas-DataContactsTableDC2B0D3C",
              "DataHistoryTable88FD5D72": "Ccaas-DataHistoryTable88FD5D72",
              "DataAgentsTable3278BDCC": "Ccaas-DataAgentsTable3278BDCC"}
    return SimpleNamespace(timings=timings, api_keys={"demo": "ck_admin"}, role_keys={"demo": {"supervisor": "ck_sup"}},
                           api_url=API, moto_endpoint="http://127.0.0.1:5000", static_dir=None, history=None,
                           deployment=SimpleNamespace(tables=tables))


def _outbound(shown: str) -> str:
    return next(line for line in shown.splitlines() if line.startswith("  Outbound:"))


def test_a_draft_campaign_is_not_announced_as_dialing() -> None:
    line = _outbound(banner(fake_runtime()))  # --no-simulate / --no-outbound: the campaign stays a draft
    assert "is draft, not dialing" in line and "dials" not in line
    assert f"curl -s -X POST -H 'Authorization: Bearer ck_sup' {API}/campaigns/demo-outbound/start" in line


def test_a_started_campaign_is_announced_with_its_metrics() -> None:
    line = _outbound(banner(fake_runtime(), outbound_status="running"))
    assert "dials from the first one-minute tick" in line and f"{API}/campaigns/demo-outbound/metrics" in line


def test_the_table_names_are_printed_history_first() -> None:
    rt = fake_runtime()
    assert table_names(rt) == ("History=Ccaas-DataHistoryTable88FD5D72, Agents=Ccaas-DataAgentsTable3278BDCC, "
                               "Contacts=Ccaas-DataContactsTableDC2B0D3C")
    assert f"  Tables:       {table_names(rt)}" in banner(rt).splitlines()
    assert table_names(SimpleNamespace()) == ""  # no deployment yet: no line


def test_the_local_lake_is_printed_with_commands_that_run_from_the_checkout() -> None:
    rt = fake_runtime()
    rt.lake = SimpleNamespace(how_to_query=lambda: "lake: .build/lake (Parquet). Query it with DuckDB:\n"
                                                    "  python -m local.lake query --lake .build/lake \"select 1\"")
    shown = banner(rt)
    assert "  Lake:         lake: .build/lake (Parquet)" in shown
    assert ".venv/bin/python -m local.lake query --lake .build/lake" in shown
    assert "Lake:" not in banner(fake_runtime())  # no history, no lake
