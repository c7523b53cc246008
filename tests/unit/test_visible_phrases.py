"""Every phrase or keyword a tenant writes to be matched against redacted text is one someone can read and say, checked
in one place (analytics.limits.Phrase, text.unseen_characters): guidance rules' phrases and follow phrases, analytics
categories' phrases, compliance rules' phrases, before_phrases, applies_if_phrases and synonyms, contact reasons'
keywords, as alert rules' escalation phrases already were (tests/unit/test_escalation_phrases.py). A phrase holding
a control character (a NUL, a tab) or an invisible one (a zero-width space, a soft hyphen), or with a word showing
nothing, is a 422 naming its place, never its text; rules stored before the check still load. Found by a
reviewer: `["\\u200b"]` and `["ca\\u0000ncel"]` were stored as guidance triggers and compliance phrases that could
never match what was said."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from ccaas.domain.alerts import AlertRules
from ccaas.domain.analytics.analyzer import AnalyticsRules
from ccaas.domain.guidance import GuidanceRules
from ccaas.domain.vocabulary import STORED_DOCUMENT
from ccaas.usecases import guidance
from ccaas.usecases.analytics import analytics_rules
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 (the handler tests' fixtures: the API on moto)
from tests.lambda_harness import api
from tests.unit.demo import TENANT, demo_deps

UNSEEN = ["\u200b\u200b", "\u00ad", "can\u200bcel", "\u2060legal action", "ca\u0000ncel", "legal\taction",
          "cancel\u0085", "\u3164", "cancel \u2800"]  # fmt: skip
SAYABLE = ["cancel", "legal action", "می\u200cخواهم لغو کنم", "रद्द करें", "l'avocat", "¡basta!", "€500", "😡"]


def _errors(model, document, **kw):
    with pytest.raises(ValidationError) as refused:
        model.model_validate(document, **kw)
    return [(e["loc"], e["msg"]) for e in refused.value.errors()]


def _not_echoed(msg: str, phrase: str) -> None:
    assert not any(c in msg for c in "\u200b\u00ad\u0000\t\u0085\u3164\u2800\u2060") and phrase not in msg


def _guidance(**rule):
    return {"rules": [{"kind": "escalation", "name": "angry", "text": "Acknowledge it", "phrases": ["fed up"], **rule}]}


def _disclosure(**rule):
    return {"compliance": [{"kind": "required_disclosure", "name": "mini_miranda", "phrases": ["attempt to collect a debt"],
                            **rule}]}


def _prohibited(**rule):
    return {"compliance": [{"kind": "prohibited_phrase", "name": "threats", "phrases": ["arrest you"], **rule}]}


GUIDANCE_PLACES = [
    (_guidance(phrases=["fed up", "{}"]), ("rules", 0, "escalation", "phrases", 1)),
    (_guidance(follow_phrases=["{}"]), ("rules", 0, "escalation", "follow_phrases", 0)),
    ({"rules": [{"kind": "disclosure_due", "name": "rec", "text": "Read it", "phrases": ["{}"]}]},
     ("rules", 0, "disclosure_due", "phrases", 0)),
]
ANALYTICS_PLACES = [
    ({"categories": [{"name": "billing", "matchers": [{"phrases": ["bill"]}, {"phrases": ["refund", "{}"]}]}]},
     ("categories", 0, "matchers", 1, "phrases", 1)),
    ({"categories": [{"name": "billing", "matchers": [{"phrases": ["bill"]}], "absent": [{"phrases": ["{}"]}]}]},
     ("categories", 0, "absent", 0, "phrases", 0)),
    (_disclosure(phrases=["{}"]), ("compliance", 0, "required_disclosure", "phrases", 0)),
    (_disclosure(before_phrases=["payment", "{}"]), ("compliance", 0, "required_disclosure", "before_phrases", 1)),
    (_disclosure(applies_if_phrases=["{}"]), ("compliance", 0, "required_disclosure", "applies_if_phrases", 0)),
    (_prohibited(phrases=["arrest you", "{}"]), ("compliance", 0, "prohibited_phrase", "phrases", 1)),
    (_prohibited(applies_if_phrases=["{}"]), ("compliance", 0, "prohibited_phrase", "applies_if_phrases", 0)),
]


def _with(document, phrase):
    return json.loads(json.dumps(document).replace("{}", json.dumps(phrase)[1:-1]))


@pytest.mark.parametrize("phrase", UNSEEN)
@pytest.mark.parametrize("document, place", GUIDANCE_PLACES)
def test_guidance_phrases_and_follow_phrases_are_refused_by_their_place(document, place, phrase):
    ((loc, msg),) = _errors(GuidanceRules, _with(document, phrase))
    assert loc == place and ("control" in msg or "invisible" in msg or "no visible character" in msg)
    _not_echoed(msg, phrase)


@pytest.mark.parametrize("phrase", UNSEEN)
@pytest.mark.parametrize("document, place", ANALYTICS_PLACES)
def test_category_and_compliance_phrases_are_refused_by_their_place(document, place, phrase):
    ((loc, msg),) = _errors(AnalyticsRules, _with(document, phrase))
    assert loc == place and ("control" in msg or "invisible" in msg or "no visible character" in msg)
    _not_echoed(msg, phrase)


@pytest.mark.parametrize("phrase", ["ca\u0000ncel", "\u200b", "bi\u00adll"])
def test_keywords_and_synonyms_are_named_by_position_never_by_themselves(phrase):
    """A map's error would be located by its key: the map names the key (or the key's equivalent) by position."""
    cases = [
        ({"reasons": {"rules": [{"reason": "billing", "keywords": {"bill": 1.0, phrase: 2.0}}]}},
         ("reasons", "rules", 0, "keywords"), "keyword 1 "),
        (_prohibited(synonyms={"arrest": ["detain", phrase]}), ("compliance", 0, "prohibited_phrase", "synonyms"),
         "synonym 1 of word 0 "),
        (_disclosure(synonyms={"debt": ["balance"], phrase: ["bill"]}), ("compliance", 0, "required_disclosure", "synonyms"),
         "synonym word 1 "),
    ]
    for document, place, named in cases:
        ((loc, msg),) = _errors(AnalyticsRules, document)
        assert loc == place and named in msg, msg
        assert all(phrase not in str(part) for part in loc)
        _not_echoed(msg, phrase)


def test_blank_and_punctuation_only_phrases_are_still_no_words():
    assert _errors(GuidanceRules, _guidance(follow_phrases=["   "])) == [
        (("rules", 0, "escalation", "follow_phrases"), "Value error, phrase has no words")]
    assert _errors(AnalyticsRules, _prohibited(phrases=["?!"])) == [
        (("compliance", 0, "prohibited_phrase", "phrases"), "Value error, phrase has no words")]


def test_a_phrase_too_long_in_words_is_named_by_position_not_echoed():
    long = " ".join(f"word{i}" for i in range(13))
    ((_, msg),) = _errors(GuidanceRules, _guidance(follow_phrases=["sorry", long]))
    assert msg == "Value error, phrase 1 has 13 words (at most 12)"
    ((_, msg),) = _errors(AlertRules, {"escalation_phrase": {"phrases": ["cancel", long]}})
    assert msg == "Value error, phrase 1 has 13 words (at most 12)"


def test_real_phrases_pass_in_any_script():
    rules = GuidanceRules.model_validate(_guidance(phrases=SAYABLE, follow_phrases=SAYABLE))
    assert rules.rules[0].phrases == SAYABLE and rules.rules[0].follow_phrases == SAYABLE
    analytics = AnalyticsRules.model_validate({
        **_disclosure(before_phrases=SAYABLE, applies_if_phrases=SAYABLE),
        "categories": [{"name": "any", "matchers": [{"phrases": SAYABLE}]}],
        "reasons": {"rules": [{"reason": "billing", "keywords": dict.fromkeys(SAYABLE, 1.0)}]},
    })
    assert analytics.categories[0].matchers[0].phrases == SAYABLE
    assert AnalyticsRules.model_validate(_prohibited(synonyms={"arrest": ["l'avocat", "रद्द"]})).compliance
    assert GuidanceRules() and AnalyticsRules.default()  # the defaults pass their own check


STORED_GUIDANCE = _guidance(phrases=["\u200b\u200b", "fed up"], follow_phrases=["ca\u0000ncel"])
STORED_ANALYTICS = {
    "categories": [{"name": "billing", "matchers": [{"phrases": ["bill", "\u00ad"]}]}],
    "compliance": [{"kind": "prohibited_phrase", "name": "threats", "phrases": ["arrest you", "legal\taction"],
                    "synonyms": {"o\u200bk": ["fine", "\u2800"]}}],
    "reasons": {"rules": [{"reason": "billing", "keywords": {"bi\u0000ll": 1.0, "bill": 2.0}}]},
}


def test_rules_stored_before_the_check_still_load():
    assert GuidanceRules.model_validate(STORED_GUIDANCE, context=STORED_DOCUMENT).rules[0].follow_phrases == ["ca\u0000ncel"]
    loaded = AnalyticsRules.model_validate(STORED_ANALYTICS, context=STORED_DOCUMENT)
    assert loaded.reasons.rules[0].keywords == {"bi\u0000ll": 1.0, "bill": 2.0}
    # ... and as the use-cases read them from the settings store, compiled and used
    deps = demo_deps()
    deps.config.put_settings(TENANT, "guidance", STORED_GUIDANCE)
    deps.config.put_settings(TENANT, "analytics", STORED_ANALYTICS)
    assert guidance.get_rules(deps, TENANT).rules[0].phrases == ["\u200b\u200b", "fed up"]
    assert analytics_rules(deps, TENANT).compiled().redactor.redact("my bill").text == "my bill"


def test_the_settings_api_answers_422_naming_the_phrase_never_echoing_it(tenant):  # noqa: F811
    before = api("GET", "/settings/guidance", tenant.id)[1]
    status, body = api("PUT", "/settings/guidance", tenant.id, _guidance(follow_phrases=["sorry", "ca\u0000ncel"]))
    assert status == 422 and body["field"] == "rules[0].escalation.follow_phrases[1]", body
    assert "ca\u0000ncel" not in json.dumps(body, ensure_ascii=False) and "ncel" not in json.dumps(body)
    assert api("GET", "/settings/guidance", tenant.id)[1] == before  # nothing written

    before = api("GET", "/settings/analytics", tenant.id)[1]
    document = {"categories": [{"name": "billing", "matchers": [{"phrases": ["bill"]}]}],
                "compliance": [{"kind": "required_disclosure", "name": "mini_miranda", "phrases": ["collect a debt"]},
                               {"kind": "required_disclosure", "name": "recording", "phrases": ["recorded"],
                                "before_phrases": ["card", "\u200b\u200b"]}]}
    status, body = api("PUT", "/settings/analytics", tenant.id, document)
    assert status == 422 and body["field"] == "compliance[1].required_disclosure.before_phrases[1]", body
    assert "\u200b" not in json.dumps(body, ensure_ascii=False)
    keywords = {"reasons": {"rules": [{"reason": "billing", "keywords": {"bill": 1.0, "in\u200bvoice": 2.0}}]}}
    status, body = api("PUT", "/settings/analytics", tenant.id, keywords)
    assert status == 422 and body["field"] == "reasons.rules[0].keywords" and "keyword 1 " in body["message"], body
    assert "\u200b" not in json.dumps(body, ensure_ascii=False) and "voice" not in json.dumps(body)
    assert api("GET", "/settings/analytics", tenant.id)[1] == before
