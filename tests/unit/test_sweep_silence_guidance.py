"""The minute sweep gives the agent the silence prompt for dead air still going on (a post measures only the gaps
it ends: the prompt came once someone spoke again). Once per silence, honouring the rule's cooldown, kept in the
same live state the posts use, so the post ending that silence does not prompt again."""
from __future__ import annotations

from ccaas.domain.alerts import AlertRule, AlertRules
from ccaas.domain.events import EventType
from ccaas.domain.guidance import GuidanceKind, GuidanceRules, SilenceRule
from ccaas.domain.vocabulary import Conflict
from ccaas.usecases import alerts, guidance
from tests.alert_builders import on_a_call, say, spoke_on_a_call
from tests.unit.demo import TENANT, demo_deps


def _pushed(deps, n=0):
    events = [e.payload for e in deps.events.events[n:] if e.type == EventType.AGENT_GUIDANCE_PROMPTED]
    return [p for p in events if p["kind"] == "silence"]


def _silence_prompts(deps, cid):
    return [(p.rule, p.at_ms) for p in guidance.contact_guidance(deps, TENANT, cid) if p.kind == GuidanceKind.SILENCE]


def test_the_sweep_prompts_the_agent_once_during_dead_air_and_the_post_ending_it_does_not_again():
    deps = demo_deps()
    cid = spoke_on_a_call(deps)
    deps.clock.advance(10)
    alerts.sweep_tenant(deps, TENANT)
    assert not _pushed(deps)  # 10 s: below the rule's 20 s
    n = len(deps.events.events)
    deps.clock.advance(50)
    alerts.sweep_tenant(deps, TENANT)
    (pushed,) = _pushed(deps, n)
    assert (pushed["agent_id"], pushed["contact_id"], pushed["kind"], pushed["rule"]) == ("ana", cid, "silence", "long_silence")
    assert _silence_prompts(deps, cid) == [("long_silence", 63_000)]  # stored: GET guidance lists it
    for _ in range(2):  # the same silence: not every minute (past the 60 s cooldown too)
        deps.clock.advance(60)
        alerts.sweep_tenant(deps, TENANT)
    deps.clock.advance(2)
    assert not [p for p in say(deps, cid, 183, 185, "AGENT").prompts if p.kind == GuidanceKind.SILENCE]  # prompted already
    assert len(_pushed(deps, n)) == 1
    # a new silence later in the call prompts again
    deps.clock.advance(30)
    alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [("long_silence", 63_000), ("long_silence", 215_000)]
    assert len(_pushed(deps, n)) == 2


def test_the_sweep_honours_the_rules_cooldown():
    deps = demo_deps()
    cid = spoke_on_a_call(deps)
    deps.clock.advance(30)
    assert [p.at_ms for p in say(deps, cid, 30, 32, "AGENT").prompts if p.kind == GuidanceKind.SILENCE] == [30_000]
    deps.clock.advance(25)  # 26 s of silence, but 28 s after the last prompt (cooldown 60 s)
    alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [("long_silence", 30_000)]
    deps.clock.advance(35)
    alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [("long_silence", 30_000), ("long_silence", 93_000)]


def test_a_once_per_contact_rule_prompts_once_and_guidance_off_prompts_nothing():
    deps = demo_deps()
    guidance.put_rules(deps, TENANT, GuidanceRules(rules=[SilenceRule(name="q", text="say something", repeat_after_s=None)]))
    cid = spoke_on_a_call(deps)
    deps.clock.advance(60)
    alerts.sweep_tenant(deps, TENANT)
    deps.clock.advance(60)
    say(deps, cid, 120, 121)
    deps.clock.advance(60)
    alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [("q", 63_000)]

    off = demo_deps()
    guidance.put_rules(off, TENANT, GuidanceRules(enabled=False))
    cid = spoke_on_a_call(off)
    off.clock.advance(60)
    alerts.sweep_tenant(off, TENANT)
    assert not _pushed(off) and not _silence_prompts(off, cid)


def test_the_prompt_comes_with_the_alert_open_or_off_and_never_to_a_test_agent():
    deps = demo_deps()
    ana = on_a_call(deps)
    bot = on_a_call(deps, "bot", skills={"ccaas:test_agent": 1, "sales": 5})
    deps.clock.advance(1)
    for cid in (ana, bot):
        say(deps, cid, 0, 1)
    deps.clock.advance(16)  # the alert's 15 s: alerted, the 20 s prompt not yet due
    assert [a.rule for a in alerts.sweep_tenant(deps, TENANT).opened] == [AlertRule.SILENCE]
    deps.clock.advance(60)  # the alert stays open: the contact is read for its prompt all the same
    alerts.sweep_tenant(deps, TENANT)
    assert [p["contact_id"] for p in _pushed(deps)] == [ana] and not _silence_prompts(deps, bot)

    off = demo_deps()
    alerts.put_rules(off, TENANT, AlertRules.model_validate({"silence": {"enabled": False}}))
    cid = spoke_on_a_call(off, 1)
    off.clock.advance(60)
    assert not alerts.sweep_tenant(off, TENANT).opened
    assert [p["contact_id"] for p in _pushed(off)] == [cid]


def test_a_post_written_meanwhile_wins_and_the_sweep_goes_on():
    deps = demo_deps()
    cid = spoke_on_a_call(deps, 1)
    deps.clock.advance(60)
    save = deps.alerts.save_transcript_state

    def concurrent(state):
        raise Conflict("changed concurrently")

    deps.alerts.save_transcript_state = concurrent
    (alert,) = alerts.sweep_tenant(deps, TENANT).opened  # the alert all the same
    assert alert.rule == AlertRule.SILENCE and not _pushed(deps) and not _silence_prompts(deps, cid)
    deps.alerts.save_transcript_state = save
    deps.clock.advance(60)
    alerts.sweep_tenant(deps, TENANT)
    assert len(_pushed(deps)) == 1
