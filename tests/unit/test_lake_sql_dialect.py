"""The lake's SQL as Athena (engine v3 = Trino) reads it, checked without Athena (issue 19).

The KPI SQL has only ever run on DuckDB. sqlglot (pinned, tests only: never imported by Lambda code)
parses every statement the lake builds — each view, and the API's whole KPI query for every interval,
grouping and service-level variant it can send — as Trino, and these tests require:
- it parses as Trino, and DuckDB's reading of the same text, transpiled to Trino, is the same statement
  once both are typed against the lake's schema (no construct means one thing in DuckDB and another in
  Trino, as far as sqlglot knows);
- every function is one Trino has (an allow-list checked against Trino's function list,
  trino.io/docs/current/functions/list.html), unknown (`exp.Anonymous`) functions included;
- every division has a DOUBLE operand (Trino truncates BIGINT / BIGINT; DuckDB does not), and
  comparisons, UNION ALL columns and CASE branches never mix a number with text (Trino refuses
  `varchar = bigint`; DuckDB casts), with the parameters substituted as Athena substitutes them;
- no unquoted identifier is a Trino reserved keyword (trino.io/docs/current/language/reserved.html);
- Athena's execution parameters: `?` positional, as many as the values bound, each in a WHERE clause
  (Athena's "parameterized queries" limits: `SELECT ?` is not supported), each value at most 1,024
  characters, and the statement under Athena's 262,144-byte query-string limit;
- GREATEST / LEAST, which return NULL on any NULL argument in Trino but ignore NULLs in DuckDB, give the
  same rows on real data when DuckDB is made to behave as Trino.
"""
from __future__ import annotations

import functools
import itertools
import re
from datetime import date, timedelta

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from ccaas.adapters.aws.lake import literal
from ccaas.domain import lake
from ccaas.domain.kpis.ledger import DIMENSIONS
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.memory_release import collector_paused
from tests.unit.test_kpis import BASE, END, SETTINGS, TENANT, TZ, fixture_activities, marked_records

# Functions the lake's SQL may call: each is in Trino's function list (docs/src/main/sphinx/functions/
# list.md: cast, coalesce, count, greatest, least, rank, row_number, sum) and in DuckDB's.
TRINO_FUNCTIONS = frozenset({"CAST", "COALESCE", "COUNT", "GREATEST", "LEAST", "RANK", "ROW_NUMBER", "SUM"})
# Trino's reserved keywords (trino.io/docs/current/language/reserved.html): an identifier must be quoted.
TRINO_RESERVED = frozenset("""
ALTER AND AS AUTO BETWEEN BY CASE CAST CONSTRAINT CREATE CROSS CUBE CURRENT_CATALOG CURRENT_DATE CURRENT_PATH
CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DEALLOCATE DELETE DESCRIBE DISTINCT DROP
ELSE END ESCAPE EXCEPT EXECUTE EXISTS EXTRACT FALSE FOR FROM FULL GROUP GROUPING HAVING IN INNER INSERT INTERSECT
INTO IS JOIN JSON_ARRAY JSON_EXISTS JSON_OBJECT JSON_QUERY JSON_TABLE JSON_VALUE LEFT LIKE LISTAGG LOCALTIME
LOCALTIMESTAMP NATURAL NORMALIZE NOT NULL ON OR ORDER OUTER PREPARE RECURSIVE RIGHT ROLLUP SELECT SKIP TABLE THEN
TRIM TRUE UESCAPE UNION UNNEST USING VALUES WHEN WHERE WITH""".split())
ATHENA_MAX_QUERY_BYTES = 262_144
ATHENA_MAX_PARAMETER_CHARS = 1_024

_SQLGLOT_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE",
                  "boolean": "BOOLEAN", "array<string>": "ARRAY<VARCHAR>"}
