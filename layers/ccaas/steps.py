"""Inputs of the Lambda steps the workflows call (statemachines/*.asl.json build these payloads)."""
from __future__ import annotations

from pydantic import BaseModel


class ContactStep(BaseModel):
    tenant_id: str
    contact_id: str


class TaskTokenStep(ContactStep):
    """A `.waitForTaskToken` step: the token is parked on the contact and answered later."""

    task_token: str
    # The step's Step Functions retry count ($$.State.RetryCount): a retried AwaitAgent may follow an attempt that
    # saved the contact QUEUED and then could not publish its event (usecases.contacts.queue_and_route).
    retry: int = 0
    # The step's timeout ($.recheck.wait_s): the contact records when it ends (Contact.check_at). None from an
    # execution started before the step was given it: never woken early, as then.
    wait_s: int | None = None


class LoopCount(BaseModel):
    """The lifecycle's own bookkeeping, carried in `$.recheck` (extra members, Recheck's last answer, are ignored):
    rechecks so far in this execution, and which execution of the contact this is. After a number of rechecks the
    workflow continues as a new execution (a Standard execution holds at most 25,000 history events)."""

    loop: int = 0
    generation: int = 0


class RecheckStep(ContactStep):
    """Recheck: `recheck` is the previous answer (the first wait's at the start, which has no counts)."""

    recheck: LoopCount = LoopCount()
