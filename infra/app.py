"""CDK app: `python -m infra.app` synthesizes cdk.out/ (also what cdk.json's "app" runs).

Stage config comes from CDK context (cdk.json "context", `-c stage=prod` via the cdk CLI). cdk-nag's
AwsSolutions checks run as an Aspect: an unsuppressed finding fails the synth.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from infra import jsii_env

jsii_env.configure()  # before the first aws_cdk import: picks the Node jsii runs on

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import StageConfig, cdk_json_context  # noqa: E402
from infra.naming import ROOT, STACK_NAME  # noqa: E402
from infra.stack import CcaasStack  # noqa: E402


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[cdk.App, CcaasStack]:
    """The app with its one stack and the cdk-nag aspect. `context` overrides cdk.json's context."""
    merged = {**cdk_json_context(), **(context or {})}
    kwargs: dict[str, Any] = {
        "context": merged,
        # CDK's built-in CloudFormation validation plugin costs 2-10 s per synth and checks what
        # cfn-lint already checks (`make synth` and tests/infra run cfn-lint on the template).
        # CDK_VALIDATION=true turns it back on.
        "builtin_cloud_formation_validation": os.environ.get("CDK_VALIDATION", "").lower() in ("1", "true", "yes"),
    }
    if outdir is not None:
        kwargs["outdir"] = outdir
    elif "CDK_OUTDIR" not in os.environ:  # not run by the cdk CLI: write where the CLI would
        kwargs["outdir"] = str(ROOT / "cdk.out")
    app = cdk.App(**kwargs)
    config = StageConfig.from_context(app.node.try_get_context)
    stack = CcaasStack(
        app,
        STACK_NAME,
        config=config,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
    )
    # cdk-nag v3 is a policy-validation plugin: any unacknowledged finding fails app.synth().
    # write_suppressions_to_cloud_formation keeps an audit trail (reasons) in the template Metadata.
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )
    return app, stack


def main() -> int:
    started = time.perf_counter()
    app, stack = build_app()
    assembly = app.synth()
    template = os.path.relpath(os.path.join(assembly.directory, stack.template_file), os.getcwd())
    print(f"synthesized {template} (stage {stack.config.stage}) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
