"""Journey entry points of a deployed stage (ccaas.usecases.journeys.EntryPoints): the REST API at a base
URL with API keys, and the contact-flow Lambda through boto3 `lambda.invoke` (the caller's credentials).

Keys: `keys` maps a role ("integration", "supervisor", "admin") or "agent:<agent id>" to an API key; a
call as a role with no key of its own uses `keys["default"]` (one key for everything, e.g. the CI gate's
--key). One attempt per call, bounded by the step's remaining time: a retried Invoke would play a flow
action twice, and a journey must never hang.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class HttpEntryPoints:
    def __init__(self, api_url: str, keys: dict[str, str], *, instance_arn: str, flow_function: str | None = None,
                 lambda_client: Any = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.keys = dict(keys)
        self.instance_arn = instance_arn
        self.flow_function = flow_function
        self._lambda = lambda_client

    def key_for(self, role: str, agent_id: str | None) -> str:
        name = f"agent:{agent_id}" if role == "agent" and agent_id else role
        key = self.keys.get(name) or self.keys.get("default")
        if not key:
            raise LookupError(f"no API key for {name} (give one, or a default key)")
        return key

    def api(self, method: str, path: str, body: Any = None, *, role: str = "integration", agent_id: str | None = None,
            timeout_s: float = 30.0) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api_url + path, method=method, data=data, headers={
            "Authorization": f"Bearer {self.key_for(role, agent_id)}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=max(0.05, timeout_s)) as response:  # noqa: S310 - the stage's URL
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else None
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def flow(self, event: dict[str, Any], timeout_s: float) -> dict[str, str]:
        if not self.flow_function:
            raise LookupError("no contact-flow function given (--flow-function) for a flow action")
        client = self._lambda
        if client is None:
            import boto3
            from botocore.config import Config

            client = self._lambda = boto3.client("lambda", config=Config(
                retries={"total_max_attempts": 1}, read_timeout=max(1, int(timeout_s) + 1), connect_timeout=5))
        response = client.invoke(FunctionName=self.flow_function, Payload=json.dumps(event).encode())
        return json.loads(response["Payload"].read())


class LambdaEntryPoints:
    """The real handlers' code inside the scheduled runner's own Lambda (functions/run_journeys): the REST
    API resolver (ccaas.api.app) given the context the authorizer would pass for the tenant and role, and
    the contact-flow use-case (ccaas.usecases.connect_flow.answer) — no keys to hold, the same routes,
    checks and use-cases as the stage's API and flow Lambda."""

    def __init__(self, tenant_id: str, instance_arn: str | None, context: Any = None) -> None:
        self.tenant_id = tenant_id
        self.instance_arn = instance_arn or ""
        self.context = context

    def api(self, method: str, path: str, body: Any = None, *, role: str = "integration", agent_id: str | None = None,
            timeout_s: float = 30.0) -> tuple[int, Any]:
        import uuid

        from ccaas.api.app import app

        route, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p) or None
        key_id = f"k_journeys_{role}"[:20]
        event = {
            "resource": "/{proxy+}", "path": route, "httpMethod": method,
            "headers": {"content-type": "application/json"}, "multiValueHeaders": {},
            "queryStringParameters": params,
            "multiValueQueryStringParameters": {k: [v] for k, v in (params or {}).items()} or None,
            "pathParameters": {"proxy": route.lstrip("/")}, "stageVariables": None,
            "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method, "path": f"/v1{route}",
                               "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                               "authorizer": {"tenant_id": self.tenant_id, "role": role, "agent_id": agent_id or "",
                                              "key_id": key_id, "principalId": f"{self.tenant_id}#{key_id}"}},
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
        }  # fmt: skip
        response = app.resolve(event, self.context)
        text = response.get("body") or "null"
        try:
            return response["statusCode"], json.loads(text)
        except ValueError:
            return response["statusCode"], text

    def flow(self, event: dict[str, Any], timeout_s: float) -> dict[str, str]:
        if not self.instance_arn:
            raise LookupError("the tenant's journeys name no connect_instance_arn: flow steps cannot run")
        from ccaas.bootstrap import dependencies
        from ccaas.usecases.connect_flow import answer

        reply, _ = answer(dependencies, event, budget_s=max(0.1, timeout_s))
        return reply