SCHEMA = {t.name: {c.name: _SQLGLOT_TYPES[c.type] for c in t.all_columns} for t in lake.TABLES.values()}
API_INTERVALS = ("hour", "day", "week")  # what the API sends the lake (15-minute intervals stay on the fast path)
API_GROUPINGS = [(), *((d,) for d in DIMENSIONS), *itertools.permutations(DIMENSIONS, 2)]
VARIANTS = (None, "default", "answered_over_offered", "abandons_count_as_met")
# Every grouping the API accepts (none, one dimension, an ordered pair); with no or one dimension every
# interval, a pair with one interval (pairs differ from singles only in their columns); the variants in
# turn (all four meet every interval).
API_CASES = [
    (interval, group_by, VARIANTS[n % len(VARIANTS)])
    for n, (interval, group_by) in enumerate(
        [(i, g) for g in API_GROUPINGS if len(g) < 2 for i in API_INTERVALS]
        + [(API_INTERVALS[k % len(API_INTERVALS)], g) for k, g in enumerate(g for g in API_GROUPINGS if len(g) == 2)])
]
SCAN = ("2026-01-01", "2026-12-31")


def api_query(interval: str, group_by: tuple[str, ...], variant: str | None, **options) -> lake.LakeQuery:
    """The statement ccaas.usecases.lake.start_query sends for one request (Athena's table names)."""
    return lake.kpi_query(tenant_id="tenant-1", from_ms=1_767_225_600_000, to_ms=1_799_366_400_000,
                          interval=interval, group_by=group_by, scan_days=SCAN, service_level_variant=variant,
                          names={t: f"ccaas_lake.{t}" for t in lake.TABLES},
                          limit=lake_history.row_cap("json") + 1, **options)


@functools.lru_cache(maxsize=4)
def _parsed(sql: str, read: str) -> exp.Expression:
    """Each text parsed once per dialect: parsing the ~20 KB statements is most of this file's time, and the
    same statement is checked by several tests in a row. The tree is shared: read it, or copy it to change it.
    A few trees only (~9,000 objects each, for the collector to walk), dropped when the module ends."""
    with collector_paused():  # ~10^5 objects a parse: the collector walked the heap meanwhile
        if read == "trino":
            return sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
        return sqlglot.parse_one(sql, read=read)


@pytest.fixture(scope="module", autouse=True)
def _parse_cache_lives_with_this_module():
    yield
    _parsed.cache_clear()
    _trino_null_semantics.cache_clear()


def trino(sql: str) -> exp.Expression:
    """The statement as Trino (a shared tree: never change it; typed() and transform() copy); a ParseError fails
    the test."""
    return _parsed(sql, "trino")


def typed(tree: exp.Expression) -> exp.Expression:
    """Columns resolved and every expression typed against the lake's tables (as Glue declares them), on a copy
    (qualify and annotate_types change the tree they are given)."""
    with collector_paused():  # ~10^5 objects a parse: the collector walked the heap meanwhile
        return annotate_types(qualify(tree.copy(), schema=SCHEMA, dialect="trino"), schema=SCHEMA, dialect="trino")


def functions_called(tree: exp.Expression) -> set[str]:
    """The names of the functions a statement calls, as Trino spells them (operators and CASE left out)."""
    names = set()
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Binary | exp.Connector | exp.Case | exp.Not | exp.Paren):
            continue
        if isinstance(node, exp.If) and isinstance(node.parent, exp.Case):
            continue  # a WHEN … THEN branch
        if isinstance(node, exp.Anonymous):
            names.add(node.name.upper())
            continue
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", node.sql(dialect="trino"))
        names.add(match.group(1).upper() if match else type(node).__name__)
    return names


def untyped_divisions(tree: exp.Expression) -> list[str]:
    """Divisions with no DOUBLE operand: Trino divides two integers as integers (truncating)."""
    bad = []
    for div in tree.find_all(exp.Div):
        kinds = {div.left.type.this if div.left.type else None, div.right.type.this if div.right.type else None}
        if exp.DataType.Type.DOUBLE not in kinds:
            bad.append(div.sql(dialect="trino"))
    return bad


