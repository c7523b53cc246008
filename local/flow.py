"""Play Amazon Connect against a running local backend: send the contact-flow Lambda the event an
"Invoke AWS Lambda function" block sends, from the demo tenant's (seeded) Connect instance, and print
the flat reply the flow would read as $.External.<key>.

    .venv/bin/python -m local.flow --endpoint http://127.0.0.1:<moto port> identify
    .venv/bin/python -m local.flow --endpoint ... route queue_id=sales
    .venv/bin/python -m local.flow --endpoint ... --phone +14155550100 callback queue_id=support
    .venv/bin/python -m local.flow --endpoint ... --channel CHAT --subtype connect:SMS log_event milestone=menu_choice value=2

`make run` prints the endpoint. The call goes through the Lambda Invoke API of the embedded AWS (as
Connect calls Lambda), so it runs the deployed function with its own environment and grants.

Exit codes: 0 the function answered status ok, 1 it answered otherwise or the call failed (an endpoint
that cannot be reached, no contact-flow function there), 2 usage error. Errors are one line on stderr
(local/cli.py); --debug prints the traceback too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import Any, TextIO

from local.cli import Failure, Parser, UsageError, run
from local.seed import DEMO_CONNECT_INSTANCE_ARN

PROG = "python -m local.flow"

FOLDER = "connect_flow"
DEMO_CALLER = "+14155550101"  # the demo tenant's seeded gold customer


def flow_event(
    parameters: dict[str, str],
    *,
    contact_id: str | None = None,
    phone: str | None = DEMO_CALLER,
    channel: str = "VOICE",
    subtype: str | None = None,
    queue: str | None = "sales",
    instance_arn: str = DEMO_CONNECT_INSTANCE_ARN,
) -> dict[str, Any]:
    """A contact-flow event as Amazon Connect sends it (fields it sends that we do not read included)."""
    contact_id = contact_id or str(uuid.uuid4())
    segment = {"connect:Subtype": {"ValueString": subtype}} if subtype else {}
    return {"Name": "ContactFlowEvent", "Details": {"Parameters": parameters, "ContactData": {
        "Attributes": {"greeting_played": "true"}, "Channel": channel, "ContactId": contact_id,
        "InitialContactId": contact_id, "PreviousContactId": contact_id, "InitiationMethod": "INBOUND",
        "InstanceARN": instance_arn, "LanguageCode": "en-US", "MediaStreams": {"Customer": {"Audio": None}},
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"} if phone else None,
        "SystemEndpoint": {"Address": "+18005550199", "Type": "TELEPHONE_NUMBER"},
        "Queue": {"ARN": f"{instance_arn}/queue/{queue}", "Name": queue} if queue else None,
        "SegmentAttributes": segment,
    }}}  # fmt: skip


def function_name(lambda_client: Any) -> str:
    """The deployed contact-flow function (its physical name is the stack's: found by its folder)."""
    marker = "".join(part.title() for part in FOLDER.split("_"))  # ConnectFlow
    for page in lambda_client.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            if marker in fn["FunctionName"]:
                return fn["FunctionName"]
    raise Failure(f"no {marker} function at this endpoint: is `make run` running?")


def invoke(lambda_client: Any, event: dict[str, Any]) -> dict[str, str]:
    response = lambda_client.invoke(FunctionName=function_name(lambda_client), Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read())


def _parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"parameters are key=value, got {pair!r} (--help for usage)")
        out[key] = value
    return out


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="the embedded AWS (make run prints it)")
    p.add_argument("--phone", default=DEMO_CALLER, help="the caller's number (CustomerEndpoint); '' for none")
    p.add_argument("--channel", default="VOICE")
    p.add_argument("--subtype", default=None, help="chat subtype, e.g. connect:SMS")
    p.add_argument("--queue", default="sales", help="the contact's current Connect queue name; '' for none")
    p.add_argument("--contact-id", default=None, help="Connect's ContactId (default: a new one)")
    p.add_argument("action", help="identify, route, wait_info, hours, staffing, callback, log_event")
    p.add_argument("parameters", nargs="*", help="more function input parameters, key=value")
    args = p.parse_args(argv)
    if not args.endpoint:
        p.error("--endpoint (or AWS_ENDPOINT_URL) is required")
    return run(PROG, lambda: _main(args, out or sys.stdout), debug=args.debug)


def _main(args: argparse.Namespace, out: TextIO) -> int:
    event = flow_event({"action": args.action, **_parameters(args.parameters)}, contact_id=args.contact_id,
                       phone=args.phone or None, channel=args.channel, subtype=args.subtype, queue=args.queue or None)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    # One attempt: a retried Invoke would play the flow's call twice, and a wrong endpoint fails at once.
    try:
        client = boto3.client("lambda", endpoint_url=args.endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing",
                              config=Config(connect_timeout=5, retries={"total_max_attempts": 1}))
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise UsageError(f"--endpoint {args.endpoint!r}: {exc}") from exc
    try:
        reply = invoke(client, event)
    except EndpointConnectionError as exc:
        raise Failure(f"cannot reach {args.endpoint}: is `make run` running?") from exc
    except ClientError as exc:
        error = exc.response.get("Error") or {}
        raise Failure(f"Lambda at {args.endpoint} refused ({error.get('Code', '?')}): "
                      f"{error.get('Message') or exc}") from exc
    except BotoCoreError as exc:
        raise Failure(f"Lambda at {args.endpoint}: {exc}") from exc
    json.dump(reply, out, indent=2, sort_keys=True)
    out.write("\n")
    return 0 if reply.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
