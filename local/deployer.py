"""Deploys the synthesized CloudFormation template (cdk.out/<Stack>.template.json) into moto.

One source of truth: the template `cdk deploy` ships is the one that runs locally. moto's own
CloudFormation cannot deploy CDK output (no DefinitionSubstitutions, non-executing state machines,
missing resource types), so this walks the template itself: parameters and conditions, resources in
dependency order, intrinsics resolved against what was created (local.intrinsics), one boto3 call or
two per resource.

- Created in moto: DynamoDB tables (GSIs/LSIs, streams, TTL), Kinesis streams, SQS queues, SNS
  topics/subscriptions, IAM roles (so Lambda accepts its role; policies are not enforced locally),
  Lambda layers and functions (a tiny zip: the real code runs in-process from functions/<folder>/),
  Step Functions state machines (DefinitionSubstitutions applied, graph-checked), SSM parameters.
- Recorded, not created: Lambda event source mappings (moto would deliver one record per call,
  synchronously; local.kinesis_poller honours the mapping's real settings) and the API Gateway REST
  API (resources, methods, authorizers, stage; served by local.api_server).
- Skipped (no local meaning): IAM policies, log groups, dashboards, alarms, KMS, Lambda
  permissions, API Gateway deployments/account, queue policies, CDK metadata.
- Anything else raises DeployError: a resource type nobody decided about must not vanish silently.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import intrinsics
from local.intrinsics import IntrinsicError, Resolver

log = logging.getLogger("local.deployer")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class DeployError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------------
# What a deployment leaves behind (read by the runtime, the poller and the API server)
# ---------------------------------------------------------------------------------------------------
@dataclass
class DeployedResource:
    logical_id: str
    type: str
    status: str  # created | recorded | skipped
    physical_id: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    folder: str
    source_dir: Path
    handler: str
    role_arn: str
    environment: dict[str, str]
    mapped_by: str  # how the template resource was tied to functions/<folder>


@dataclass
class EventSourceMappingSpec:
    logical_id: str
    uuid: str
    event_source_arn: str
    function_name: str
    batch_size: int = 100
    maximum_batching_window_s: float = 0.0
    starting_position: str = "LATEST"
    starting_position_timestamp: float | None = None
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1  # -1: until the record expires
    maximum_record_age_s: int = -1  # -1: the stream's retention
    parallelization_factor: int = 1
    report_batch_item_failures: bool = False
    on_failure_destination: str | None = None
    enabled: bool = True
    filter_criteria: Any = None

    @classmethod
    def from_properties(cls, logical_id: str, props: Mapping[str, Any]) -> EventSourceMappingSpec:
        dest = (((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")) or None
        return cls(
            logical_id=logical_id,
            uuid=str(_uuid_for(logical_id)),
            event_source_arn=props["EventSourceArn"],
            function_name=props["FunctionName"],
            batch_size=int(props.get("BatchSize", 100)),
            maximum_batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(props.get("StartingPosition", "LATEST")),
            starting_position_timestamp=props.get("StartingPositionTimestamp"),
            bisect_batch_on_function_error=_bool(props.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            maximum_record_age_s=int(props.get("MaximumRecordAgeInSeconds", -1)),
            parallelization_factor=int(props.get("ParallelizationFactor", 1)),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            on_failure_destination=dest,
            enabled=_bool(props.get("Enabled", True)),
            filter_criteria=props.get("FilterCriteria"),
        )


@dataclass
class ApiAuthorizer:
    id: str
    logical_id: str
    type: str  # TOKEN | REQUEST | COGNITO_USER_POOLS
    function_arn: str | None
    identity_source: str
    ttl_s: int = 300
    identity_validation_expression: str | None = None
    name: str = ""


@dataclass
class ApiMethod:
    logical_id: str
    http_method: str  # GET, POST, ..., ANY
    resource_id: str
    authorization_type: str
    authorizer_id: str | None
    integration_type: str  # AWS_PROXY, MOCK, ...
    integration_function_arn: str | None
    integration: dict[str, Any]
    api_key_required: bool = False


@dataclass
class ApiResource:
    id: str
    parent_id: str | None
    path_part: str
    path: str = "/"


@dataclass
class RestApiSpec:
    id: str
    logical_id: str
    name: str
    root_resource_id: str
    resources: dict[str, ApiResource] = field(default_factory=dict)
    methods: list[ApiMethod] = field(default_factory=list)
    authorizers: dict[str, ApiAuthorizer] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage name -> variables
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stage_name(self) -> str:
        return next(iter(self.stages), "prod")


@dataclass
class ScheduleSpec:
    """An EventBridge Scheduler schedule, run by local/scheduler.py."""

    logical_id: str
    name: str
    expression: str  # rate(1 minute) | cron(...) | at(...)
    target_arn: str
    input: str | None = None
    enabled: bool = True
    timezone: str | None = None


@dataclass
class Deployment:
    stack_name: str
    region: str
    account_id: str
    template: dict[str, Any]
    resources: dict[str, DeployedResource] = field(default_factory=dict)
    functions: dict[str, DeployedFunction] = field(default_factory=dict)  # by logical id
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    streams: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id -> (name, arn)
    queues: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id -> (url, arn)
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> arn
    event_source_mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    event_buses: dict[str, str] = field(default_factory=dict)  # logical id -> bus name
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    rest_apis: dict[str, RestApiSpec] = field(default_factory=dict)  # by api id
    websocket_apis: dict[str, Any] = field(default_factory=dict)  # by api id: local.websocket_server.WebSocketApiSpec
    outputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def function_by_folder(self, folder: str) -> DeployedFunction:
        for fn in self.functions.values():
            if fn.folder == folder:
                return fn
        raise KeyError(f"no deployed function for functions/{folder}")

    def function_by_name_or_arn(self, name_or_arn: str) -> DeployedFunction | None:
        for fn in self.functions.values():
            if name_or_arn in (fn.name, fn.arn) or name_or_arn.startswith(fn.arn + ":"):
                return fn
        return None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources.values():
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def skipped(self) -> list[DeployedResource]:
        return [r for r in self.resources.values() if r.status == "skipped"]

    @property
    def rest_api(self) -> RestApiSpec | None:
        return next(iter(self.rest_apis.values()), None)


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------
def _bool(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).lower() == "true"


def _uuid_for(seed: str) -> str:
    h = hashlib.sha1(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _short_id(seed: str, n: int = 10) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:n]


@functools.lru_cache(maxsize=256)
def tiny_zip(note: str = "") -> bytes:
    """Placeholder code for moto: the real code is imported from the source folder in-process. Made once per
    note in a process (the test tiers deploy the stack dozens of times)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "handler.py",
            f"# Placeholder deployed by local/deployer.py. {note}\n"
            "def lambda_handler(event, context):\n"
            "    raise RuntimeError('local runtime: this function has no in-process handler')\n",
        )
    return buf.getvalue()


