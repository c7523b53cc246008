"""The CI gate refuses a suite with no journeys (outside probe 37: `python -m local.journeys run` on `{"journeys": []}`
printed "0/0 journeys passed" and exited 0, so an emptied or mis-pointed spec passed every change): exit 2, one line
naming the file, before any runtime starts."""
from __future__ import annotations

import json

import pytest

from local import journeys as cli


@pytest.mark.parametrize("document", [{"journeys": []}, [], {}])
def test_a_spec_without_journeys_is_a_usage_error_not_a_pass(tmp_path, capsys, document):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(document))
    for command in (["run", "--spec", str(empty)],
                    ["load", "--spec", str(empty), "--rate", "1", "--count", "1", "--max-seconds", "1"]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err
        assert err.strip() == f"python -m local.journeys: error: spec {empty}: no journeys to run"
        assert "starting the local runtime" not in err
