"""Times a client sends are ISO 8601 text, in every query and body field of every route (README `from`/`to` ISO 8601;
"Numbers are numbers": "120" is not 120). An outside probe found pydantic's lax reading at work: `from=1796083200000&
to=1796090400` (epoch ms and s, mixed) answered 200, `from=20261201` (ISO 8601's basic form) was read as epoch
seconds ("year must be 2000-2100"), and a body time given as the digit string "1796538600000" was taken. The shared
types (vocabulary.IsoDateTime, IsoDate) take the extended form only and say so; this walks every parameter the
routes declare and every body model they take, nested ones included, for a time field not built on them."""
from __future__ import annotations

import datetime as dt
import typing

import pydantic
import pytest
from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError

from ccaas.api.app import ROUTES
from ccaas.domain.vocabulary import ISO_TEXT_CHECKS, IsoDate, IsoDateTime

TIME_TYPES = (dt.datetime, dt.date, dt.time, dt.timedelta, pydantic.AwareDatetime, pydantic.NaiveDatetime,
              pydantic.PastDatetime, pydantic.FutureDatetime, pydantic.PastDate, pydantic.FutureDate)
# Time fields not built on the shared types yet, each to be moved onto them: none left (the outbound, forecast,
# chat message and holiday times moved; tests/unit/test_strict_times_followups.py sends each one a number).
AWAITING: set[str] = set()
NOT_ISO_TEXT = (1796538600000, 1796538600, "1796538600000", "1796538600", "20261201", "20261201T093000Z", True, 1.5)


def _lax_times(annotation: typing.Any) -> list[str]:
    """The time types in an annotation that no ISO text check (vocabulary.ISO_TEXT_CHECKS) reads first."""
    if annotation in TIME_TYPES:
        return [getattr(annotation, "__name__", str(annotation))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return []  # walked as a model of its own
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        if any(isinstance(m, BeforeValidator) and m.func in ISO_TEXT_CHECKS for m in meta):
            return []
        return _lax_times(base)
    if typing.get_origin(annotation) is typing.Literal:
        return []
    return [kind for arg in typing.get_args(annotation) if arg is not Ellipsis and not isinstance(arg, (str, int))
            for kind in _lax_times(arg)]


def _models(annotation: typing.Any) -> set[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return {m for arg in typing.get_args(annotation) if arg is not Ellipsis and not isinstance(arg, (str, int))
            for m in _models(arg)}


def _full(field: typing.Any) -> typing.Any:
    return typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def _lax_fields() -> set[str]:
    lax: set[str] = set()
    todo: set[type[BaseModel]] = set()
    for route in ROUTES:
        dependant = route.dependant
        for param in (*dependant.query_params, *dependant.header_params, *dependant.cookie_params,
                      *dependant.path_params):
            if _lax_times(_full(param.field_info)):
                lax.add(f"{route.method} {route.path} ?{param.alias}")
            todo |= _models(param.field_info.annotation)
        for param in dependant.body_params:
            todo |= _models(param.field_info.annotation)
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            if _lax_times(_full(field)):
                lax.add(f"{model.__module__}.{model.__name__}.{name}")
            todo |= _models(field.annotation) - seen
    return lax


def test_every_time_a_client_sends_is_iso_8601_text():
    lax = _lax_fields()
    assert sorted(lax - AWAITING) == [], "a time field not read as ISO 8601 text: use vocabulary.IsoDateTime / IsoDate"
    fixed = AWAITING - lax
    assert not fixed, f"now on the shared types: take {sorted(fixed)} off AWAITING"


def test_the_walk_finds_a_lax_time_and_passes_the_shared_types():
    class Lax(BaseModel):
        at: dt.datetime | None = None
        days: frozenset[dt.date] = frozenset()
        strict: IsoDateTime | None = None
        strict_days: tuple[IsoDate, ...] = ()

    found = {name: _lax_times(_full(f)) for name, f in Lax.model_fields.items()}
    assert found == {"at": ["datetime"], "days": ["date"], "strict": [], "strict_days": []}


def test_the_history_and_insight_ranges_are_walked_and_strict():
    params = {(r.path, p.alias): p for r in ROUTES for p in r.dependant.query_params}
    for path in ("/metrics/historical", "/metrics/historical/summary", "/contacts", "/insights/reasons"):
        for name in ("from", "to"):
            assert not _lax_times(_full(params[(path, name)].field_info)), (path, name)
            for sent in NOT_ISO_TEXT:
                _, errors = params[(path, name)].validate(value=sent, loc=("query", name))
                assert errors and errors[0]["loc"] == ("query", name), (path, name, sent)
            value, errors = params[(path, name)].validate(value="2026-12-01T09:30:00Z", loc=("query", name))
            assert not errors and value == dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("sent", NOT_ISO_TEXT)
def test_numbers_digit_strings_and_the_basic_form_are_refused_saying_the_extended_form_is_expected(sent):
    for kind, example in ((IsoDateTime, "2026-12-01T09:30:00Z"), (IsoDate, "2026-12-01")):
        with pytest.raises(ValidationError) as refused:
            TypeAdapter(kind).validate_python(sent)
        message = refused.value.errors()[0]["msg"]
        assert "ISO 8601" in message and "extended form" in message and example in message, message
        assert str(sent) not in message.replace("20261201)", ""), message  # never the value sent (the example aside)


@pytest.mark.parametrize(("sent", "read"), [
    ("2026-12-01", dt.datetime(2026, 12, 1)),  # a date: midnight, the route's wall clock
    ("2026-12-01T09:30", dt.datetime(2026, 12, 1, 9, 30)),
    ("2026-12-01T09:30:00.250+01:00", dt.datetime(2026, 12, 1, 9, 30, 0, 250_000, dt.timezone(dt.timedelta(hours=1)))),
    ("2026-12-01T09:30:00Z", dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)),
])
def test_the_extended_form_is_read_as_before(sent, read):
    assert TypeAdapter(IsoDateTime).validate_python(sent) == read


def test_a_date_is_a_calendar_date_and_both_stay_within_the_calendar():
    assert TypeAdapter(IsoDate).validate_python("2026-12-01") == dt.date(2026, 12, 1)
    for not_a_date in ("2026-12-01T00:00", "2026-12-01T00:00:00Z", "2026-W49-2"):
        with pytest.raises(ValidationError):
            TypeAdapter(IsoDate).validate_python(not_a_date)
    for kind, far in ((IsoDateTime, "1970-01-01T00:00:00Z"), (IsoDate, "2101-01-01")):
        with pytest.raises(ValidationError, match="year must be 2000-2100"):
            TypeAdapter(kind).validate_python(far)
    # what code (never a client: JSON has no dates) passes is taken as it is
    assert TypeAdapter(IsoDate).validate_python(dt.date(2026, 12, 1)) == dt.date(2026, 12, 1)


def test_the_documented_schema_is_unchanged():
    assert TypeAdapter(IsoDateTime).json_schema() == {"type": "string", "format": "date-time"}
    assert TypeAdapter(IsoDate).json_schema() == {"type": "string", "format": "date"}
