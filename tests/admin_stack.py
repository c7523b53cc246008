"""What the admin tool's tests share: running the CLI in process, and a moto CloudFormation stack built from
the synthesized template's real table outputs (so a renamed output breaks the tests)."""
from __future__ import annotations

import io
import json
from typing import Any

from infra import admin
from tests.cli_main import exit_code


def run_admin(*argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m infra.admin ARGV`, in process."""
    out, err = io.StringIO(), io.StringIO()
    code = exit_code(lambda: admin.main(list(argv), out=out, err=err))  # usage errors exit
    return code, out.getvalue(), err.getvalue()


def table_outputs(synth: Any) -> dict[str, dict[str, Any]]:
    """The template's outputs that name a DynamoDB table."""
    return {k: v for k, v in synth.json["Outputs"].items()
            if synth.resources.get(v["Value"].get("Ref", ""), {}).get("Type") == "AWS::DynamoDB::Table"}  # fmt: skip


def fake_stack_template(synth: Any, outputs: dict[str, dict[str, Any]]) -> str:
    """The real tables (keys and indexes only: what moto's CloudFormation takes) and the given outputs."""
    resources = {}
    for out in outputs.values():
        lid = out["Value"].get("Ref") if isinstance(out["Value"], dict) else None
        if lid is None:
            continue  # a literal output (e.g. a pool id made in moto)
        props = synth.resources[lid]["Properties"]
        kept = {k: props[k] for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes") if k in props}
        resources[lid] = {"Type": "AWS::DynamoDB::Table", "Properties": {**kept, "BillingMode": "PAY_PER_REQUEST"}}
    return json.dumps({"Resources": resources, "Outputs": outputs})