def _pick(props: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: props[n] for n in names if n in props and props[n] is not None}


def _dir_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or p.suffix in (".pyc", ".pyo"):
            continue
        h.update(str(p.relative_to(path)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


SKIPPED_TYPES: dict[str, str] = {
    "AWS::IAM::Policy": "IAM is not enforced locally",
    "AWS::IAM::ManagedPolicy": "IAM is not enforced locally",
    "AWS::IAM::InstanceProfile": "IAM is not enforced locally",
    "AWS::Logs::LogGroup": "handler output goes to the local log sink",
    "AWS::Logs::SubscriptionFilter": "no CloudWatch Logs delivery locally",
    "AWS::Logs::MetricFilter": "no CloudWatch Logs delivery locally",
    "AWS::CloudWatch::Dashboard": "no dashboards locally",
    "AWS::CloudWatch::Alarm": "no alarms locally",
    "AWS::CloudWatch::CompositeAlarm": "no alarms locally",
    "AWS::KMS::Key": "encryption at rest has no local meaning",
    "AWS::KMS::Alias": "encryption at rest has no local meaning",
    "AWS::Lambda::Permission": "resource policies are not enforced locally",
    "AWS::Lambda::EventInvokeConfig": "async invoke settings are not emulated",
    "AWS::Lambda::Url": "function URLs are not served locally",
    "AWS::Lambda::Version": "functions run $LATEST locally",
    "AWS::Lambda::Alias": "functions run $LATEST locally",
    "AWS::ApiGateway::Account": "account-level logging role",
    "AWS::ApiGateway::Deployment": "the local API server serves the template's API directly",
    "AWS::ApiGateway::Model": "request models are validated by the handler",
    "AWS::ApiGateway::RequestValidator": "request validation is done by the handler",
    "AWS::ApiGateway::UsagePlan": "no usage plans locally",
    "AWS::ApiGateway::UsagePlanKey": "no usage plans locally",
    "AWS::ApiGateway::ApiKey": "no usage plans locally",
    "AWS::SQS::QueuePolicy": "resource policies are not enforced locally",
    "AWS::S3::BucketPolicy": "resource policies are not enforced locally",
    "AWS::CloudFront::Distribution": "the local API server plays it: static files at /, the API under /<stage>/",
    "AWS::CloudFront::OriginAccessControl": "no CloudFront locally",
    "AWS::CloudFront::CachePolicy": "no CloudFront locally",
    "AWS::CloudFront::OriginRequestPolicy": "no CloudFront locally",
    "AWS::CloudFront::ResponseHeadersPolicy": "no CloudFront locally",
    "AWS::CloudFront::Function": "no CloudFront locally",
    "AWS::Events::EventBusPolicy": "resource policies are not enforced locally",
    "AWS::Events::Archive": "no event archives locally",
    "AWS::SNS::TopicPolicy": "resource policies are not enforced locally",
    "AWS::CDK::Metadata": "CDK analytics",
    # People sign in with Cognito on AWS only: locally the authorizer's issuer is this placeholder (not
    # an https URL), so it refuses user tokens and takes the seeded API keys.
    "AWS::Cognito::UserPool": "no user pool locally (API keys only)",
    "AWS::Cognito::UserPoolClient": "no user pool locally (API keys only)",
    "AWS::Cognito::UserPoolGroup": "no user pool locally (API keys only)",
    "AWS::XRay::Group": "no X-Ray locally",
    "AWS::XRay::SamplingRule": "no X-Ray locally",
    "Custom::LogRetention": "log retention has no local meaning",
}


# ---------------------------------------------------------------------------------------------------
# The deployer
# ---------------------------------------------------------------------------------------------------
class Deployer:
    def __init__(
        self,
        template: Mapping[str, Any] | Path | str,
        *,
        assets: Mapping[str, Any] | Path | str | None = None,
        cdk_out: Path | None = None,
        session: Any = None,
        endpoint_url: str | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT,
        stack_name: str | None = None,
        parameter_overrides: Mapping[str, Any] | None = None,
        functions_dir: Path | None = None,
        register_functions: bool = True,
        clients: dict[str, Any] | None = None,
    ) -> None:
        """`clients`: the deployer's boto3 clients by service, made into it and kept there; a caller deploying
        again and again (the test tiers: the stack into a fresh mock_aws per module) passes the same dict, for the
        same region and endpoint, and the clients are made once (they hold no AWS state)."""
        if isinstance(template, (str, Path)):
            path = Path(template)
            self.template = json.loads(path.read_text())
            cdk_out = cdk_out or path.parent
            stack_name = stack_name or path.name.removesuffix(".template.json")
            if assets is None and (path.parent / f"{stack_name}.assets.json").is_file():
                assets = path.parent / f"{stack_name}.assets.json"
        else:
            self.template = dict(template)
        if isinstance(assets, (str, Path)):
            assets = json.loads(Path(assets).read_text())
        self.assets: Mapping[str, Any] = assets or {}
        self.cdk_out = cdk_out
        self.stack_name = stack_name or "Stack"
        self.region = region
        self.account_id = account_id
        self.endpoint_url = endpoint_url
        self._session = session
        self._clients: dict[str, Any] = {} if clients is None else clients
        self.parameter_overrides = dict(parameter_overrides or {})
        self.functions_dir = functions_dir or ROOT / "functions"
        self.register_functions = register_functions
        self._construct_paths = self._load_construct_paths()
        self._layer_arns: set[str] = set()
        # map_function_folder compares each function's asset with every functions/<folder>: each folder is
        # listed, resolved and fingerprinted once per deployer, not once per function (~45 ms of a deploy).
        self._folders: list[str] | None = None
        self._resolved_folders: dict[Path, str] = {}
        self._fingerprints: dict[Path, str] = {}

    # -- clients ----------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            if self._session is None:  # one session for every client: each new one sets botocore up again
                self._session = boto3.session.Session()
            self._clients[service] = self._session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            )
        return self._clients[service]

    # -- template structure -----------------------------------------------------------------------
    def _load_construct_paths(self) -> dict[str, str]:
        """logical id -> construct path, from template metadata or the cloud assembly's metadata file."""
        out: dict[str, str] = {}
        for lid, res in (self.template.get("Resources") or {}).items():
            path = (res.get("Metadata") or {}).get("aws:cdk:path")
            if path:
                out[lid] = "/" + path.lstrip("/")
        if self.cdk_out is not None:
            meta = self.cdk_out / f"{self.stack_name}.metadata.json"
            if meta.is_file():
                try:
                    for path, entries in json.loads(meta.read_text()).items():
                        for e in entries:
                            if e.get("type") == "aws:cdk:logicalId" and isinstance(e.get("data"), str):
                                out.setdefault(e["data"], path)
                except (ValueError, AttributeError):
                    pass
        return out

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in self.parameter_overrides:
                out[name] = self.parameter_overrides[name]
                continue
            ptype = str(spec.get("Type", "String"))
            default = spec.get("Default")
            if ptype.startswith("AWS::SSM::Parameter::Value<"):
                # Resolved by CloudFormation from SSM at deploy time; locally a recognisable dummy.
                value: Any = f"local-ssm-dummy:{default}"
                if "List<" in ptype:
                    value = [value]
            elif default is None:
                raise DeployError(f"parameter {name} has no Default: pass it in parameter_overrides")
            else:
                value = default
            if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
                value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            elif not isinstance(value, list):
                value = str(value)
            out[name] = value
        return out

    def order(self, resources: Mapping[str, Any]) -> list[str]:
        known = set(resources)
        deps: dict[str, set[str]] = {}
        for lid, res in resources.items():
            d = intrinsics.dependencies(res.get("Properties") or {}, known)
            depends_on = res.get("DependsOn") or []
            d |= set([depends_on] if isinstance(depends_on, str) else depends_on) & known
            deps[lid] = d - {lid}
        ordered: list[str] = []
        state: dict[str, int] = {}

        def visit(lid: str, stack: list[str]) -> None:
            if state.get(lid) == 2:
                return
            if state.get(lid) == 1:
                raise DeployError(f"circular dependency: {' -> '.join(stack + [lid])}")
            state[lid] = 1
            for dep in sorted(deps[lid]):
                visit(dep, stack + [lid])
            state[lid] = 2
            ordered.append(lid)

        for lid in resources:  # template order, dependencies first
            visit(lid, [])
        return ordered

    # -- deploy -----------------------------------------------------------------------------------
    def deploy(self) -> Deployment:
        started = time.perf_counter()
        dep = Deployment(self.stack_name, self.region, self.account_id, self.template)
        dep.parameters = self.parameters()
        refs: dict[str, Any] = {}
        self._dep = dep
        self._refs = refs
        resolver = Resolver(
            self.template,
            region=self.region,
            account_id=self.account_id,
            stack_name=self.stack_name,
            parameters=dep.parameters,
            refs=refs,
            get_att=self._get_att,
        )
        self.resolver = resolver
        all_resources = self.template.get("Resources") or {}
        active = {lid: r for lid, r in all_resources.items() if not r.get("Condition") or resolver.condition(r["Condition"])}
        for lid in self.order(active):
            res = active[lid]
            rtype = res.get("Type", "")
            handler = self._handler_for(rtype)
            try:
                props = resolver.resolve(res.get("Properties") or {})
            except IntrinsicError as exc:
                raise DeployError(f"{lid} ({rtype}): {exc}") from exc
            try:
                deployed = handler(lid, props, res)
            except DeployError:
                raise
            except Exception as exc:  # noqa: BLE001 - name the resource that failed
                raise DeployError(f"{lid} ({rtype}): {type(exc).__name__}: {exc}") from exc
            dep.resources[lid] = deployed
            refs[lid] = deployed.physical_id
        for name, out in (self.template.get("Outputs") or {}).items():
            if out.get("Condition") and not resolver.condition(out["Condition"]):
                continue
            try:
                dep.outputs[name] = resolver.resolve(out.get("Value"))
            except IntrinsicError as exc:
                dep.outputs[name] = f"<unresolved: {exc}>"
        self._finish_apis(dep)
        dep.elapsed_s = time.perf_counter() - started
        return dep

    def _handler_for(self, rtype: str) -> Callable[[str, dict[str, Any], Mapping[str, Any]], DeployedResource]:
        table: dict[str, Callable[[str, dict[str, Any], Mapping[str, Any]], DeployedResource]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._global_table,
            "AWS::Kinesis::Stream": self._stream,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::IAM::Role": self._role,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::StepFunctions::Activity": self._activity,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Events::Rule": self._rule,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Resource": self._api_resource,
            "AWS::ApiGateway::Method": self._api_method,
            "AWS::ApiGateway::Authorizer": self._api_authorizer,
            "AWS::ApiGateway::Stage": self._api_stage,
            "AWS::ApiGateway::GatewayResponse": self._api_gateway_response,
        }
        if rtype in table:
            return table[rtype]
        if rtype.startswith("AWS::ApiGatewayV2::"):  # WebSocket APIs, recorded for local/websocket_server.py
            from local.websocket_server import WEBSOCKET_TYPES, record_resource

            if rtype in WEBSOCKET_TYPES:
                return lambda lid, props, res: record_resource(self, lid, props, res)
        if rtype in SKIPPED_TYPES:
            return self._skipped
        raise DeployError(
            f"resource type {rtype} is not supported by the local deployer (local/deployer.py): "
            "add a handler that creates it in moto, or list it in SKIPPED_TYPES with the reason it has "
            "no local meaning"
        )

    # -- names and attributes ---------------------------------------------------------------------
    def physical_name(self, lid: str, max_len: int = 64, suffix: str = "") -> str:
        name = f"{self.stack_name}-{lid}"
        room = max_len - len(suffix)
        if len(name) > room:
            name = name[: room - 9] + "-" + _short_id(name, 8)
        return name + suffix

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"

    def _get_att(self, lid: str, attribute: str) -> Any:
        res = self._dep.resources.get(lid)
        if res is None:
            raise KeyError(f"{lid} is not deployed (yet)")
        if attribute in res.attributes:
            return res.attributes[attribute]
        if res.status == "skipped":
            # Something plausible, so references to resources with no local meaning still resolve.
            service = res.type.split("::")[1].lower() if res.type.startswith("AWS::") else "custom"
            if attribute == "Arn" or attribute.endswith("Arn"):
                return self.arn(service, f"{lid}")
            return f"{lid}.{attribute}"
        raise KeyError(f"{res.type} {lid} has no attribute {attribute!r} locally (known: {sorted(res.attributes)})")

    # -- resource handlers ------------------------------------------------------------------------
    def _skipped(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        rtype = res["Type"]
        physical: Any = lid
        attrs: dict[str, Any] = {}
        if rtype == "AWS::Logs::LogGroup":
            physical = props.get("LogGroupName") or f"/aws/local/{self.physical_name(lid)}"
            attrs["Arn"] = self.arn("logs", f"log-group:{physical}:*")
        elif rtype == "AWS::KMS::Key":
            physical = _uuid_for(lid)
            attrs["Arn"] = self.arn("kms", f"key/{physical}")
            attrs["KeyId"] = physical
        elif rtype == "AWS::IAM::ManagedPolicy":
            physical = self.arn("iam", f"policy/{self.physical_name(lid)}", region=False)
            attrs["PolicyArn"] = physical
        elif rtype in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            physical = f"{props.get('FunctionName')}:{'$LATEST' if rtype.endswith('Version') else props.get('Name')}"
        elif rtype == "AWS::CloudFront::Distribution":
            physical = _short_id(lid, 14).upper()
            attrs.update(DomainName=f"{physical.lower()}.cloudfront.net", Id=physical)
        elif rtype == "AWS::ApiGateway::Deployment":
            physical = _short_id(lid, 6)
            stage = props.get("StageName")
            if stage and props.get("RestApiId") in self._dep.rest_apis:
                self._dep.rest_apis[props["RestApiId"]].stages.setdefault(stage, {})
        return DeployedResource(lid, rtype, "skipped", physical, attrs, SKIPPED_TYPES.get(rtype, ""))

    def _table(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("TableName") or self.physical_name(lid, 255)
        ddb = self.client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        gsis = []
        for g in props.get("GlobalSecondaryIndexes") or []:
            gsi = _pick(g, "IndexName", "KeySchema", "Projection")
            if kwargs["BillingMode"] == "PROVISIONED":
                gsi["ProvisionedThroughput"] = g.get(
                    "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
                )
            gsis.append(gsi)
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        lsis = [_pick(x, "IndexName", "KeySchema", "Projection") for x in props.get("LocalSecondaryIndexes") or []]
        if lsis:
            kwargs["LocalSecondaryIndexes"] = lsis
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if props.get("TableClass"):
            kwargs["TableClass"] = props["TableClass"]
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        desc = ddb.create_table(**kwargs)["TableDescription"]  # its ARN and stream ARN: no DescribeTable after
        ttl = props.get("TimeToLiveSpecification")
        if ttl and _bool(ttl.get("Enabled", False)):
            ddb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        attrs = {"Arn": desc["TableArn"]}
        if desc.get("LatestStreamArn"):
            attrs["StreamArn"] = desc["LatestStreamArn"]
        self._dep.tables[lid] = name
        note = f"{len(gsis)} GSI(s)" + (f", TTL on {ttl['AttributeName']} (not enforced by moto)" if ttl else "")
        return DeployedResource(lid, res["Type"], "created", name, attrs, note)

    def _global_table(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        # TableV2: one replica locally (the stack's region); same shape otherwise.
        flat = dict(props)
        flat.setdefault("BillingMode", props.get("BillingMode", "PAY_PER_REQUEST"))
        replicas = props.get("Replicas") or []
        here = next((r for r in replicas if r.get("Region") in (None, self.region)), {})
        if here.get("TableClass"):
            flat["TableClass"] = here["TableClass"]
        return self._table(lid, flat, res)

    def _stream(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("Name") or self.physical_name(lid, 128)
        kinesis = self.client("kinesis")
        kwargs: dict[str, Any] = {"StreamName": name}
        mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        kwargs["StreamModeDetails"] = {"StreamMode": mode}
        if mode == "PROVISIONED":
            kwargs["ShardCount"] = int(props.get("ShardCount", 1))
        kinesis.create_stream(**kwargs)
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        arn = summary["StreamARN"]
        self._dep.streams[lid] = (name, arn)
        return DeployedResource(lid, res["Type"], "created", name, {"Arn": arn}, f"{mode}, {summary['OpenShardCount']} shard(s)")

    def _queue(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        fifo = _bool(props.get("FifoQueue", False))
        name = props.get("QueueName") or self.physical_name(lid, 80, ".fifo" if fifo else "")
        attrs_in: dict[str, str] = {}
        for key in (
            "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "DeduplicationScope",
            "FifoThroughputLimit",
        ):
            if key in props:
                attrs_in[key] = str(props[key])
        for key in ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"):
            if key in props:
                attrs_in[key] = "true" if _bool(props[key]) else "false"
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attrs_in[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attrs_in)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._dep.queues[lid] = (url, arn)
        return DeployedResource(lid, res["Type"], "created", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _topic(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("TopicName") or self.physical_name(lid, 256)
        attrs = {}
        if _bool(props.get("FifoTopic", False)):
            attrs["FifoTopic"] = "true"
        arn = self.client("sns").create_topic(Name=name, Attributes=attrs)["TopicArn"]
        return DeployedResource(lid, res["Type"], "created", arn, {"TopicArn": arn, "TopicName": name})

    def _subscription(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        kwargs = {"TopicArn": props["TopicArn"], "Protocol": props["Protocol"], "Endpoint": props.get("Endpoint", "")}
        attributes = {}
        if props.get("RawMessageDelivery") is not None:
            attributes["RawMessageDelivery"] = "true" if _bool(props["RawMessageDelivery"]) else "false"
        if props.get("FilterPolicy"):
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if attributes:
            kwargs["Attributes"] = attributes
        arn = self.client("sns").subscribe(**kwargs, ReturnSubscriptionArn=True)["SubscriptionArn"]
        return DeployedResource(lid, res["Type"], "created", arn, {"Arn": arn})

    def _role(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("RoleName") or self.physical_name(lid, 64)
        doc = props.get("AssumeRolePolicyDocument") or {}
        role = self.client("iam").create_role(
            RoleName=name,
            Path=props.get("Path", "/"),
            AssumeRolePolicyDocument=doc if isinstance(doc, str) else json.dumps(doc),
        )["Role"]
        return DeployedResource(
            lid, res["Type"], "created", name, {"Arn": role["Arn"], "RoleId": role["RoleId"]},
            "role only (Lambda requires it); policies are not enforced locally",
        )

    def _asset_dir(self, code: Mapping[str, Any]) -> Path | None:
        key = code.get("S3Key")
        if not isinstance(key, str):
            return None
        asset_hash = key.rsplit("/", 1)[-1].split(".", 1)[0]
        entry = (self.assets.get("files") or {}).get(asset_hash)
        if not entry:
            return None
        src = (entry.get("source") or {}).get("path")
        if not src:
            return None
        path = Path(src)
        if not path.is_absolute() and self.cdk_out is not None:
            path = self.cdk_out / path
        return path if path.exists() else None

    def _layer(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("LayerName") or self.physical_name(lid, 140)
        kwargs: dict[str, Any] = {"LayerName": name, "Content": {"ZipFile": tiny_zip(f"layer {lid}")}}
        if props.get("CompatibleRuntimes"):
            kwargs["CompatibleRuntimes"] = props["CompatibleRuntimes"]
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        out = self.client("lambda").publish_layer_version(**kwargs)
        arn = out["LayerVersionArn"]
        self._layer_arns.add(arn)
        src = self._asset_dir(props.get("Content") or {})
        return DeployedResource(
            lid, res["Type"], "created", arn, {"LayerVersionArn": arn},
            f"code not shipped: the package is importable in-process (asset {src.name if src else '?'})",
        )

    def map_function_folder(self, lid: str, props: Mapping[str, Any]) -> tuple[str, str]:
        """(folder, how): which functions/<folder> this template function runs."""
        from infra.naming import construct_id  # shared with the CDK app

        folders = self._function_folders()
        if not folders:
            raise DeployError(f"no functions/*/handler.py under {self.functions_dir}")
        by_cid = {construct_id(f): f for f in folders}

        by_content: str | None = None
        asset = self._asset_dir(props.get("Code") or {})
        if asset is not None:
            by_content = self._resolved_folders.get(asset.resolve())
            if by_content is None and asset.is_dir():
                fp = self._fingerprint(asset)
                matches = [f for f in folders if self._fingerprint(self.functions_dir / f) == fp]
                if len(matches) == 1:
                    by_content = matches[0]

        by_path: str | None = None
        cpath = self._construct_paths.get(lid)
        if cpath:
            hits = [by_cid[seg] for seg in cpath.strip("/").split("/") if seg in by_cid]
            if len(set(hits)) == 1:
                by_path = hits[0]

        if by_content and by_path and by_content != by_path:
            raise DeployError(
                f"{lid}: its code asset matches functions/{by_content} but its construct path {cpath} names "
                f"functions/{by_path}"
            )
        if by_content:
            return by_content, "code asset contents"
        if by_path:
            return by_path, f"construct path {cpath}"
        hits = sorted((c for c in by_cid if c in lid), key=len, reverse=True)
        if hits and (len(hits) == 1 or len(hits[0]) > len(hits[1])):
            return by_cid[hits[0]], "logical id"
        raise DeployError(
            f"{lid}: cannot tell which functions/<folder> it runs (asset {asset}, construct path {cpath}); "
            f"known folders: {folders}"
        )

    def _function_folders(self) -> list[str]:
        if self._folders is None:
            self._folders = sorted(p.parent.name for p in self.functions_dir.glob("*/handler.py"))
            self._resolved_folders = {(self.functions_dir / f).resolve(): f for f in self._folders}
        return self._folders

    def _fingerprint(self, path: Path) -> str:
        if path not in self._fingerprints:
            self._fingerprints[path] = _dir_fingerprint(path)
        return self._fingerprints[path]

    def _function(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("FunctionName") or self.physical_name(lid, 64)
        code = props.get("Code") or {}
        if code.get("ImageUri") or props.get("PackageType") == "Image":
            raise DeployError(f"{lid}: container-image functions are not supported locally")
        folder, how = self.map_function_folder(lid, props)
        layers = props.get("Layers") or []
        local_layers = [arn for arn in layers if arn in self._layer_arns]
        external = [arn for arn in layers if arn not in self._layer_arns]
        env = {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": props.get("Runtime", "python3.13"),
            "Role": props["Role"],
            "Handler": props.get("Handler", "handler.lambda_handler"),
            "Code": {"ZipFile": tiny_zip(f"function {lid} runs functions/{folder} in-process")},
            "Timeout": int(props.get("Timeout", 3)),
            "MemorySize": int(props.get("MemorySize", 128)),
            "Environment": {"Variables": env},
        }
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        if local_layers:
            kwargs["Layers"] = local_layers
        if props.get("Architectures"):
            kwargs["Architectures"] = props["Architectures"]
        out = self.client("lambda").create_function(**kwargs)
        arn = out["FunctionArn"]
        deployed = DeployedFunction(
            logical_id=lid,
            name=name,
            arn=arn,
            folder=folder,
            source_dir=self.functions_dir / folder,
            handler=kwargs["Handler"],
            role_arn=kwargs["Role"],
            environment=env,
            mapped_by=how,
        )
        self._dep.functions[lid] = deployed
        if self.register_functions:
            register_function(deployed)
        note = f"functions/{folder} (by {how})"
        if external:
            note += f"; external layer(s) not deployed (their packages come from the local venv): {external}"
        return DeployedResource(lid, res["Type"], "created", name, {"Arn": arn}, note)

    def _event_source_mapping(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        spec = EventSourceMappingSpec.from_properties(lid, props)
        if ":kinesis:" not in spec.event_source_arn:
            raise DeployError(
                f"{lid}: event source {spec.event_source_arn} is not a Kinesis stream; only Kinesis mappings "
                "are emulated locally (local/kinesis_poller.py)"
            )
        self._dep.event_source_mappings.append(spec)
        return DeployedResource(
            lid, res["Type"], "recorded", spec.uuid, {},
            "delivered by local/kinesis_poller.py (not created in moto: it would deliver 1 record per call)",
        )

    def _state_machine(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("StateMachineName") or self.physical_name(lid, 80)
        if "DefinitionS3Location" in props:
            raise DeployError(f"{lid}: DefinitionS3Location is not supported locally; inline the ASL")
        if "DefinitionString" in props:
            text = props["DefinitionString"]
        elif "Definition" in props:
            text = json.dumps(props["Definition"])
        else:
            raise DeployError(f"{lid}: no DefinitionString/Definition")
        subs = {k: str(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
        text = substitute_definition(text, subs, source=lid)
        definition = json.loads(text)
        check_asl_graph(definition, source=lid)
        kwargs: dict[str, Any] = {
            "name": name,
            "definition": text,
            "roleArn": props.get("RoleArn") or self.arn("iam", "role/local-states", region=False),
            "type": props.get("StateMachineType", "STANDARD"),
        }
        arn = self.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
        self._dep.state_machines[lid] = arn
        return DeployedResource(
            lid, res["Type"], "created", arn, {"Arn": arn, "Name": name},
            f"{len(subs)} substitution(s) applied, graph checked",
        )

    def _activity(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        arn = self.client("stepfunctions").create_activity(name=props["Name"])["activityArn"]
        return DeployedResource(lid, res["Type"], "created", arn, {"Name": props["Name"]})

    def _ssm_parameter(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("Name") or f"/{self.stack_name}/{lid}"
        self.client("ssm").put_parameter(
            Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True
        )
        return DeployedResource(lid, res["Type"], "created", name, {"Type": props.get("Type", "String"), "Value": props["Value"]})

    def _event_bus(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("Name") or self.physical_name(lid, 256)
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self._dep.event_buses[lid] = name
        return DeployedResource(lid, res["Type"], "created", name, {"Arn": arn, "Name": name})

    def _rule(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        """An event-pattern rule and its targets in moto's EventBridge (which delivers to SQS queues and log
        groups; S3's notifications of a bucket with EventBridge on reach the default bus's rules)."""
        if "EventPattern" not in props:
            raise DeployError(f"{lid}: only event-pattern rules are deployed locally (schedules: AWS::Scheduler::Schedule)")
        name = props.get("Name") or self.physical_name(lid, 64)
        bus = props.get("EventBusName", "default")
        events = self.client("events")
        arn = events.put_rule(Name=name, EventPattern=json.dumps(props["EventPattern"]), EventBusName=bus,
                              State=props.get("State", "ENABLED"), Description=props.get("Description", ""))["RuleArn"]
        if props.get("Targets"):
            events.put_targets(Rule=name, EventBusName=bus,
                               Targets=[{"Id": t["Id"], "Arn": t["Arn"]} for t in props["Targets"]])
        return DeployedResource(lid, res["Type"], "created", name, {"Arn": arn})

    def _bucket(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("BucketName") or self.physical_name(lid, 63).lower()
        s3 = self.client("s3")
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**kwargs)
        if (props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            # moto sends the bucket's object events to the rules of its EventBridge (a stream's failure bucket)
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}})
        self._dep.buckets[lid] = name
        attrs = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{self.region}.amazonaws.com",
        }
        return DeployedResource(lid, res["Type"], "created", name, attrs)

    def _schedule(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        name = props.get("Name") or self.physical_name(lid, 64)
        target = props.get("Target") or {}
        spec = ScheduleSpec(
            logical_id=lid,
            name=name,
            expression=str(props["ScheduleExpression"]),
            target_arn=str(target.get("Arn", "")),
            input=target.get("Input"),
            enabled=str(props.get("State", "ENABLED")).upper() == "ENABLED",
            timezone=props.get("ScheduleExpressionTimezone"),
        )
        self._dep.schedules.append(spec)
        arn = self.arn("scheduler", f"schedule/{props.get('GroupName', 'default')}/{name}")
        return DeployedResource(
            lid, res["Type"], "recorded", name, {"Arn": arn}, f"{spec.expression} -> run by local/scheduler.py"
        )

    # -- API Gateway (recorded for local/api_server.py) -------------------------------------------
    def _rest_api(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        if props.get("Body") or props.get("BodyS3Location"):
            raise DeployError(f"{lid}: OpenAPI-defined REST APIs (Body/BodyS3Location) are not supported locally")
        api_id = _short_id(f"api:{lid}")
        root = _short_id(f"root:{lid}")
        spec = RestApiSpec(id=api_id, logical_id=lid, name=props.get("Name", lid), root_resource_id=root)
        spec.resources[root] = ApiResource(root, None, "", "/")
        self._dep.rest_apis[api_id] = spec
        return DeployedResource(lid, res["Type"], "recorded", api_id, {"RootResourceId": root}, "served by local/api_server.py")

    def _api(self, api_id: str, lid: str) -> RestApiSpec:
        spec = self._dep.rest_apis.get(api_id)
        if spec is None:
            raise DeployError(f"{lid}: RestApiId {api_id!r} is not a REST API of this template")
        return spec

    def _api_resource(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        api = self._api(props["RestApiId"], lid)
        rid = _short_id(f"res:{lid}", 6)
        api.resources[rid] = ApiResource(rid, props["ParentId"], props["PathPart"])
        return DeployedResource(lid, res["Type"], "recorded", rid, {"ResourceId": rid})

    def _api_method(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        api = self._api(props["RestApiId"], lid)
        integration = props.get("Integration") or {}
        itype = integration.get("Type", "MOCK")
        fn_arn = None
        if itype in ("AWS_PROXY", "AWS"):
            fn_arn = lambda_arn_from_uri(integration.get("Uri", ""))
            if itype == "AWS" or fn_arn is None:
                raise DeployError(f"{lid}: only Lambda proxy (AWS_PROXY) and MOCK integrations are served locally")
        elif itype != "MOCK":
            raise DeployError(f"{lid}: integration type {itype} is not served locally")
        api.methods.append(
            ApiMethod(
                logical_id=lid,
                http_method=str(props["HttpMethod"]).upper(),
                resource_id=props["ResourceId"],
                authorization_type=str(props.get("AuthorizationType", "NONE")).upper(),
                authorizer_id=props.get("AuthorizerId"),
                integration_type=itype,
                integration_function_arn=fn_arn,
                integration=integration,
                api_key_required=_bool(props.get("ApiKeyRequired", False)),
            )
        )
        return DeployedResource(lid, res["Type"], "recorded", _short_id(f"m:{lid}", 6), {}, f"{props['HttpMethod']} -> {itype}")

    def _api_authorizer(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        api = self._api(props["RestApiId"], lid)
        aid = _short_id(f"auth:{lid}", 6)
        atype = str(props.get("Type", "TOKEN")).upper()
        fn_arn = lambda_arn_from_uri(props.get("AuthorizerUri", "")) if atype in ("TOKEN", "REQUEST") else None
        api.authorizers[aid] = ApiAuthorizer(
            id=aid,
            logical_id=lid,
            type=atype,
            function_arn=fn_arn,
            identity_source=str(props.get("IdentitySource", "method.request.header.Authorization")),
            ttl_s=int(props.get("AuthorizerResultTtlInSeconds", 300)),
            identity_validation_expression=props.get("IdentityValidationExpression"),
            name=props.get("Name", lid),
        )
        return DeployedResource(lid, res["Type"], "recorded", aid, {"AuthorizerId": aid}, f"{atype} authorizer")

    def _api_stage(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        api = self._api(props["RestApiId"], lid)
        name = props.get("StageName", "prod")
        api.stages[name] = dict(props.get("Variables") or {})
        return DeployedResource(lid, res["Type"], "recorded", name, {}, f"stage {name}")

    def _api_gateway_response(self, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> DeployedResource:
        api = self._api(props["RestApiId"], lid)
        api.gateway_responses[props["ResponseType"]] = props
        return DeployedResource(lid, res["Type"], "recorded", _short_id(lid, 6), {}, props["ResponseType"])

    def _finish_apis(self, dep: Deployment) -> None:
        for api in dep.rest_apis.values():
            def full_path(rid: str, seen: tuple[str, ...] = ()) -> str:
                r = api.resources.get(rid)
                if r is None:
                    raise DeployError(f"API {api.logical_id}: resource {rid} has an unknown parent")
                if r.parent_id is None:
                    return "/"
                if rid in seen:
                    raise DeployError(f"API {api.logical_id}: resource cycle")
                parent = full_path(r.parent_id, seen + (rid,))
                return parent.rstrip("/") + "/" + r.path_part

            for rid, r in api.resources.items():
                r.path = full_path(rid)
            for m in api.methods:
                if m.resource_id not in api.resources:
                    raise DeployError(f"{m.logical_id}: ResourceId {m.resource_id} is not a resource of its API")
                if m.authorization_type == "CUSTOM" and m.authorizer_id not in api.authorizers:
                    raise DeployError(f"{m.logical_id}: AuthorizerId {m.authorizer_id} is not an authorizer of its API")
                for arn in (m.integration_function_arn,):
                    if arn and dep.function_by_name_or_arn(arn) is None:
                        raise DeployError(f"{m.logical_id}: integration target {arn} is not a function of this stack")
            if not api.stages:
                api.stages["prod"] = {}


def register_function(fn: DeployedFunction) -> None:
    """What a deploy with `register_functions` does outside moto for each function, as it deploys it:
    local.lambda_runtime's REGISTRY runs the function's source folder in-process."""
    from local.lambda_runtime import REGISTRY, FunctionSpec

    REGISTRY.register(
        FunctionSpec(
            function_name=fn.name, folder=fn.folder, source_dir=fn.source_dir, handler=fn.handler,
            logical_id=fn.logical_id,
        )
    )


def register_functions(dep: Deployment) -> None:
    """The REGISTRY entries a deploy with `register_functions` made of `dep`'s functions, in its order (a deploy
    restored from a snapshot, tests/moto_snapshot.py, registers them so)."""
    for fn in dep.functions.values():
        register_function(fn)


def lambda_arn_from_uri(uri: str) -> str | None:
    """arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations"""
    marker = "/functions/"
    if marker not in uri:
        return None
    tail = uri.split(marker, 1)[1]
    return tail[: -len("/invocations")] if tail.endswith("/invocations") else tail


def substitute_definition(text: str, substitutions: Mapping[str, str], *, source: str) -> str:
    """What CloudFormation does with DefinitionSubstitutions (moto ignores them). Uses the infra
    engineer's checked implementation when present (both ways: no placeholder left, none unused)."""
    try:
        from infra import asl
    except ImportError:  # pragma: no cover - infra/asl.py is part of the repo
        asl = None  # type: ignore[assignment]
    if asl is not None:
        try:
            return asl.substitute(text, substitutions)
        except asl.AslError as exc:
            raise DeployError(f"{source}: {exc}") from exc
    import re

    left = set(re.findall(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}", text)) - set(substitutions)
    if left:
        raise DeployError(f"{source}: placeholders without a substitution: {sorted(left)}")
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    return text


def check_asl_graph(definition: Mapping[str, Any], *, source: str) -> None:
    """moto validates ASL syntax only (a dangling Next passes): check the graph before creating."""
    try:
        from infra import asl
    except ImportError:  # pragma: no cover
        asl = None  # type: ignore[assignment]
    if asl is not None:
        try:
            asl.check_graph(definition, source=source)
        except asl.AslError as exc:
            raise DeployError(str(exc)) from exc
        return
    states = definition.get("States") or {}
    if definition.get("StartAt") not in states:
        raise DeployError(f"{source}: StartAt {definition.get('StartAt')!r} is not a state")
    for name, st in states.items():
        targets = [st.get("Next"), st.get("Default")] + [c.get("Next") for c in st.get("Catch", []) + st.get("Choices", [])]
        for t in targets:
            if t is not None and t not in states:
                raise DeployError(f"{source}: {name} -> {t!r} does not exist")
