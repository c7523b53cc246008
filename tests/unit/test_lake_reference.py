"""The lake's reference tables (issue 19's gap on AWS): the tenant's calendar (`lake_intervals`) and KPI
settings (`tenant_settings`) written before a lake query, by ccaas.usecases.lake_reference through the
LakeReferenceData port: JSON lines on S3 (moto), Parquet in the local lake folder. Without them the KPI
query counts nothing; with them (written either way) it answers the fast path's figures."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ccaas.adapters.aws import lake_reference as s3_reference
from ccaas.adapters.aws.lake_reference import S3LakeReferenceData, calendar_key, json_lines, settings_key
from ccaas.bootstrap import memory_dependencies
from ccaas.domain import lake
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.tenants import Tenant
from ccaas.ports_lake import LakeExportFailed, install_reference
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from ccaas.usecases.lake_reference import calendar_rows, days_between, ensure_reference_data, lake_reference
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from local.lake_reference import LocalLakeReferenceData
from tests.unit.test_kpis import BASE, END, SETTINGS, TENANT, TZ, fixture_activities, marked_records

BUCKET = "lake-bucket"
DAY = "2026-11-20"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


class Counting:
    """rows_for_day that records the days it was asked for."""

    def __init__(self, tenant_id: str = TENANT, tz: str = TZ) -> None:
        self.asked: list[str] = []
        self._rows = calendar_rows(tenant_id, TenantCalendar(tz))

    def __call__(self, day: str) -> list[dict[str, Any]]:
        self.asked.append(day)
        return self._rows(day)


# --- the port, both implementations (one suite, two implementations) -------------------------------------
@pytest.fixture(params=["s3", "local"])
def reference(request, tmp_path):
    if request.param == "local":
        yield LocalLakeReferenceData(tmp_path)
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield S3LakeReferenceData(client, BUCKET)


def test_only_missing_days_are_shaped_and_written_and_a_repeat_writes_nothing(reference) -> None:
    first = Counting()
    assert reference.ensure_calendar(TENANT, ["2026-11-19", "2026-11-20", "2026-11-20"], first) == 2
    assert sorted(first.asked) == ["2026-11-19", "2026-11-20"]
    again = Counting()
    assert reference.ensure_calendar(TENANT, days_between("2026-11-18", "2026-11-21"), again) == 2
    assert sorted(again.asked) == ["2026-11-18", "2026-11-21"]
    assert reference.ensure_calendar(TENANT, days_between("2026-11-18", "2026-11-21"), Counting()) == 0
    assert reference.calendar_days(TENANT) == set(days_between("2026-11-18", "2026-11-21"))
    # another tenant's calendar is its own
    other = Counting("other", "UTC")
    assert reference.ensure_calendar("other", ["2026-11-20"], other) == 1 and other.asked == ["2026-11-20"]
    assert reference.calendar_days("other") == {"2026-11-20"}


def test_settings_are_replaced_by_the_current_row(reference) -> None:
    reference.put_settings(TENANT, lake.settings_row(TENANT, TZ, KpiSettings()))
    reference.put_settings(TENANT, lake.settings_row(TENANT, TZ, SETTINGS))
    rows = _settings_rows(reference, TENANT)
    assert len(rows) == 1
    assert rows[0]["agent_cost_per_staffed_hour"] == 36.0 and rows[0]["timezone"] == TZ


def _settings_rows(reference: Any, tenant_id: str) -> list[dict[str, Any]]:
    if isinstance(reference, S3LakeReferenceData):
        body = reference.client.get_object(Bucket=BUCKET, Key=settings_key(tenant_id))["Body"].read()
        return [json.loads(line) for line in body.decode().splitlines()]
    con = local_lake.connect(reference.lake_dir)
    cursor = con.execute("SELECT * FROM tenant_settings WHERE tenant_id = ?", [tenant_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- S3: keys, JSON, one listing, failures ---------------------------------------------------------------
def test_json_lines_carry_the_glue_data_columns_each_as_its_type() -> None:
    calendar = TenantCalendar(TZ)
    rows = calendar_rows(TENANT, calendar)("2026-11-01")  # the fall-back day: 100 quarter-hours
    lines = json_lines(lake.TABLES["lake_intervals"], rows).decode().splitlines()
    assert len(lines) == 100
    for line in lines:
        parsed = json.loads(line)
        assert list(parsed) == list(lake.TABLES["lake_intervals"].column_names)  # no partition columns
        for column in lake.TABLES["lake_intervals"].columns:
            value = parsed[column.name]
            assert type(value) is (int if column.type == "bigint" else str), column.name
    (settings,) = json_lines(lake.TABLES["tenant_settings"],
                             [{**lake.settings_row(TENANT, TZ, KpiSettings(short_abandon_s=5)),
                               "agent_cost_per_staffed_hour": 36}]).decode().splitlines()
    parsed = json.loads(settings)
    assert "tenant_id" not in parsed
    assert parsed["short_abandon_ms"] == 5000.0 and isinstance(parsed["short_abandon_ms"], float)  # a double
    assert parsed["default_sl_threshold_ms"] == 20_000 and isinstance(parsed["default_sl_threshold_ms"], int)
    assert parsed["agent_cost_per_staffed_hour"] == 36.0 and isinstance(parsed["agent_cost_per_staffed_hour"], float)
    (nulls,) = json_lines(lake.TABLES["tenant_settings"], [{"timezone": TZ}]).decode().splitlines()
    assert json.loads(nulls)["agent_cost_per_staffed_hour"] is None  # a missing value is null (read as NULL)
    # the same input, the same bytes: a racing re-put is harmless
    assert json_lines(lake.TABLES["lake_intervals"], rows) == json_lines(lake.TABLES["lake_intervals"],
                                                                         calendar_rows(TENANT, calendar)("2026-11-01"))
    with pytest.raises(ValueError, match="quarter_start_ms"):
        json_lines(lake.TABLES["lake_intervals"], [{**rows[0], "quarter_start_ms": 1.5}])


def test_s3_objects_sit_under_the_projected_partition_keys(s3) -> None:
    writer = S3LakeReferenceData(s3, BUCKET)
    writer.ensure_calendar(TENANT, ["2026-11-20"], calendar_rows(TENANT, TenantCalendar(TZ)))
    writer.put_settings(TENANT, lake.settings_row(TENANT, TZ, SETTINGS))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["lake_intervals/tenant_id=acme/day=2026-11-20/calendar.json",
                    "tenant_settings/tenant_id=acme/settings.json"]
    body = s3.get_object(Bucket=BUCKET, Key=calendar_key(TENANT, "2026-11-20"))["Body"].read().decode()
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == 96 and rows[0]["quarter_start_label"] == "2026-11-20T00:00:00-05:00"
    assert rows[-1]["day_end_label"] == "2026-11-21T00:00:00-05:00"


def test_one_listing_per_call_paginated_then_a_put_per_missing_day(s3) -> None:
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    writer = S3LakeReferenceData(s3, BUCKET, page_size=2)  # pages of 2 keys: 5 days are three pages
    rows = calendar_rows(TENANT, TenantCalendar(TZ))
    assert writer.ensure_calendar(TENANT, days_between("2026-11-16", "2026-11-20"), rows) == 5
    assert calls.count("ListObjectsV2") == 1 and calls.count("PutObject") == 5
    calls.clear()
    assert writer.ensure_calendar(TENANT, days_between("2026-11-16", "2026-11-22"), rows) == 2
    assert calls.count("ListObjectsV2") == 3  # one listing, three pages
    assert calls.count("PutObject") == 2


def test_objects_are_encrypted_with_the_buckets_default_kms_key(s3) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]})
    writer = S3LakeReferenceData(s3, BUCKET)
    writer.ensure_calendar(TENANT, ["2026-11-20"], calendar_rows(TENANT, TenantCalendar(TZ)))
    writer.put_settings(TENANT, lake.settings_row(TENANT, TZ, SETTINGS))
    for key_name in (calendar_key(TENANT, "2026-11-20"), settings_key(TENANT)):
        head = s3.head_object(Bucket=BUCKET, Key=key_name)
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key, key_name


def test_s3_failures_raise_lake_export_failed(s3) -> None:
    writer = S3LakeReferenceData(s3, "no-such-bucket")
    with pytest.raises(LakeExportFailed, match="could not list the calendar of tenant acme"):
        writer.ensure_calendar(TENANT, ["2026-11-20"], calendar_rows(TENANT, TenantCalendar(TZ)))
    with pytest.raises(LakeExportFailed, match="settings of tenant acme"):
        writer.put_settings(TENANT, lake.settings_row(TENANT, TZ, SETTINGS))

    def broken(day: str) -> list[dict[str, Any]]:
        if day == "2026-11-19":
            raise RuntimeError("disk on fire")
        return calendar_rows(TENANT, TenantCalendar(TZ))(day)

    good = S3LakeReferenceData(s3, BUCKET)
    with pytest.raises(LakeExportFailed, match="1 of 2 calendar day.*2026-11-19: RuntimeError"):
        good.ensure_calendar(TENANT, ["2026-11-19", "2026-11-20"], broken)
    assert good.calendar_days(TENANT) == {"2026-11-20"}  # the written day stays; the next query writes the other


def test_an_s3_failure_is_named_by_its_kind_never_by_its_text_which_names_the_bucket_and_key() -> None:
    """LakeExportFailed reaches the API's 503 body: a connection error's text is the URL (bucket, key), an S3
    error's message may name them too; the answer names S3's error code or the exception's kind only."""
    from types import SimpleNamespace

    from botocore.exceptions import ClientError, EndpointConnectionError

    url = f"https://{BUCKET}.s3.amazonaws.com/{settings_key(TENANT)}"

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=url)

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": f"no access to {url}"}}, "PutObject")

    for put_object, kind in ((unreachable, "EndpointConnectionError"), (denied, "AccessDenied")):
        writer = S3LakeReferenceData(SimpleNamespace(put_object=put_object), BUCKET)
        with pytest.raises(LakeExportFailed) as refused:
            writer.put_settings(TENANT, lake.settings_row(TENANT, TZ, SETTINGS))
        assert str(refused.value) == f"could not write the settings of tenant {TENANT} ({kind})"


