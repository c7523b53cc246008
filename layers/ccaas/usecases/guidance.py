"""Real-time guidance: the tenant's rules, prompts from live transcript posts, the contact's prompts.

`post_live_transcript` (ccaas.usecases.alerts) calls `evaluate` inside its optimistic attempt, so the
prompts are saved with the contact's live transcript state in the same conditional write, and calls
`publish` once that write succeeded: one `agent.guidance_prompted` event per new prompt, addressed to
the contact's agent (the push consumer sends it as a `guidance` frame). The minute sweep
(ccaas.usecases.alerts.ongoing_silences) prompts for dead air still going on through `evaluate_ongoing`,
writing the same state, then `publish`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ccaas.bootstrap import Dependencies
from ccaas.domain.events import guidance_event
from ccaas.domain.guidance import GuidanceRules, Prompt, evaluate_guidance, ongoing_silence
from ccaas.usecases.tenancy import save_settings, settings_of

if TYPE_CHECKING:  # annotations only: the live transcript state comes from the alerts store, with its domain
    from ccaas.domain.alerts import LiveSegment, LiveTranscriptState
    from ccaas.domain.models import Contact

SETTINGS = "guidance"  # the tenant's settings document


def get_rules(deps: Dependencies, tenant_id: str) -> GuidanceRules:
    return settings_of(deps, tenant_id, SETTINGS, GuidanceRules)


def put_rules(deps: Dependencies, tenant_id: str, rules: GuidanceRules) -> GuidanceRules:
    return save_settings(deps, tenant_id, SETTINGS, rules)


def evaluate(rules: GuidanceRules, state: LiveTranscriptState, segments: Sequence[LiveSegment]) -> tuple[LiveTranscriptState, list[Prompt]]:
    """The live state with its guidance advanced over `segments`, and the new prompts."""
    evaluation = evaluate_guidance(rules, state.guidance, segments)
    return state.model_copy(update={"guidance": evaluation.state}), evaluation.prompts


def evaluate_ongoing(
    rules: GuidanceRules, state: LiveTranscriptState, at_ms: int, now_ms: int
) -> tuple[LiveTranscriptState, list[Prompt]]:
    """Silence prompts for dead air still going on `at_ms` after connect; with new prompts, the state as the next
    version (its optimistic write), its `updated_at` kept: that is when the contact's last post came."""
    evaluation = ongoing_silence(rules, state.guidance, at_ms, now_ms - state.updated_at)
    if not evaluation.prompts:
        return state, []
    return state.model_copy(update={"guidance": evaluation.state, "version": state.version + 1}), evaluation.prompts


def publish(deps: Dependencies, contact: Contact, state: LiveTranscriptState, prompts: Sequence[Prompt]) -> None:
    """One event per prompt, to the contact's agent; nothing when the contact has no agent."""
    if not prompts or not contact.agent_id:
        return
    now = deps.clock.now_ms()
    # The new prompts are the state's last (prompts are only ever appended): each one's number is its place.
    first = len(state.guidance.prompts) - len(prompts) + 1
    deps.events.publish([guidance_event(contact, p, first + i, deps.ids.new_id(), now) for i, p in enumerate(prompts)])


def contact_guidance(deps: Dependencies, tenant_id: str, contact_id: str) -> list[Prompt]:
    """The contact's prompts with their followed flags (NotFound for an unknown contact)."""
    deps.store.get_contact(tenant_id, contact_id)
    state = deps.alerts.transcript_state(tenant_id, contact_id)
    return [] if state is None else list(state.guidance.prompts)


def guidance_counts(deps: Dependencies, tenant_id: str, contact_id: str) -> tuple[dict[str, int], int]:
    """(prompts shown by kind, prompts followed) of a contact, from its live transcript state (kept
    2 days after its last post); empty when it had none."""
    state = deps.alerts.transcript_state(tenant_id, contact_id)
    return ({}, 0) if state is None else state.guidance.counts()
