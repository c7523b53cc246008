"""The minute sweep's silence prompt (outside review R1): "already prompted for this gap" is judged by the gap the
prompt was for, not by its time (a sweep's prompt is stamped with the sweep's time, which can be past speech not
posted yet, so past the start of the next silence: that silence was never prompted); and a prompt the sweep saved
reaches the agent even when the sweep fails afterwards (it was saved, then published after the alerts: an alerts
bus failure left it stored, seen as given by later sweeps, never pushed)."""
from __future__ import annotations

import pytest

from ccaas.domain.events import EventType
from ccaas.domain.guidance import GuidanceKind, GuidanceRules, GuidanceState, Prompt, SilenceRule, ongoing_silence
from ccaas.usecases import alerts, guidance
from tests.alert_builders import on_a_call, say, spoke_on_a_call
from tests.unit.demo import TENANT, demo_deps


def _pushed(deps):
    return [e.payload["at"] for e in deps.events.events if e.type == EventType.AGENT_GUIDANCE_PROMPTED and e.payload["kind"] == "silence"]


def _silence_prompts(deps, cid):
    return [p.at_ms for p in guidance.contact_guidance(deps, TENANT, cid) if p.kind == GuidanceKind.SILENCE]


def _at(deps, wall_s):
    deps.clock.advance(wall_s - deps.clock.now_ms() // 1000)


def test_a_sweep_prompt_during_a_posts_delay_does_not_hide_the_next_silence():
    deps = demo_deps()
    start_s = deps.clock.now_ms() // 1000
    cid = on_a_call(deps)
    assert deps.clock.now_ms() // 1000 == start_s  # the call connected now: wall times below are times into it
    _at(deps, start_s + 3)
    say(deps, cid, 0, 3)
    _at(deps, start_s + 40)
    alerts.sweep_tenant(deps, TENANT)  # 37 s quiet: the silence from 3 s prompted, stamped 40 s
    _at(deps, start_s + 41)
    assert not [p for p in say(deps, cid, 30, 35, "AGENT").prompts if p.kind == GuidanceKind.SILENCE]  # that gap: given
    _at(deps, start_s + 100)
    alerts.sweep_tenant(deps, TENANT)  # a new silence from 35 s (the 40 s stamp is after it began): 59 s quiet
    assert _silence_prompts(deps, cid) == [40_000, 100_000]
    _at(deps, start_s + 110)
    assert not [p for p in say(deps, cid, 110, 112).prompts if p.kind == GuidanceKind.SILENCE]  # once per silence
    alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [40_000, 100_000] and _pushed(deps) == [40_000, 100_000]


def test_the_gap_is_recorded_with_the_prompt_and_prompts_stored_without_it_are_judged_by_time():
    rules = GuidanceRules(rules=[SilenceRule(name="q", text="say something", min_gap_s=20, repeat_after_s=60)])
    state = GuidanceState(spoken_until_ms=35_000, segments=2)
    for_earlier_gap = Prompt(rule="q", kind=GuidanceKind.SILENCE, text="t", at_ms=40_000, segment_index=1, gap_from_ms=3_000)
    (p,) = ongoing_silence(rules, state.model_copy(update={"prompts": (for_earlier_gap,)}), 100_000, 60_000).prompts
    assert (p.at_ms, p.gap_from_ms) == (100_000, 35_000)
    assert not ongoing_silence(rules, state.model_copy(update={"prompts": (p,)}), 200_000, 60_000).prompts  # this gap's
    stored_before = for_earlier_gap.model_copy(update={"gap_from_ms": None})  # no gap recorded: by its time, as before
    assert not ongoing_silence(rules, state.model_copy(update={"prompts": (stored_before,)}), 100_000, 60_000).prompts


def test_a_sweep_prompt_is_pushed_even_when_the_alerts_publish_fails():
    deps = demo_deps()
    cid = spoke_on_a_call(deps)
    deps.clock.advance(60)
    deps.alert_events.fail_next = 1  # the alerts bus throttled: this tenant's sweep fails
    with pytest.raises(RuntimeError):
        alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [63_000] and _pushed(deps) == [63_000]
    for _ in range(3):  # later sweeps: the same silence, given and pushed once
        deps.clock.advance(60)
        alerts.sweep_tenant(deps, TENANT)
    assert _silence_prompts(deps, cid) == [63_000] and _pushed(deps) == [63_000]