def test_the_function_environment_names_the_bucket() -> None:
    assert s3_reference.from_environment({}) is None
    found = s3_reference.from_environment({"LAKE_BUCKET": BUCKET, "AWS_DEFAULT_REGION": "us-east-1"})
    assert isinstance(found, S3LakeReferenceData) and found.bucket == BUCKET


# --- the use-case ---------------------------------------------------------------------------------------
class Recording:
    def __init__(self) -> None:
        self.calendar: list[tuple[str, list[str], int]] = []
        self.settings: list[tuple[str, dict[str, Any]]] = []

    def ensure_calendar(self, tenant_id, days, rows_for_day):
        self.calendar.append((tenant_id, list(days), len(rows_for_day(days[0]))))
        return len(days)

    def put_settings(self, tenant_id, row):
        self.settings.append((tenant_id, dict(row)))


@pytest.fixture
def installed():
    recording = Recording()
    previous = install_reference(recording)
    yield recording
    install_reference(previous)


def test_the_use_case_writes_the_settings_and_the_scanned_days(installed) -> None:
    deps = memory_dependencies()
    written = ensure_reference_data(deps, TENANT, TenantCalendar(TZ), ("2026-03-07", "2026-03-09"), SETTINGS)
    assert written == 3
    assert installed.calendar == [(TENANT, ["2026-03-07", "2026-03-08", "2026-03-09"], 96)]
    ((tenant, row),) = installed.settings
    assert tenant == TENANT and row == lake.settings_row(TENANT, TZ, SETTINGS)
    # spring forward in New York: 92 quarter-hours, as the Python roll-up's calendar has
    assert len(calendar_rows(TENANT, TenantCalendar(TZ))("2026-03-08")) == 92


