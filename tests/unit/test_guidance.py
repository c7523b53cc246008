"""Real-time guidance: the rules per kind, no repeats, followed detection, bounds; the use-case on the
memory twins (kept, published to the contact's agent, listed, tenants isolated); the push frame."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import LiveSegment
from ccaas.domain.analytics.transcript import Speaker
from ccaas.domain.events import EventType
from ccaas.domain.guidance import (
    MAX_PHRASE_WORDS,
    MAX_PROMPTS,
    MAX_TOTAL_PHRASES,
    DisclosureDueRule,
    EscalationRule,
    GuidanceKind,
    GuidanceRules,
    GuidanceState,
    SentimentDropRule,
    SilenceRule,
    evaluate_guidance,
)
from ccaas.domain.models import Agent, Channel, NotFound, Queue, QueueAssignment
from ccaas.domain.push import Identity, plan_pushes
from ccaas.usecases import admin, agents, alerts, contacts, guidance, push
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.alerts import LiveTranscriptPost
from ccaas.usecases.contacts import NewContact

A, C = Speaker.AGENT, Speaker.CUSTOMER
DEFAULTS = GuidanceRules()


def seg(speaker, begin_s, end_s, text="", sentiment=0.0):
    return LiveSegment(speaker=speaker, begin_ms=int(begin_s * 1000), end_ms=int(end_s * 1000), text=text, sentiment=sentiment)


def only(*rules):
    return GuidanceRules(rules=list(rules))


def run(rules, *batches):
    state, prompts = GuidanceState(), []
    for batch in batches:
        result = evaluate_guidance(rules, state, batch)
        state, prompts = result.state, prompts + result.prompts
    return state, prompts


# --- rules per kind ----------------------------------------------------------------------------------


def test_a_due_disclosure_prompts_once_after_due_s_and_is_followed_when_said_after():
    state, prompts = run(DEFAULTS, [seg(A, 0, 5, "hello, thanks for calling"), seg(C, 5, 12, "hi, I have a question")],
                         [seg(C, 12, 18, "about my bill"), seg(C, 18, 25, "it is wrong")])
    assert [(p.rule, p.kind, p.at_ms, p.segment_index) for p in prompts] == [
        ("recording_disclosure", GuidanceKind.DISCLOSURE_DUE, 15_000, 2)]
    assert prompts[0].text.startswith("Read the recording disclosure now")
    assert prompts[0].followed is None
    # said after the prompt: followed, and no second prompt
    s2 = evaluate_guidance(DEFAULTS, GuidanceState(), [seg(A, 0, 16, "hello"), seg(A, 17, 20, "This call may be recorded.")])
    assert [p.followed for p in s2.prompts] == [True] and s2.prompts[0].followed_at_ms == 17_000
    s3 = evaluate_guidance(DEFAULTS, s2.state, [seg(C, 21, 45, "ok")])
    assert s3.prompts == [] and s3.state.said == ("recording_disclosure",)


def test_a_disclosure_said_in_time_never_prompts_and_the_customer_saying_it_does_not_count():
    _, prompts = run(DEFAULTS, [seg(A, 0, 6, "Hi! This call is being recorded for quality."), seg(C, 6, 60, "fine")])
    assert not [p for p in prompts if p.kind == GuidanceKind.DISCLOSURE_DUE]
    _, prompts = run(DEFAULTS, [seg(C, 0, 6, "this call is being recorded?"), seg(C, 6, 20, "hello")])
    assert [p.kind for p in prompts] == [GuidanceKind.DISCLOSURE_DUE]


def test_escalation_fires_on_the_customer_only_once_and_is_followed_by_the_key_phrase_in_time():
    rules = only(EscalationRule(name="esc", phrases=["speak to a manager"], text="Say sorry", follow_phrases=["i'm sorry"],
                                follow_within_s=30))
    _, prompts = run(rules, [seg(A, 0, 3, "Would you like to speak to a manager?")])
    assert prompts == []  # the agent said it
    state, prompts = run(rules, [seg(C, 0, 3, "I want to SPEAK to a manager!"), seg(C, 4, 6, "speak to a manager now")])
    assert [(p.rule, p.at_ms, p.segment_index, p.text) for p in prompts] == [("esc", 0, 0, "Say sorry")]
    followed = evaluate_guidance(rules, state, [seg(A, 10, 12, "I'm sorry about that")]).state.prompts
    assert followed[0].followed is True and followed[0].followed_at_ms == 10_000
    late = evaluate_guidance(rules, state, [seg(A, 31, 33, "I'm sorry about that")]).state.prompts
    assert late[0].followed is None  # outside follow_within_s


def test_default_escalation_phrases_and_repeat_after():
    _, prompts = run(DEFAULTS, [seg(A, 0, 4, "this call is recorded for quality"), seg(C, 4, 8, "This is ridiculous."),
                                seg(C, 8, 9, "I want to cancel my account")])
    assert [p.kind for p in prompts] == [GuidanceKind.ESCALATION]  # once per contact by default
    rules = only(EscalationRule(name="esc", phrases=["fed up"], text="t", repeat_after_s=60))
    _, prompts = run(rules, [seg(C, 0, 1, "fed up"), seg(C, 30, 31, "fed up"), seg(C, 61, 62, "fed up")])
    assert [p.at_ms for p in prompts] == [0, 61_000]


def test_sentiment_below_a_threshold_or_falling_prompts_with_a_cooldown():
    low = only(SentimentDropRule(name="s", text="calm", segments=2, below=-1.0, drop=None, repeat_after_s=60))
    _, prompts = run(low, [seg(C, 0, 1, sentiment=-0.5), seg(A, 1, 2, sentiment=-5), seg(C, 2, 3, sentiment=-2)])
    assert [p.at_ms for p in prompts] == [2_000]  # mean of the customer's last 2: -1.25; the agent's does not count
    _, prompts = run(low, [seg(C, 0, 1, sentiment=-3), seg(C, 2, 3, sentiment=-3), seg(C, 30, 31, sentiment=-3),
                           seg(C, 70, 71, sentiment=-3)])
    assert [p.at_ms for p in prompts] == [2_000, 70_000]
    falling = only(SentimentDropRule(name="s", text="calm", segments=2, below=None, drop=2.0))
    _, prompts = run(falling, [seg(C, 0, 1, sentiment=2), seg(C, 1, 2, sentiment=2)],
                     [seg(C, 2, 3, sentiment=0), seg(C, 3, 4, sentiment=-1)])
    assert [(p.kind, p.segment_index) for p in prompts] == [(GuidanceKind.SENTIMENT_DROP, 3)]


def test_silence_between_segments_also_across_posts_with_a_cooldown():
    rules = only(SilenceRule(name="quiet", text="say something", min_gap_s=10, repeat_after_s=60))
    _, prompts = run(rules, [seg(A, 0, 5), seg(C, 2, 8), seg(A, 17, 18)], [seg(C, 30, 31)], [seg(A, 90, 91)])
    assert [(p.at_ms, p.segment_index) for p in prompts] == [(30_000, 3), (90_000, 4)]  # 8 -> 17 s is 9 s: no


def test_disabled_rules_and_guidance_off_prompt_nothing_and_prompts_are_bounded():
    off = DEFAULTS.model_copy(update={"enabled": False})
    assert run(off, [seg(C, 0, 60, "this is ridiculous")])[1] == []
    rules = only(SilenceRule(name="quiet", text="t", min_gap_s=1, repeat_after_s=1))
    state, prompts = run(rules, [seg(A, 2 * i, 2 * i + 0.5) for i in range(MAX_PROMPTS + 20)])
    assert len(prompts) == len(state.prompts) == MAX_PROMPTS


def test_rules_are_bounded_and_validated():
    text = "x" * 501
    with pytest.raises(ValidationError):
        SilenceRule(name="s", text=text)
    with pytest.raises(ValidationError):
        DisclosureDueRule(name="d", text="t", phrases=["recorded"], due_s=86_401)
    with pytest.raises(ValidationError):
        SentimentDropRule(name="s", text="t", below=float("nan"))
    with pytest.raises(ValidationError):
        SentimentDropRule(name="s", text="t", below=None, drop=None)
    with pytest.raises(ValidationError):
        GuidanceRules(rules=[SilenceRule(name=f"s{i}", text="t") for i in range(51)])
    with pytest.raises(ValidationError):
        GuidanceRules(rules=[SilenceRule(name="s", text="t"), SilenceRule(name="s", text="u")])
    with pytest.raises(ValidationError):
        GuidanceRules.model_validate({"rules": [], "extra": 1})
    with pytest.raises(ValidationError):
        EscalationRule(name="e", text="t", phrases=["!!!"])
    assert GuidanceRules.model_validate_json(DEFAULTS.model_dump_json()) == DEFAULTS
    assert {r.kind for r in DEFAULTS.rules} == {k.value for k in GuidanceKind}


def test_phrases_are_a_few_words_and_share_one_budget():
    """Every post is searched for every phrase of the rules: 36 rules of 50 phrases of 100 words were
    accepted (369 KB stored) and made a 10,000-word post take ~10 s."""
    def escalation(i, phrases, follow=()):
        return {"kind": "escalation", "name": f"e{i}", "text": "t", "phrases": phrases, "follow_phrases": list(follow)}

    longest = " ".join(["word"] * MAX_PHRASE_WORDS)
    follow = "I can help, " + " ".join(["you"] * (MAX_PHRASE_WORDS - 3))
    GuidanceRules.model_validate({"rules": [escalation(0, [longest], [follow])]})
    with pytest.raises(ValidationError) as err:
        GuidanceRules.model_validate({"rules": [escalation(0, [longest + " more"])]})
    assert err.value.errors()[0]["loc"] == ("rules", 0, "escalation", "phrases")
    assert f"{MAX_PHRASE_WORDS + 1} words (at most {MAX_PHRASE_WORDS})" in str(err.value)
    with pytest.raises(ValidationError) as err:
        GuidanceRules.model_validate({"rules": [escalation(0, ["ok"], ["a " * 100])]})
    assert err.value.errors()[0]["loc"] == ("rules", 0, "escalation", "follow_phrases")

    def rules_with(total):  # phrases and follow phrases, 50 to a list
        rules, left = [], total
        while left:
            rules.append(escalation(len(rules), [f"p{len(rules)} {j}" for j in range(min(50, left))]))
            left -= len(rules[-1]["phrases"])
        return {"rules": rules}

    GuidanceRules.model_validate(rules_with(MAX_TOTAL_PHRASES))
    with pytest.raises(ValidationError) as err:
        GuidanceRules.model_validate(rules_with(MAX_TOTAL_PHRASES + 1))
    assert err.value.errors()[0]["loc"] == ("rules",)
    assert f"{MAX_TOTAL_PHRASES + 1} phrases and follow phrases together (at most {MAX_TOTAL_PHRASES})" in str(
        err.value
    )


# --- the use-case on the memory twins --------------------------------------------------------------------


def _tenant(deps, tenant_id):
    admin.register_tenant(deps, tenant_id=tenant_id, name=tenant_id)
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    for agent_id in ("ana", "bob"):
        admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id=agent_id, name=agent_id,
                                    queues=(QueueAssignment(queue_id="sales"),)))


def _connected(deps, tenant_id, agent_id="ana"):
    agents.set_agent_status(deps, tenant_id, agent_id, StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, tenant_id, NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, tenant_id, contact.contact_id, "tok")
    contacts.accept_contact(deps, tenant_id, agent_id, contact.contact_id)
    return contact.contact_id


def _post(deps, tenant_id, cid, *rows):
    from ccaas.domain.analytics import Segment

    segments = [Segment(speaker=s, begin_ms=b, end_ms=e, text=t) for s, b, e, t in rows]
    return alerts.post_live_transcript(deps, tenant_id, cid, LiveTranscriptPost(segments=segments))


def test_prompts_are_kept_published_to_the_contacts_agent_listed_and_tenants_isolated():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _tenant(deps, "t2")
    c1 = _connected(deps, "t1", "ana")
    c2 = _connected(deps, "t2", "bob")
    n = len(deps.events.events)
    result = _post(deps, "t1", c1, ("AGENT", 0, 4000, "Hello, my card is 4111 1111 1111 1111"),
                   ("CUSTOMER", 4000, 9000, "I want to speak to a manager"), ("CUSTOMER", 9000, 16000, "now"))
    assert [p.kind for p in result.prompts] == [GuidanceKind.ESCALATION, GuidanceKind.DISCLOSURE_DUE]
    events = [e for e in deps.events.events[n:] if e.type == EventType.AGENT_GUIDANCE_PROMPTED]
    assert [(e.tenant_id, e.payload["agent_id"], e.payload["contact_id"], e.payload["kind"]) for e in events] == [
        ("t1", "ana", c1, "escalation"), ("t1", "ana", c1, "disclosure_due")]
    assert set(events[0].payload) >= {"agent_id", "contact_id", "rule", "kind", "text", "at"}
    assert "4111" not in json.dumps([e.payload for e in events])
    # kept with the live state, listed with followed flags
    _post(deps, "t1", c1, ("AGENT", 17000, 20000, "I'm sorry. This call may be recorded."))
    listed = guidance.contact_guidance(deps, "t1", c1)
    assert [(p.kind, p.followed) for p in listed] == [(GuidanceKind.ESCALATION, True), (GuidanceKind.DISCLOSURE_DUE, True)]
    assert guidance.guidance_counts(deps, "t1", c1) == ({"escalation": 1, "disclosure_due": 1}, 2)
    # the other tenant: its own rules, its own contact, nothing of t1's
    guidance.put_rules(deps, "t2", GuidanceRules(rules=[]))
    assert _post(deps, "t2", c2, ("CUSTOMER", 0, 20000, "I want to speak to a manager")).prompts == []
    assert guidance.contact_guidance(deps, "t2", c2) == []
    with pytest.raises(NotFound):
        guidance.contact_guidance(deps, "t2", c1)
    assert guidance.get_rules(deps, "t1") == GuidanceRules() and guidance.get_rules(deps, "t2").rules == []


def test_the_analysis_summary_counts_the_contacts_prompts():
    from ccaas.usecases import analytics

    deps = memory_dependencies()
    _tenant(deps, "t1")
    cid = _connected(deps, "t1")
    _post(deps, "t1", cid, ("CUSTOMER", 0, 20000, "this is ridiculous"), ("AGENT", 20000, 22000, "I understand"))
    contacts.complete_contact(deps, "t1", "ana", cid)
    document = {"contact_id": cid, "segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1000, "text": "hello"}]}
    summary = analytics.upload_transcript(deps, "t1", cid, document)
    assert summary.guidance_prompts == {"escalation": 1, "disclosure_due": 1} and summary.guidance_followed == 1


# --- the push frame ----------------------------------------------------------------------------------------


def test_the_guidance_frame_reaches_only_the_contacts_agent():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _tenant(deps, "t2")
    for tenant_id, agent_id, conn in (("t1", "ana", "ana-1"), ("t1", "bob", "bob-1"), ("t2", "ana", "t2-ana")):
        push.connect(deps, Identity(tenant_id=tenant_id, role="agent", agent_id=agent_id), conn)
    push.connect(deps, Identity(tenant_id="t1", role="supervisor"), "sup-1")
    cid = _connected(deps, "t1", "ana")
    n = len(deps.events.events)
    _post(deps, "t1", cid, ("CUSTOMER", 0, 3000, "this is ridiculous"))
    events = deps.events.events[n:]
    assert [p.kind for p in plan_pushes(events).agent_pushes] == ["guidance"]
    push.push_events(deps, events)
    frames = [m for m in deps.push.sent["ana-1"] if m["type"] == "guidance"]
    assert len(frames) == 1 and set(frames[0]) == {"type", "at", "payload"} and frames[0]["at"].endswith("Z")
    assert frames[0]["payload"] == {"contact_id": cid, "rule": "escalation", "kind": "escalation",
                                    "text": GuidanceRules().rules[1].text}
    for other in ("bob-1", "t2-ana", "sup-1"):
        assert not [m for m in deps.push.sent.get(other, []) if m["type"] == "guidance"]
