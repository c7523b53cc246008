"""Journey tests on AWS: the entry points of a deployed stage, the stored results, the alarm per journey.

Entry points (ccaas.usecases.journeys.EntryPoints): the REST API at a base
URL with API keys, and the contact-flow Lambda through boto3 `lambda.invoke` (the caller's credentials).

Keys: `keys` maps a role ("integration", "supervisor", "admin") or "agent:<agent id>" to an API key; a
call as a role with no key of its own uses `keys["default"]` (one key for everything, e.g. the CI gate's
--key). One attempt per call, bounded by the step's remaining time: a retried Invoke would play a flow
action twice, and a journey must never hang.

Results (DynamoJourneyResults, ccaas.ports_journeys.JourneyResultStore) live in the Metrics table, in the
tenant's partition `<tenant>#JOURNEYS`: `LATEST#<journey>` (the latest run and a run counter `seq`) and
`RUN#<journey>#<seq mod 20>` (a ring of the last 20 runs: a new run overwrites the 21st-last, no delete
needed), each with the table's TTL `expires_at` (RESULTS_TTL_S after the run: a journey removed from the
suite leaves nothing behind for long). Writing a run is one UpdateItem (ADD seq) and one PutItem; the
latest of every journey is one Query, a journey's last 20 another.

Alarms (CloudWatchJourneyAlarms, ccaas.ports_journeys.JourneyAlarms): put_metric_alarm / delete_alarms
with names `<JOURNEY_ALARM_PREFIX><tenant>/<journey>`; the functions allowed to touch them are granted
exactly that prefix (infra/constructs/journeys.py).
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


# ------------------------------------------------------------------------------------------- results
RESULTS_TTL_S = 7 * 86_400
JOURNEY_ALARM_PREFIX_ENV = "JOURNEY_ALARM_PREFIX"
ALARM_TOPIC_ARN_ENV = "ALARM_TOPIC_ARN"  # the stack's alarm topic (infra/constructs/notifications.py)
METRICS_NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"


class DynamoJourneyResults:
    """ccaas.ports_journeys.JourneyResultStore in the Metrics table (module docstring)."""

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    @staticmethod
    def _pk(tenant_id: str) -> str:
        return f"{tenant_id}#JOURNEYS"

    def record(self, run: Any) -> None:
        from ccaas.adapters.aws.dynamodb import to_item
        from ccaas.domain.journeys import KEEP_RUNS

        body = run.model_dump_json()
        expires = run.at // 1000 + RESULTS_TTL_S
        latest = to_item({"pk": self._pk(run.tenant_id), "sk": f"LATEST#{run.journey}"})
        reply = self._db.update_item(
            TableName=self._table, Key=latest, UpdateExpression="ADD #seq :one SET #run = :run, #exp = :exp",
            ExpressionAttributeNames={"#seq": "seq", "#run": "run", "#exp": "expires_at"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":run": {"S": body}, ":exp": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
        slot = int(reply["Attributes"]["seq"]["N"]) % KEEP_RUNS
        self._db.put_item(TableName=self._table, Item=to_item({
            "pk": self._pk(run.tenant_id), "sk": f"RUN#{run.journey}#{slot:02d}", "entity": "journey_run",
            "at": run.at, "run": body, "expires_at": expires}))

    def _query(self, tenant_id: str, prefix: str) -> list[Any]:
        from ccaas.domain.journeys import JourneyRun

        pages = self._db.get_paginator("query").paginate(
            TableName=self._table, KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": self._pk(tenant_id)}, ":p": {"S": prefix}},
            ProjectionExpression="#run", ExpressionAttributeNames={"#run": "run"},
        )
        return [JourneyRun.model_validate_json(item["run"]["S"]) for page in pages for item in page["Items"]]

    def latest(self, tenant_id: str) -> list[Any]:
        return self._query(tenant_id, "LATEST#")

    def recent(self, tenant_id: str, journey: str, limit: int = 20) -> list[Any]:
        from ccaas.domain.journeys import KEEP_RUNS

        runs = self._query(tenant_id, f"RUN#{journey}#")
        return sorted(runs, key=lambda r: r.at, reverse=True)[: max(0, min(limit, KEEP_RUNS))]


# -------------------------------------------------------------------------------------------- alarms
def alarm_parameters(prefix: str, namespace: str, tenant_id: str, journey: str, topic_arn: str | None = None) -> dict[str, Any]:
    """put_metric_alarm's parameters for a journey: JourneySuccess (1 pass / 0 fail, one datapoint per run)
    below 1 in 2 of the last 3 five-minute periods; missing data keeps the state (a tenant not reached
    in a tick is no failure). With the stack's alarm topic, failing and recovering notify it."""
    from ccaas.domain.journeys import (
        ALARM_DATAPOINTS,
        ALARM_EVALUATION_PERIODS,
        ALARM_METRIC,
        ALARM_PERIOD_S,
        alarm_name,
    )

    return {
        "AlarmName": alarm_name(prefix, tenant_id, journey),
        "AlarmDescription": f"journey test {journey} of tenant {tenant_id} failing (PUT /settings/journeys)",
        "Namespace": namespace, "MetricName": ALARM_METRIC,
        "Dimensions": [{"Name": "tenant", "Value": tenant_id}, {"Name": "journey", "Value": journey}],
        "Statistic": "Minimum", "Period": ALARM_PERIOD_S, "EvaluationPeriods": ALARM_EVALUATION_PERIODS,
        "DatapointsToAlarm": ALARM_DATAPOINTS, "Threshold": 1.0, "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "missing",
        **({"AlarmActions": [topic_arn], "OKActions": [topic_arn]} if topic_arn else {}),
    }


class CloudWatchJourneyAlarms:
    """ccaas.ports_journeys.JourneyAlarms with boto3 (put_metric_alarm per journey, delete_alarms by 100)."""

    def __init__(self, client_factory: Any, prefix: str, namespace: str, topic_arn: str | None = None) -> None:
        self._factory = client_factory
        self._client: Any = None
        self.prefix = prefix
        self.namespace = namespace
        self.topic_arn = topic_arn

    @classmethod
    def from_environment(cls, client_factory: Any, environ: Any = None) -> CloudWatchJourneyAlarms:
        import os

        env = os.environ if environ is None else environ
        prefix = env.get(JOURNEY_ALARM_PREFIX_ENV)
        if not prefix:
            raise RuntimeError(f"setting {JOURNEY_ALARM_PREFIX_ENV} is not configured for this function")
        return cls(client_factory, prefix, env.get(METRICS_NAMESPACE_ENV) or "Ccaas", env.get(ALARM_TOPIC_ARN_ENV) or None)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def put(self, tenant_id: str, journeys: Any) -> list[str]:
        names = []
        for journey in journeys:
            params = alarm_parameters(self.prefix, self.namespace, tenant_id, journey, self.topic_arn)
            self.client.put_metric_alarm(**params)
            names.append(params["AlarmName"])
        return names

    def delete(self, tenant_id: str, journeys: Any) -> list[str]:
        from ccaas.domain.journeys import alarm_name

        names = [alarm_name(self.prefix, tenant_id, j) for j in journeys]
        for start in range(0, len(names), 100):
            self.client.delete_alarms(AlarmNames=names[start:start + 100])
        return names

    def alarmed_journeys(self, tenant_id: str) -> list[str]:
        from ccaas.domain.journeys import alarm_name

        mine = alarm_name(self.prefix, tenant_id, "")
        pages = self.client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=mine, AlarmTypes=["MetricAlarm"])
        return sorted(alarm["AlarmName"].removeprefix(mine) for page in pages for alarm in page.get("MetricAlarms", []))
