"""manage_connection closes the sockets a $connect evicts (a key over its bound): it may DeleteConnection on this
WebSocket API's v1 stage, nothing else of the management API (it never posts; its replies are route responses), and
cdk-nag stays clean (the synth fixture fails on any unacknowledged finding)."""
from __future__ import annotations

import json


def _statements(synth, folder):
    role = synth.logical_id(synth.stack.factory.functions[folder].role)
    return [s for p in synth.of_type("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_manage_connection_may_delete_connections_of_this_websocket_api_only(synth):
    api_lid = next(iter(synth.of_type("AWS::ApiGatewayV2::Api")))
    manage = [s for s in _statements(synth, "manage_connection") if "execute-api" in json.dumps(s["Action"])]
    (stmt,) = manage
    assert stmt["Action"] == "execute-api:ManageConnections" and stmt["Effect"] == "Allow"
    resource = json.dumps(stmt["Resource"])
    assert api_lid in resource and "/v1/DELETE/@connections/*" in resource
    assert resource.count("@connections") == 1 and "POST" not in resource and '"*"' not in resource


def test_manage_connection_builds_its_endpoint_from_the_event_not_a_setting(synth):
    """The endpoint comes from the $connect event (its domain and stage): no WEBSOCKET_ENDPOINT, no POST."""
    fn = synth.resources[synth.logical_id(synth.stack.factory.functions["manage_connection"])]
    assert "WEBSOCKET_ENDPOINT" not in fn["Properties"]["Environment"]["Variables"]
