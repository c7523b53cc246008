"""functions/connect_flow on moto and the in-memory twin answer a lone UTF-16 surrogate in a flow parameter the
same way: invalid_parameter, a reply the Lambda runtime can encode (it was a FunctionError, or "temporary failure;
try again" from the store's key encoding, while the twin raised out of answer())."""
from __future__ import annotations

import json

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.usecases import admin, connect_flow
from tests.connect_tenant import add_flow_queues
from tests.handlers.test_connect_flow_handler import flow_event, flow_tenant, invoke  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
CASES = [{"action": "route", "queue_id": "\ud800"}, {"action": "x\ud800"}, {"action": "identify", "customer_id": "c\ud800"},
         {"action": "callback", "queue_id": "sales", "phone": "+1415555\udc000"}]


def test_the_lambda_and_the_twin_refuse_a_lone_surrogate_alike(flow_tenant, invoke):
    twin = memory_dependencies()
    admin.register_tenant(twin, tenant_id=flow_tenant.id, name="Flows")
    admin.register_connect_instance(twin, tenant_id=flow_tenant.id, instance_arn=flow_tenant.instance)
    add_flow_queues(twin, flow_tenant.id, {})
    for parameters in CASES:
        event = json.loads(json.dumps(flow_event(flow_tenant, "voice_inbound", parameters)))  # "\ud800" as decoded
        lambda_reply = invoke(event)
        twin_reply, _ = connect_flow.answer(lambda: twin, event)
        assert lambda_reply == twin_reply, parameters
        assert (lambda_reply["status"], lambda_reply["error_code"]) == ("error", "invalid_parameter"), lambda_reply
        json.dumps(lambda_reply, ensure_ascii=False).encode()  # the runtime's UTF-8 reply
