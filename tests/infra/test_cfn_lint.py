"""cfn-lint on the synthesized template, as `make synth` runs it (W3005, redundant DependsOn, is noise
in every CDK template). It also validates the inline state machine definition (E3601)."""
from __future__ import annotations

import shutil


def test_cfn_lint_clean(synth, tmp_path):
    from cfnlint.api import ManualArgs, lint_file

    path = tmp_path / "Ccaas.template.json"
    shutil.copyfile(synth.template_path, path)
    matches = lint_file(path, config=ManualArgs(ignore_checks=["W3005"]))
    assert [str(m) for m in matches] == []
