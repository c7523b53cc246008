"""Calling the real handlers the way Lambda does: each functions/<folder>/handler.py imported as its
own module, invoked with a Lambda-like context."""
from __future__ import annotations

import base64
import importlib.util
import uuid
from collections.abc import Iterable
from types import ModuleType, SimpleNamespace

from infra.naming import FUNCTIONS_DIR


def load_module(folder: str, prefix: str = "handler") -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{prefix}_{folder}", FUNCTIONS_DIR / folder / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler(folder: str):
    return load_module(folder).lambda_handler


def context(name: str = "fn", remaining_ms: int = 10_000) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name, memory_limit_in_mb=512, aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        get_remaining_time_in_millis=lambda: remaining_ms,
    )


def kinesis_event(payloads: Iterable[bytes], *, shard: str = "shardId-000000000000", first: int = 0,
                  stream: str = "s") -> dict:
    """A Kinesis event source mapping's Lambda event, one record per payload, sequence numbers from `first`."""
    records = []
    for i, data in enumerate(payloads, start=first):
        seq = f"4959{i:020d}"
        records.append({
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq,
                        "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1764065700.0},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{seq}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/r",
            "awsRegion": "us-east-1", "eventSourceARN": f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}",
        })  # fmt: skip
    return {"Records": records}
