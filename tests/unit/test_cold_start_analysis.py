"""Cold start of the analysis and contact-flow handlers, guarded without timing (bench/bench_coldstart.py
measures it): their import compiles none of the transcript detectors' regular expressions and loads none of
the modules they import on the path that uses them (tests/unit/test_cold_start.py guards every handler's
heavy features; this file the parts made lazy for these two)."""
from __future__ import annotations

import json
import re

import pytest

from ccaas.domain.analytics import patterns
from ccaas.domain.analytics.patterns import lazy_regex
from tests.unit.test_cold_start import FUNCTIONS_DIR, _run, lambda_environment

# In a fresh process: import the handler as Lambda does, then list the loaded modules, the analytics modules'
# module-level patterns already compiled (re.Pattern) and those declared lazily but compiled.
_PROBE = r"""
import json, re, sys
sys.path.insert(0, sys.argv[1])
import handler
modules = sorted(sys.modules)
lazy_type = getattr(sys.modules.get("ccaas.domain.analytics.patterns"), "_LazyRegex", ())
compiled, lazy, lazy_compiled = [], 0, []
for name, module in list(sys.modules.items()):
    if name.startswith("ccaas.domain.analytics."):
        for attribute, value in vars(module).items():
            if isinstance(value, re.Pattern):
                compiled.append(f"{name}.{attribute}")
            elif isinstance(value, lazy_type):
                lazy += 1
                if "search" in vars(value):
                    lazy_compiled.append(f"{name}.{attribute}")
print(json.dumps({"modules": modules, "compiled": compiled, "lazy": lazy, "lazy_compiled": lazy_compiled}))
"""

# Imported by the functions that use them, not by the handler's import.
LAZY_MODULES = {
    # the guidance and history use-cases (and CTR settings under history) are reached by storing the analysis;
    # RE2 compiles tenant patterns only; the API's evaluation and insight views stay with the API
    "analyze_contact": ("re2", "ccaas.usecases.guidance", "ccaas.domain.guidance", "ccaas.usecases.history",
                        "ccaas.domain.connect_flow", "ccaas.usecases.lake", "ccaas.domain.insights"),
    # the tenant of a Connect instance is read from the config port; history only by log_event and callback,
    # the wait use-cases (live metrics under them) by the actions that answer with a wait or the hours
    "connect_flow": ("ccaas.usecases.history", "ccaas.domain.history", "ccaas.domain.kpis", "ccaas.usecases.waiting",
                     "ccaas.usecases.metrics", "ccaas.domain.live_metrics", "ccaas.domain.analytics", "re2"),
}


def _probe(folder: str) -> dict:
    return json.loads(_run(_PROBE, str(FUNCTIONS_DIR / folder), env=lambda_environment(folder)))


@pytest.mark.parametrize("folder", sorted(LAZY_MODULES))
def test_handler_import_leaves_lazy_modules_unloaded(folder: str):
    loaded = _probe(folder)["modules"]
    early = [m for m in loaded if any(m == lazy or m.startswith(lazy + ".") for lazy in LAZY_MODULES[folder])]
    assert early == [], f"{folder} imports {early} at cold start"


def test_analysis_import_compiles_no_detector_pattern():
    found = _probe("analyze_contact")
    assert "ccaas.domain.analytics.redaction" in found["modules"]  # the detectors are imported...
    assert found["compiled"] == []  # ...but none of their patterns is compiled with re.compile at import
    assert found["lazy"] >= 15 and found["lazy_compiled"] == []


def test_lazy_regex_compiles_on_first_use_and_matches_as_re():
    source = r"(?P<digits>\d+)-(\w+)"
    lazy, eager = lazy_regex(source, re.IGNORECASE), re.compile(source, re.IGNORECASE)
    assert "search" not in vars(lazy)
    text = "ab 12-x 345-yz"
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert "search" in vars(lazy)  # compiled once; its methods are now plain attributes
    assert lazy.search(text, 7).group("digits") == eager.search(text, 7).group("digits") == "345"
    assert lazy.match(text, 3, 7).groups() == ("12", "x")
    assert lazy.sub("#", text) == eager.sub("#", text) and lazy.findall(text) == eager.findall(text)
    assert lazy.fullmatch("9-z") is not None and lazy.split(text) == eager.split(text)
    assert (lazy.pattern, lazy.flags, lazy.groups, dict(lazy.groupindex)) == (
        eager.pattern, eager.flags, eager.groups, dict(eager.groupindex))


def test_lazy_regex_reports_a_bad_pattern_at_first_use():
    broken = lazy_regex(r"(unclosed")
    with pytest.raises(re.error):
        broken.search("x")
    with pytest.raises(AttributeError):
        broken._not_a_pattern_attribute  # noqa: B018 - private names are not forwarded (no recursion)


def test_re2_is_imported_with_the_first_tenant_pattern():
    code = ("import json, sys; from ccaas.domain.analytics import patterns; before = 're2' in sys.modules; "
            "patterns.compile_tenant_pattern('a+b'); print(json.dumps([before, 're2' in sys.modules]))")
    assert json.loads(_run(code, env=lambda_environment("analyze_contact"))) == [False, True]
    with pytest.raises(ValueError, match="does not compile with RE2"):
        patterns.compile_tenant_pattern(r"(a)\1")
