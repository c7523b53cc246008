"""Stage configuration, read from CDK context (cdk.json "context", overridable with `-c key=value`)."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.naming import ROOT

PROD_STAGES = frozenset({"prod"})
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


@dataclass(frozen=True)
class StageConfig:
    stage: str
    tenant_time_zone: str = "UTC"
    connect_instance_arns: tuple[str, ...] = ()
    # Tenants may pick Amazon Comprehend for sentiment (analytics setting sentiment.engine); off: no grant.
    comprehend_sentiment: bool = False
    alarm_emails: tuple[str, ...] = ()  # subscribed to the alarm topic (infra/constructs/notifications.py)
    # X-Ray active tracing on the stream consumers (off: see FunctionSpec.stream_consumer). A batch arrives
    # with no trace header, so Lambda samples it at X-Ray's default rule (the first request each second, 5 %
    # of the rest; not configurable), which at a contact center's rates records nearly every batch.
    trace_stream_consumers: bool = False

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ValueError(f"stage {self.stage!r} must match {_STAGE.pattern}")

    @property
    def is_prod(self) -> bool:
        return self.stage in PROD_STAGES

    @classmethod
    def from_context(cls, get: Any) -> StageConfig:
        """`get` is `node.try_get_context` (or any key -> value callable)."""
        arns = get("connectInstanceArns") or []
        if isinstance(arns, str):  # `-c connectInstanceArns=...` arrives as a string
            arns = json.loads(arns) if arns.strip().startswith("[") else [a for a in arns.split(",") if a]
        return cls(
            stage=str(get("stage") or "dev"),
            tenant_time_zone=str(get("tenantTimeZone") or "UTC"),
            connect_instance_arns=tuple(str(a) for a in arns),
            comprehend_sentiment=str(get("comprehendSentiment") or "false").lower() in ("1", "true", "yes"),
            alarm_emails=alarm_emails(get("alarmEmails")),
            trace_stream_consumers=str(get("traceStreamConsumers") or "false").lower() in ("1", "true", "yes"),
        )


def cdk_json_context() -> Mapping[str, Any]:
    """The "context" block of cdk.json. The cdk CLI passes it to the app itself; `python -m infra.app`
    has no CLI in front of it, so the app reads it (CLI-provided context still wins)."""
    path = ROOT / "cdk.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("context", {})


def alarm_emails(value: object) -> tuple[str, ...]:
    """`-c alarmEmails=a@x.com,b@y.com` (or a JSON list in cdk.json) -> the addresses; refuses what is not one."""
    if not value:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    emails = tuple(str(e).strip() for e in items if str(e).strip())
    for email in emails:
        if email.count("@") != 1 or " " in email or "." not in email.split("@")[1]:
            raise ValueError(f"alarmEmails: {email!r} is not an e-mail address")
    return emails