def _kind(data_type: exp.DataType | None) -> str | None:
    if data_type is None:
        return None
    if data_type.is_type(*exp.DataType.NUMERIC_TYPES):
        return "number"
    if data_type.is_type(*exp.DataType.TEXT_TYPES):
        return "text"
    return data_type.sql(dialect="trino")


def unlike_types(tree: exp.Expression) -> list[str]:
    """Comparisons, UNION ALL columns and CASE branches mixing kinds (number, text, boolean, …): Trino
    refuses `varchar = bigint` (DuckDB casts); a typed tree (typed()) with the parameters substituted."""
    bad = []
    for node in tree.find_all(exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE):
        if _kind(node.left.type) != _kind(node.right.type) or _kind(node.left.type) is None:
            bad.append(node.sql(dialect="trino"))
    for union in tree.find_all(exp.Union):
        for left, right in zip(union.left.selects, union.right.selects, strict=True):
            if _kind(left.type) != _kind(right.type) and "NULL" not in (_kind(left.type), _kind(right.type)):
                bad.append(f"UNION column {left.alias_or_name}")
    for case in tree.find_all(exp.Case):
        branches = [i.args["true"] for i in case.args["ifs"]] + ([case.args["default"]] if case.args.get("default") else [])
        if len({_kind(b.type) for b in branches} - {"NULL"}) > 1:
            bad.append(case.sql(dialect="trino")[:200])
    return bad


def substituted(query: lake.LakeQuery) -> exp.Expression:
    """The statement as Athena runs it: each `?` replaced by its execution parameter's literal."""
    values = iter(query.parameters)
    return trino(query.sql).transform(  # transform() works on a copy; each literal is a copy of the shared one
        lambda node: trino(f"SELECT {literal(next(values))}").selects[0].copy() if isinstance(node, exp.Placeholder)
        else node)


def reserved_identifiers(tree: exp.Expression) -> set[str]:
    return {i.name for i in tree.find_all(exp.Identifier) if not i.quoted and i.name.upper() in TRINO_RESERVED}


def check_athena_parameters(query: lake.LakeQuery) -> exp.Expression:
    tree = trino(query.sql)
    placeholders = list(tree.find_all(exp.Placeholder))
    assert len(placeholders) == len(query.parameters) == query.sql.count("?")  # none hidden in a literal
    for placeholder in placeholders:
        clause = placeholder.find_ancestor(exp.Where, exp.Select, exp.Join, exp.Order, exp.Limit, exp.Group)
        assert isinstance(clause, exp.Where), f"a parameter outside WHERE: {clause.sql()[:120] if clause else None}"
    assert all(len(literal(p)) <= ATHENA_MAX_PARAMETER_CHARS for p in query.parameters)
    assert len(query.sql.encode()) < ATHENA_MAX_QUERY_BYTES
    return tree


# --- every statement parses as Trino, with Trino's functions and keywords only -----------------------
@pytest.mark.parametrize("view", lake.KPI_VIEWS)
def test_every_view_parses_as_trino_with_trino_functions_only(view):
    sql = lake.view_sql(view, {t: f"ccaas_lake.{t}" for t in lake.TABLES})
    tree = trino(sql)
    assert isinstance(tree, exp.Create) and tree.this.name == view
    assert functions_called(tree) <= TRINO_FUNCTIONS, view
    transpiled = sqlglot.transpile(sql, read="duckdb", write="trino")[0]
    assert functions_called(trino(transpiled)) <= TRINO_FUNCTIONS, view
    assert not reserved_identifiers(tree)


def test_the_api_cases_cover_every_grouping_interval_and_variant():
    assert {g for _, g, _ in API_CASES} == set(API_GROUPINGS) and len(API_GROUPINGS) == 1 + 7 + 42
    assert {(i, v) for i, _, v in API_CASES} == set(itertools.product(API_INTERVALS, VARIANTS))


