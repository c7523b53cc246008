"""A bound tightened after settings were saved applies to what is written from then on: what a tenant stored
before still loads (vocabulary.STORED_DOCUMENT), or one stored rule over the new bound would stop the whole
feature for the tenant (its guidance, alerts, analyses or routing) until an admin saved it again."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import AlertRules
from ccaas.domain.guidance import GuidanceRules
from ccaas.domain.analytics.redaction import Redactor, RedactionConfig
from ccaas.usecases import admin, analytics, guidance, routing

T = "t1"
LONG_PHRASE = " ".join(["word"] * 13)  # over the 12 words a phrase may have since session 25
SLOW_PATTERN = "(?:.{0,20}){0,40}z"  # over the 300 RE2 instructions a pattern may compile to


@pytest.fixture
def deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name="T", time_zone="America/New_York")
    return deps


def test_guidance_stored_before_the_word_bound_still_loads_and_a_new_write_is_refused(deps):
    document = GuidanceRules().model_dump(mode="json")
    escalation = next(r for r in document["rules"] if "phrases" in r)
    escalation["phrases"] = [*escalation["phrases"], LONG_PHRASE]
    with pytest.raises(ValidationError, match="13 words"):
        GuidanceRules.model_validate(document)
    deps.config.put_settings(T, guidance.SETTINGS, document)  # as a save before the bound left it
    assert LONG_PHRASE in next(r for r in guidance.get_rules(deps, T).rules if r.name == escalation["name"]).phrases


def test_alert_and_analytics_documents_stored_before_their_bounds_still_load():
    alerts = AlertRules().model_dump(mode="json")
    alerts["escalation_phrase"]["phrases"] = [LONG_PHRASE]
    with pytest.raises(ValidationError):
        AlertRules.model_validate(alerts)
    assert AlertRules.model_validate(alerts, context={"stored": True}).escalation_phrase.phrases == (LONG_PHRASE,)
    with pytest.raises(ValidationError, match="too complex"):
        RedactionConfig(custom_patterns={"slow": SLOW_PATTERN})
    stored = RedactionConfig.model_validate({"custom_patterns": {"slow": SLOW_PATTERN}}, context={"stored": True})
    assert Redactor(stored).redact("abc z").text != "abc z"  # it loads and redacts as before


def test_analytics_rules_and_a_routing_policy_stored_before_their_bounds_still_load(deps):
    rules = analytics.AnalyticsRules.default().model_dump(mode="json")
    rules["redaction"]["custom_patterns"] = {"slow": SLOW_PATTERN}
    deps.config.put_settings(T, "analytics", rules)
    assert analytics.analytics_rules(deps, T).redaction.custom_patterns == {"slow": SLOW_PATTERN}
    policy = {"queue_defaults": {"hours": {"time_zone": "UTC", "weekly": {"mon": [{"start": "24:00", "end": "02:00"}]}}}}
    deps.config.put_settings(T, routing.ROUTING_SETTINGS, policy)
    assert routing.policy_of(deps, T).queue_defaults.hours.weekly["mon"][0].start == "24:00"