def test_without_a_writer_nothing_is_written(monkeypatch) -> None:
    monkeypatch.delenv("LAKE_BUCKET", raising=False)
    previous = install_reference(None)
    try:
        deps = memory_dependencies()
        assert lake_reference(deps) is None
        assert ensure_reference_data(deps, TENANT, TenantCalendar(TZ), (DAY, DAY), SETTINGS) == 0
    finally:
        install_reference(previous)


def test_day_ranges_are_checked() -> None:
    assert days_between("2026-02-27", "2026-03-01") == ["2026-02-27", "2026-02-28", "2026-03-01"]
    with pytest.raises(ValueError, match="after"):
        days_between("2026-03-02", "2026-03-01")
    with pytest.raises(ValueError, match="at most 400"):
        days_between("2025-01-01", "2026-12-31")
    assert len(days_between("2025-11-01", "2026-12-03")) == 398  # 13 months and the lookback day fit


# --- the gap, closed: the KPI query on tables the writers deliver, plus the reference data ----------------
@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = BASE + 30 * 86_400_000
    d.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    history.put_kpi_settings(d, TENANT, SETTINGS)
    for record in marked_records():
        d.history.put_record(record)
    for activity in fixture_activities():
        d.history._t.spans[(TENANT, activity.agent_id, activity.start_ms)] = activity.model_copy(
            update={"tenant_id": TENANT})
    return d


