"""Numbers are numbers and booleans are booleans in everything a client sends (README "Errors, limits and
retries"): pydantic's lax mode reads JSON `true` as 1 (or 1.0), "120" as 120 and "off" as False. An outside probe
found `PUT /alerts/rules` storing `threshold_s: true` as a 1-second alert and `PUT /settings/kpis` taking
`short_abandon_s: true`; this walks every body and query model of every route, nested models, aliases and models
built from others (the campaign PATCH) included, so a lax field cannot come back. A later probe found query
parameters the walk never saw (a plain `bool` in a route's signature: `GET /metrics/historical?compact=yes` was
true): the second walk reads the parameters each route really declares (its dependant's query, header, cookie and
path parameters), and sends each boolean one the query texts a client may try. A query is text: its booleans are
`true` and `false` (vocabulary.QueryBool); its numbers are read from their digits (Powertools validates the text
itself, so a Strict int would refuse every query number), and never from a boolean, which a query cannot send."""
from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.types import Strict

from ccaas.api.app import ROUTES
from ccaas.domain.alerts import AlertRules
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.usecases.outbound import CampaignPatch


def _lax(annotation: typing.Any) -> list[str]:
    """The bare int/float/bool types in an annotation that no Strict marks."""
    if annotation in (int, float, bool):
        return [annotation.__name__]
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return []
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        strict = any(isinstance(m, Strict) or getattr(m, "strict", None) for m in meta) or any(
            isinstance(m, Strict) for info in meta for m in getattr(info, "metadata", ()))
        return [] if strict else _lax(base)
    return [kind for arg in typing.get_args(annotation) if arg is not Ellipsis and not isinstance(arg, (str, int))
            for kind in _lax(arg)]


def _models(annotation: typing.Any) -> set[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return {m for arg in typing.get_args(annotation) if arg is not Ellipsis and not isinstance(arg, (str, int))
            for m in _models(arg)}


def _input_models() -> set[type[BaseModel]]:
    todo = {m for route in ROUTES for param in (*route.dependant.body_params, *route.dependant.query_params)
            for m in _models(param.type_)}
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model not in seen:
            seen.add(model)
            todo |= {m for f in model.model_fields.values() for m in _models(f.annotation)} - seen
    return seen


def test_every_number_and_boolean_a_client_sends_is_strict():
    models = _input_models()
    assert len(models) > 60 and AlertRules in models and KpiSettings in models and CampaignPatch in models
    lax = [f"{m.__module__}.{m.__name__}.{name}: {kinds}" for m in models for name, f in m.model_fields.items()
           if (kinds := _lax(typing.Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation))]
    assert lax == [], "\n".join(sorted(lax))


def test_the_walk_finds_a_lax_field():
    class Lax(BaseModel):
        n: int | None = None
        items: tuple[float, ...] = ()

    assert _lax(Lax.model_fields["n"].annotation) == ["int"] and _lax(Lax.model_fields["items"].annotation) == ["float"]


@pytest.mark.parametrize("sent", [True, "120", "1"])
def test_alert_thresholds_and_kpi_settings_refuse_what_is_not_a_number(sent):
    for model, document, field in ((AlertRules, {"long_wait": {"threshold_s": sent}}, "threshold_s"),
                                   (AlertRules, {"service_level": {"target": sent}}, "target"),
                                   (AlertRules, {"sentiment": {"threshold": sent}}, "threshold"),
                                   (KpiSettings, {"short_abandon_s": sent}, "short_abandon_s"),
                                   (KpiSettings, {"fcr_window_days": sent}, "fcr_window_days"),
                                   (CampaignPatch, {"max_abandon_rate": sent}, "max_abandon_rate")):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(document)
        assert field in str(refused.value), (model, document)
    assert AlertRules.model_validate({"long_wait": {"threshold_s": 120}}).long_wait.threshold_s == 120
    assert KpiSettings.model_validate({"short_abandon_s": 5}).short_abandon_s == 5.0  # an integer is a number
    with pytest.raises(ValidationError, match="debt_collection"):
        CampaignPatch.model_validate({"debt_collection": "yes"})


# Boolean query parameters still to be made strict: none left (the insights' `envelope` is a QueryBool now).
AWAITING_STRICT_QUERY: set[tuple[str, str, str]] = set()
NOT_BOOLEANS = ("yes", "no", "on", "off", "1", "0", "True", "FALSE", "t", "", " true")


def _declared_parameters():
    for route in ROUTES:
        dependant = route.dependant
        for param in (*dependant.query_params, *dependant.header_params, *dependant.cookie_params,
                      *dependant.path_params):
            yield route, param


def _takes_a_boolean(annotation: typing.Any) -> bool:
    if annotation is bool:
        return True
    return any(_takes_a_boolean(arg) for arg in typing.get_args(annotation)
               if arg is not Ellipsis and not isinstance(arg, (str, int)))


def _read(param, text: str):
    value, errors = param.validate(value=text, loc=("query", param.alias))
    return None if errors else value


def test_every_boolean_parameter_a_route_declares_takes_true_and_false_only():
    booleans = {(route.method, route.path, param.alias): param for route, param in _declared_parameters()
                if _takes_a_boolean(param.field_info.annotation)}
    assert {("GET", "/metrics/historical", "compact"), ("GET", "/metrics/historical/queries/<query_id>", "compact")} \
        <= set(booleans)  # the walk sees what the signatures declare
    lax = sorted(where for where, param in booleans.items()
                 if any(_read(param, text) is not None for text in NOT_BOOLEANS))
    assert sorted(set(lax) - AWAITING_STRICT_QUERY) == [], "a query boolean takes more than true/false"
    fixed = AWAITING_STRICT_QUERY - set(lax)
    assert not fixed, f"now strict: take {sorted(fixed)} off AWAITING_STRICT_QUERY"
    for where, param in booleans.items():
        if where not in AWAITING_STRICT_QUERY:
            assert (_read(param, "true"), _read(param, "false")) == (True, False), where


def test_every_number_parameter_a_route_declares_refuses_a_boolean():
    numbers = [(route.path, param) for route, param in _declared_parameters()
               if set(_lax(param.field_info.annotation)) & {"int", "float"}]
    assert len(numbers) >= 10
    for path, param in numbers:
        for text in ("true", "false", "yes"):
            assert _read(param, text) is None, (path, param.alias, text)


def test_the_query_boolean_is_a_boolean_in_the_document_and_strict_in_python():
    from pydantic import TypeAdapter

    from ccaas.domain.vocabulary import QueryBool

    adapter = TypeAdapter(QueryBool)
    assert adapter.json_schema() == {"type": "boolean"}
    assert adapter.validate_python("true") is True and adapter.validate_python(False) is False
    for sent in (*NOT_BOOLEANS, 1, 0, None):
        with pytest.raises(ValidationError, match="true or false|valid boolean"):
            adapter.validate_python(sent)
