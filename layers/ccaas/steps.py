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