def _writers_only_lake(lake_dir: Path, deps) -> None:
    """What the writer functions deliver on AWS (contact records, activity spans, surveys), and nothing else:
    no calendar, no settings."""
    calendar = TenantCalendar(TZ)
    lo, hi = lake.day_range_ms(calendar, DAY, DAY)
    entries, activities = local_lake.history_from_store(deps.history, TENANT, lo, hi)
    records = [r for r in (e.kpi_record() for e in entries) if r is not None]
    con = local_lake.duckdb.connect()
    try:
        local_lake.write_table(con, lake.TABLES["contact_records"], lake.contact_record_rows(records, calendar), lake_dir)
        local_lake.write_table(con, lake.TABLES["agent_activity"],
                               lake.agent_activity_rows(TENANT, activities, calendar), lake_dir)
        local_lake.write_table(con, lake.TABLES["surveys"], lake.survey_rows(entries, calendar), lake_dir)
    finally:
        con.close()


def _long_range(deps, engine, *, settings: KpiSettings):
    calendar = TenantCalendar(TZ)
    start, end = BASE - 100 * 86_400_000, END + 20 * 86_400_000
    from_ms, to_ms = calendar.day_start(calendar.local(start).date()), calendar.day_start(calendar.local(end).date())
    days = lake_history.scan_days(calendar, from_ms, to_ms)
    written = ensure_reference_data(deps, TENANT, calendar, days, settings)
    report = lake_history.start_query(engine, TENANT, time_zone=TZ, from_ms=from_ms, to_ms=to_ms, interval="day",
                                      wait_s=30.0, tenant_variant=settings.service_level_variant)
    return written, report


def _fast_path_day(deps, row):
    fast = history.historical_metrics(deps, TENANT, start=datetime.fromtimestamp(row.interval_start_ms / 1000, UTC),
                                      end=datetime.fromtimestamp(row.interval_end_ms / 1000, UTC), interval="day")
    (want,) = fast.rows
    return want


def test_without_reference_data_the_lake_counts_nothing_and_with_it_the_fast_paths_figures(deps, tmp_path) -> None:
    _writers_only_lake(tmp_path, deps)
    engine = DuckDbLakeQueries(tmp_path)
    try:
        report = lake_history.start_query(engine, TENANT, time_zone=TZ, from_ms=BASE - 100 * 86_400_000,
                                          to_ms=END + 20 * 86_400_000, interval="day", wait_s=30.0)
        assert not any(r.offered for r in report.rows)  # the gap: no calendar, no KPI rows

        previous = install_reference(LocalLakeReferenceData(tmp_path))
        try:
            written, report = _long_range(deps, engine, settings=SETTINGS)
            assert written == 121  # 120 days and the lookback day
            again, _ = _long_range(deps, engine, settings=SETTINGS)
            assert again == 0  # the next query finds the calendar written
        finally:
            install_reference(previous)
        (busy,) = [r for r in report.rows if r.offered]
        want = _fast_path_day(deps, busy)
        for name in ACCUMULATOR_FIELDS:
            assert getattr(busy, name) == getattr(want, name), name
        assert busy.interval_start == "2026-11-20T00:00:00-05:00"
        assert busy.service_level == pytest.approx(want.service_level) and busy.aht_s == pytest.approx(want.aht_s)
        assert busy.cost_per_contact == pytest.approx(want.cost_per_contact)  # the settings row's cost rates
    finally:
        engine.close()


def test_the_json_the_s3_writer_puts_reads_back_as_the_same_kpis(deps, tmp_path, s3) -> None:
    """The S3 objects' JSON lines, typed by the tables' columns (DuckDB's read_json with the declared types,
    as the OpenX SerDe reads them with Glue's), give the same figures as the Parquet the local twin writes."""
    _writers_only_lake(tmp_path, deps)
    previous = install_reference(S3LakeReferenceData(s3, BUCKET))
    engine = DuckDbLakeQueries(tmp_path)
    try:
        written, _ = _long_range(deps, engine, settings=SETTINGS)
        assert written == 121
        rows: dict[str, list[dict[str, Any]]] = {}
        for item in s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1000)["Contents"]:
            table = item["Key"].split("/", 1)[0]
            partition = dict(p.split("=", 1) for p in item["Key"].split("/")[1:-1])
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode()
            rows.setdefault(table, []).extend({**json.loads(line), **partition} for line in body.splitlines())
        con = local_lake.duckdb.connect()
        try:  # one write a table (it files each row under its own partition): not one per object, ~0.4 s of CPU
            for table, table_rows in rows.items():
                local_lake.write_table(con, lake.TABLES[table], table_rows, tmp_path)
        finally:
            con.close()
        _, report = _long_range(deps, engine, settings=SETTINGS)
        (busy,) = [r for r in report.rows if r.offered]
        want = _fast_path_day(deps, busy)
        for name in ACCUMULATOR_FIELDS:
            assert getattr(busy, name) == getattr(want, name), name
        assert busy.cost_per_contact == pytest.approx(want.cost_per_contact)
    finally:
        engine.close()
        install_reference(previous)
