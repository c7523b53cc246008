"""Synthesize the CDK app ONCE per test session (per xdist worker) and share the template.

Every test in tests/infra is marked `slow`; with `pytest -n 2 --dist loadgroup` the directory is one xdist
work unit (tests/conftest.py: work_unit), so one worker synthesizes once and runs them all.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import jsii_env  # noqa: F401  (before aws_cdk: which Node jsii runs on)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every item of the session: one resolve() per file, not per item
    # (4,000+ items, ~0.7 s of every xdist worker's collection).
    here: dict[Path, bool] = {}
    for item in items:
        inside = here.get(item.path)
        if inside is None:
            inside = here[item.path] = HERE in Path(str(item.path)).resolve().parents
        if inside:
            item.add_marker(pytest.mark.slow)


class Synth:
    """The synthesized app: construct tree, assembly directory, and the template (parsed)."""

    def __init__(self, outdir: Path) -> None:
        from aws_cdk.assertions import Template

        from infra.app import build_app

        self.app, self.stack = build_app(outdir=str(outdir))
        self.assembly = self.app.synth()  # cdk-nag (a validation plugin) fails this on any finding
        self.outdir = Path(self.assembly.directory)
        self.template = Template.from_stack(self.stack)  # reuses the synthesis above
        self.template_path = self.outdir / self.stack.template_file
        self.json: dict[str, Any] = json.loads(self.template_path.read_text())

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.json["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L2's CloudFormation resource (or of a Cfn resource)."""
        cfn = getattr(construct.node, "default_child", None) or construct
        return self.stack.resolve(self.stack.get_logical_id(cfn))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    # Never into cdk.out/, what the local runtimes deploy: only `python -m infra.app` writes it. (Tried: the tier's
    # synthesis written there once left a template whose alarms listed their actions twice.)
    return Synth(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(synth: Synth):
    """aws_cdk.assertions.Template of the Ccaas stack."""
    return synth.template