@pytest.mark.parametrize(("interval", "group_by", "variant"), API_CASES,
                         ids=[f"{i}-{'+'.join(g) or 'ungrouped'}-{v}" for i, g, v in API_CASES])
def test_every_api_query_parses_as_trino_with_athena_parameters(interval, group_by, variant):
    query = api_query(interval, group_by, variant)
    tree = check_athena_parameters(query)
    assert query.parameters[0] == "tenant-1" and query.parameters.count("tenant-1") >= 4
    assert (variant in query.parameters) == (variant is not None)
    assert functions_called(tree) <= TRINO_FUNCTIONS
    assert not reserved_identifiers(tree)
    limit = tree.args.get("limit")
    assert limit is not None and int(limit.expression.name) == lake_history.row_cap("json") + 1


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("interval", ["15m", *API_INTERVALS])
def test_every_variant_and_interval_parses_with_and_without_a_limit(interval, variant):
    for group_by, limit in (((), None), (("queue", "channel"), 101)):
        query = lake.kpi_query(tenant_id="t", from_ms=0, to_ms=86_400_000, interval=interval, group_by=group_by,
                               scan_days=("2026-01-01", "2026-01-02"), service_level_variant=variant, limit=limit)
        tree = check_athena_parameters(query)
        assert ("result_rows" in query.sql) == (limit is not None)


def test_duckdb_and_trino_read_the_api_query_alike_and_every_division_is_in_double():
    for interval, group_by, variant in (("hour", ("queue", "channel"), "default"), ("week", (), None),
                                        ("day", ("agent",), "abandons_count_as_met")):
        sql = api_query(interval, group_by, variant).sql
        as_trino, as_duckdb = typed(trino(sql)), typed(_parsed(sql, "duckdb"))
        transpiled = _parsed(sql, "duckdb").sql(dialect="trino")  # sqlglot.transpile(sql, "duckdb", "trino")
        assert as_duckdb.sql(dialect="trino") == as_trino.sql(dialect="trino")
        assert untyped_divisions(as_trino) == []
        assert unlike_types(typed(substituted(api_query(interval, group_by, variant)))) == []
        assert functions_called(trino(transpiled)) <= TRINO_FUNCTIONS


# --- the checks themselves catch what they are for ------------------------------------------------
def test_the_checks_catch_duckdb_only_functions_integer_division_and_select_parameters():
    duckdb_only = "SELECT list_value(1, 2) AS l, epoch_ms(x) AS t, strftime(now(), '%Y') AS y FROM t"
    transpiled = sqlglot.transpile(duckdb_only, read="duckdb", write="trino")[0]
    assert not functions_called(trino(transpiled)) <= TRINO_FUNCTIONS
    assert "MY_UDF" in functions_called(trino("SELECT my_udf(a) FROM t"))
    truncating = typed(trino("SELECT hold_ms / hold_count AS avg_hold FROM contact_records"))
    assert untyped_divisions(truncating) == ['"contact_records"."hold_ms" / "contact_records"."hold_count"']
    assert untyped_divisions(typed(trino("SELECT CAST(hold_ms AS DOUBLE) / hold_count FROM contact_records"))) == []
    assert unlike_types(typed(trino("SELECT * FROM contact_records WHERE day = 5"))) == ['"contact_records"."day" = 5']
    assert unlike_types(typed(trino("SELECT CASE WHEN csat > 3 THEN 'good' ELSE 0 END FROM contact_records")))
    assert unlike_types(typed(trino("SELECT csat FROM contact_records UNION ALL SELECT queue_id FROM contact_records")))
    assert unlike_types(typed(substituted(lake.LakeQuery("SELECT * FROM contact_records WHERE day >= ?", ("2026-01-01",)))
                              )) == []
    with pytest.raises(AssertionError, match="outside WHERE"):
        check_athena_parameters(lake.LakeQuery("SELECT ? AS v FROM t WHERE a = ?", ("x", "y")))
    with pytest.raises(AssertionError):
        check_athena_parameters(lake.LakeQuery("SELECT '?' AS v FROM t WHERE a = ?", ("x",)))
    assert reserved_identifiers(trino('SELECT "table".x AS y FROM "table"')) == set()
    with pytest.raises(sqlglot.errors.ParseError):
        trino("SELECT a FROM t WHERE")


