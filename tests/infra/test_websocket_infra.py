"""The WebSocket API: $connect behind the same authorizer, one function for the routes, the connections
table, and PostToConnection granted to the push consumer only (this API's stage, POST @connections)."""
from __future__ import annotations

import json

from infra.function_specs import SPECS
from infra.naming import construct_id


def _fn_lid(synth, folder):
    return synth.logical_id(synth.stack.factory.functions[folder])


def _policies_of(synth, folder):
    role = synth.logical_id(synth.stack.factory.functions[folder].role)
    return [p for p in synth.of_type("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]]


def _statements(synth, folder):
    return [s for p in _policies_of(synth, folder) for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_one_websocket_api_with_three_routes_and_connect_authorized_by_authorize_request(synth):
    apis = synth.of_type("AWS::ApiGatewayV2::Api")
    assert len(apis) == 1
    (api_lid, api), = apis.items()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    (auth,) = synth.of_type("AWS::ApiGatewayV2::Authorizer").values()
    assert auth["Properties"]["AuthorizerType"] == "REQUEST"
    assert auth["Properties"]["IdentitySource"] == ["route.request.querystring.token"]
    assert _fn_lid(synth, "authorize_request") in json.dumps(auth["Properties"]["AuthorizerUri"])
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    assert len(integrations) == 1  # one function serves the three routes
    assert _fn_lid(synth, "manage_connection") in json.dumps(next(iter(integrations.values()))["Properties"]["IntegrationUri"])
    # $default returns the handler's reply (pong, subscribed, error) to the client.
    (response,) = synth.of_type("AWS::ApiGatewayV2::RouteResponse").values()
    assert response["Properties"]["RouteResponseKey"] == "$default"


def test_stage_logs_access_and_is_throttled(synth):
    (stage,) = synth.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "v1" and props["AutoDeploy"] is True
    assert "DestinationArn" in props["AccessLogSettings"] and "$context.connectionId" in props["AccessLogSettings"]["Format"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_connections_table_has_ttl_and_the_audience_index(synth):
    lid = synth.logical_id(synth.stack.data.tables["Connections"])
    props = synth.resources[lid]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [g["IndexName"] for g in props["GlobalSecondaryIndexes"]] == ["audience"]
    assert {k["AttributeName"] for k in props["KeySchema"]} == {"pk", "sk"}


def test_only_the_pushing_functions_may_post_to_connections_and_only_on_this_stage(synth):
    api_lid = next(iter(synth.of_type("AWS::ApiGatewayV2::Api")))
    holders = []
    for folder in SPECS:
        if folder == "manage_connection":
            continue  # DeleteConnection only (evictions at $connect): tests/infra/test_manage_connection_grant.py
        manage = [s for s in _statements(synth, folder) if "execute-api:ManageConnections" in json.dumps(s["Action"])]
        if manage:
            holders.append(folder)
            (stmt,) = manage
            resource = json.dumps(stmt["Resource"])
            assert api_lid in resource and "/v1/POST/@connections/*" in resource
            # DeleteConnection: a socket whose key is revoked or whose user token expired is closed
            assert "/v1/DELETE/@connections/*" in resource and resource.count("@connections") == 2
    # push_updates (agent pushes), the live-metrics consumer (the views it writes), and the functions that
    # publish alerts (to supervisors).
    assert sorted(holders) == ["consume_contact_events", "evaluate_alerts", "push_updates", "serve_api", "sweep_alerts"]


def test_push_consumer_is_a_stream_consumer_with_the_endpoint_and_the_tables_it_reads(synth):
    fn = synth.resources[_fn_lid(synth, "push_updates")]["Properties"]
    env = fn["Environment"]["Variables"]
    assert "WEBSOCKET_ENDPOINT" in env and "CONNECTIONS_TABLE" in env
    assert "EVENTS_STREAM_NAME" not in env  # it reads the stream through its mapping, never writes it
    mappings = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                if m["Properties"]["FunctionName"] == {"Ref": _fn_lid(synth, "push_updates")}]
    (mapping,) = mappings
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in mapping["DestinationConfig"]
    manage = synth.resources[_fn_lid(synth, "manage_connection")]["Properties"]["Environment"]["Variables"]
    assert "CONNECTIONS_TABLE" in manage and "WEBSOCKET_ENDPOINT" not in manage
    assert construct_id("push_updates") in synth.stack.events.consumers["push_updates"].node.path


def test_websocket_url_is_an_output(synth):
    assert "WebSocketUrl" in synth.json["Outputs"]
