"""The README's hand walkthrough ("Trying the API by hand"), extracted from the README and run in bash
against a local runtime started as `SIMULATE=0 make run` starts it, from the export line its banner prints:
the README cannot drift from the API again."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    block = re.search(r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S)
    assert block, "the README's walkthrough block (between the walkthrough markers) is missing"
    return block.group(1)


def test_the_walkthrough_runs_as_pasted_from_the_banners_export_line(runtime) -> None:
    from local.__main__ import banner, walkthrough_exports

    runtime.timers_for_typing()
    shown = banner(runtime)
    exports = walkthrough_exports(runtime)
    assert exports in shown and "Timers:       for typing" in shown
    variables = dict(pair.split("=", 1) for pair in shlex.split(exports)[1:])
    result = subprocess.run(["bash", "-c", walkthrough()], capture_output=True, text=True, timeout=120,
                            env={"PATH": os.environ["PATH"], **variables})
    out = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n{out}\n{result.stderr}"
    contact = re.search(r"^contact (\S+)$", out, re.M).group(1)
    assert re.search(r"^(INITIATED|QUEUED) position (1|-)$", out, re.M), out  # INITIATED: its workflow starts
    assert re.search(rf"^{contact} journey:", out, re.M), out  # the offer is that contact
    for state in ("CONNECTED waited", "ACW", "COMPLETED"):
        assert re.search(rf"^{state}", out, re.M), (state, out)
    assert re.search(r"^[1-9]\d* answered today; SL", out, re.M) and "error" not in out.lower(), out


def test_typing_timers_are_long_enough_for_a_person():
    from ccaas.domain.routing_engine import RoutingPolicy
    from local.seed import TYPING_OFFER_TIMEOUT_S, TYPING_QUEUE_WAIT_S

    assert TYPING_OFFER_TIMEOUT_S >= 10 * RoutingPolicy().reservation.timeout_s and TYPING_QUEUE_WAIT_S >= 900