def test_sqlglot_stays_in_the_tests_never_in_lambda_code_or_its_layer():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for folder in ("layers", "functions"):
        for source in (root / folder).rglob("*.py"):
            assert "sqlglot" not in source.read_text(encoding="utf-8"), source
    assert "sqlglot" not in (root / "layers" / "requirements.txt").read_text(encoding="utf-8")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; import ccaas.api.app, ccaas.usecases.lake, ccaas.adapters.aws.lake; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlglot', 'duckdb')))"],
        cwd=root, env={"PYTHONPATH": str(root / "layers"), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True, text=True, timeout=120, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


# --- NULL semantics Trino has and DuckDB has not ----------------------------------------------------
@functools.lru_cache(maxsize=4)
def _trino_null_semantics(sql: str) -> str:
    """The statement with GREATEST/LEAST returning NULL when any argument is NULL, as Trino's do. Once per text:
    both lakes' queries are one text (the tenant, range and days are parameters)."""
    def strict(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Greatest | exp.Least):
            args = [node.this, *node.expressions]
            any_null = exp.or_(*(exp.Is(this=a.copy(), expression=exp.Null()) for a in args))
            return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=node.copy())
        return node

    return _parsed(sql, "duckdb").transform(strict).sql(dialect="duckdb")  # transform() works on a copy


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("lake")
    con = local_lake.duckdb.connect(config={"threads": 1})  # small lakes: DuckDB's threads only cost CPU
    local_lake.export_records(con, out, tenant_id=TENANT, tz=TZ, records=marked_records(),
                              activities=fixture_activities(), first_day="2026-11-20", last_day="2026-11-20",
                              settings=SETTINGS)
    return local_lake.connect(out, con)


@pytest.fixture(scope="module")
def random_lake(tmp_path_factory):
    from tests.unit.test_lake_conformance import random_day

    day, tz, tenant = date(2026, 3, 8), "America/New_York", "t-random"
    fed, _, activities, start, end = random_day(3, tenant, tz, day, n=800)
    out = tmp_path_factory.mktemp("random-lake")
    con = local_lake.duckdb.connect(config={"threads": 1})
    local_lake.export_records(con, out, tenant_id=tenant, tz=tz, records=fed, activities=activities,
                              first_day=(day - timedelta(days=1)).isoformat(), last_day=day.isoformat(),
                              settings=SETTINGS)
    return local_lake.connect(out, con), tenant, start, end, (day - timedelta(days=1)).isoformat(), day.isoformat()


def _rows(con, sql: str, parameters) -> list[tuple]:  # noqa: ANN001
    return con.execute(sql, list(parameters)).fetchall()


@pytest.mark.parametrize("group_by", [(), ("agent",), ("queue", "channel")])
def test_greatest_and_least_never_see_a_null_so_trinos_null_semantics_change_nothing(fixture_lake, random_lake,
                                                                                     group_by):
    strict_sql = None
    for con, tenant, start, end, first, last in ((fixture_lake, TENANT, BASE, END, "2026-11-19", "2026-11-20"),
                                                 random_lake):
        query = lake.kpi_query(tenant_id=tenant, from_ms=start, to_ms=end, interval="hour", group_by=group_by,
                               scan_days=(first, last))
        strict_sql = _trino_null_semantics(query.sql)
        assert strict_sql.count("IS NULL") > query.sql.count("IS NULL")  # the rewrite did something
        want = _rows(con, query.sql, query.parameters)
        assert len(want) > 0 and any(row for row in want)
        assert _rows(con, strict_sql, query.parameters) == want
    assert strict_sql is not None
