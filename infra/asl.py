"""Pure checks for Amazon States Language files: placeholders and the state graph.

Shared by the CDK app (infra/constructs/workflows.py) and the local runtime, which reads the same
statemachines/*.asl.json files. No CDK (or any third-party) import here on purpose.

Placeholders are `${Name}` tokens (CloudFormation DefinitionSubstitutions syntax), named after
infra.naming (e.g. ${RouteContactFunctionArn}, ${ContactsTableName}).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
_ANY_DOLLAR_BRACE = re.compile(r"\$\{[^}]*\}?")

# States that must say where to go (Next) or that they are the end (End).
_NEEDS_NEXT_OR_END = {"Task", "Pass", "Wait", "Parallel", "Map"}
_TERMINAL = {"Succeed", "Fail"}
_KNOWN_TYPES = _NEEDS_NEXT_OR_END | _TERMINAL | {"Choice"}


class AslError(ValueError):
    """An ASL file does not match its substitutions, or its state graph is broken."""


def find_placeholders(text: str) -> set[str]:
    """Every ${Name} in the text. Raises on a malformed `${...}` (e.g. `${Bad-Name}` or `${}`)."""
    names = set(PLACEHOLDER.findall(text))
    malformed = sorted(
        m.group(0) for m in _ANY_DOLLAR_BRACE.finditer(text) if not PLACEHOLDER.fullmatch(m.group(0))
    )
    if malformed:
        raise AslError(f"malformed placeholder(s) {malformed}: expected ${{Name}} with Name = [A-Za-z][A-Za-z0-9_]*")
    return names


def check_substitutions(placeholders: Iterable[str], substitutions: Iterable[str], *, source: str = "ASL") -> None:
    """Both ways: every placeholder has a substitution and every substitution is used."""
    used, given = set(placeholders), set(substitutions)
    missing, unused = sorted(used - given), sorted(given - used)
    problems = []
    if missing:
        problems.append(f"placeholders without a substitution: {', '.join('${' + m + '}' for m in missing)}")
    if unused:
        problems.append(f"substitutions not used by the ASL: {', '.join(unused)}")
    if problems:
        raise AslError(f"{source}: " + "; ".join(problems))


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace ${Name} with values[Name] (what CloudFormation does with DefinitionSubstitutions).
    Checks the names match first, so nothing is silently left behind."""
    check_substitutions(find_placeholders(text), values.keys())
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def _targets(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, target state name) for every transition out of one state."""
    out: list[tuple[str, str]] = []
    if "Next" in state:
        out.append(("Next", state["Next"]))
    if "Default" in state:
        out.append(("Default", state["Default"]))
    for i, choice in enumerate(state.get("Choices", []) or []):
        if "Next" in choice:
            out.append((f"Choices[{i}].Next", choice["Next"]))
    for i, catcher in enumerate(state.get("Catch", []) or []):
        if "Next" in catcher:
            out.append((f"Catch[{i}].Next", catcher["Next"]))
    return out


def _check_scope(machine: Mapping[str, Any], where: str, errors: list[str]) -> None:
    states = machine.get("States")
    start = machine.get("StartAt")
    if not isinstance(states, Mapping) or not states:
        errors.append(f"{where}: no States")
        return
    if start not in states:
        errors.append(f"{where}: StartAt {start!r} is not a state")

    for name, state in states.items():
        here = f"{where}.{name}"
        kind = state.get("Type")
        if kind not in _KNOWN_TYPES:
            errors.append(f"{here}: unknown Type {kind!r}")
        for label, target in _targets(state):
            if target not in states:
                errors.append(f"{here}: {label} -> {target!r} does not exist")
        if kind in _NEEDS_NEXT_OR_END:
            has_next, has_end = "Next" in state, bool(state.get("End"))
            if has_next == has_end:
                errors.append(f"{here}: needs exactly one of Next or End")
        if kind == "Choice" and not state.get("Choices"):
            errors.append(f"{here}: Choice without Choices")
        if kind in _TERMINAL and ("Next" in state or "End" in state):
            errors.append(f"{here}: a {kind} state takes neither Next nor End")
        if kind == "Parallel":
            for i, branch in enumerate(state.get("Branches", []) or []):
                _check_scope(branch, f"{here}.Branches[{i}]", errors)
        if kind == "Map":
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner is None:
                errors.append(f"{here}: Map without ItemProcessor/Iterator")
            else:
                _check_scope(inner, f"{here}.ItemProcessor", errors)

    if start in states:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name in seen or name not in states:
                continue
            seen.add(name)
            todo.extend(target for _, target in _targets(states[name]))
        unreachable = sorted(set(states) - seen)
        if unreachable:
            errors.append(f"{where}: unreachable state(s) {unreachable}")


def check_graph(definition: Mapping[str, Any], *, source: str = "ASL") -> None:
    """StartAt exists; every Next/Default/Choices[].Next/Catch[].Next target exists; non-terminal
    states have exactly one of Next/End; no unreachable state. Recurses into Parallel branches and
    Map item processors (each its own scope). Raises AslError listing every problem found."""
    errors: list[str] = []
    _check_scope(definition, "States", errors)
    if errors:
        raise AslError(f"{source}: broken state graph:\n  " + "\n  ".join(errors))


_OWN_ARN = "$$.StateMachine.Id"  # the context object's ARN of the running state machine


def _all_states(scope: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for name, state in (scope.get("States") or {}).items():
        yield name, state
        for branch in state.get("Branches", []) or []:
            yield from _all_states(branch)
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner:
            yield from _all_states(inner)


def starts_itself(definition: Mapping[str, Any], *, source: str = "ASL") -> bool:
    """Whether a Task starts a new execution of this very state machine (`"StateMachineArn.$": "$$.StateMachine.Id"`:
    a workflow that continues as a new execution). Its role then needs states:StartExecution on its own ARN, which
    the infra grants itself (infra.constructs.workflows). Such a start must name the execution: a retried start of
    an unnamed one would run the workflow twice."""
    found = False
    for name, state in _all_states(definition):
        params = state.get("Parameters") or {}
        if state.get("Type") != "Task" or params.get("StateMachineArn.$") != _OWN_ARN:
            continue
        if not ("Name" in params or "Name.$" in params):
            raise AslError(f"{source}: {name} starts this state machine again without naming the execution")
        found = True
    return found


EXPRESS_LIMIT_S = 300  # an Express execution is stopped (ExecutionsTimedOut) after 5 minutes
# Errors a retried attempt may have spent its whole time on before failing: the task's timeout.
_TIMEOUT_ERRORS = {"Sandbox.Timedout", "States.Timeout", "States.TaskFailed", "States.ALL"}


def _retry_waits_s(retrier: Mapping[str, Any]) -> float:
    """Seconds a retrier waits when all its attempts are used: IntervalSeconds x BackoffRate^n, each capped
    by MaxDelaySeconds (the service's defaults: 1 s, 3 attempts, rate 2)."""
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return sum(min(interval * rate**n, cap) for n in range(retrier.get("MaxAttempts", 3)))


def _task_worst_case_s(name: str, state: Mapping[str, Any], timeouts_s: Mapping[str, float]) -> float:
    function = str(state.get("Parameters", {}).get("FunctionName", "")).strip("${}")
    limits = [t for t in (state.get("TimeoutSeconds"), timeouts_s.get(function)) if t is not None]
    if not limits:
        raise AslError(f"{name}: no timeout known (neither TimeoutSeconds nor the function's timeout)")
    retriers = state.get("Retry", []) or []
    whole_runs = 1 + sum(r.get("MaxAttempts", 3) for r in retriers if _TIMEOUT_ERRORS & set(r["ErrorEquals"]))
    return whole_runs * min(limits) + sum(_retry_waits_s(r) for r in retriers)


def worst_case_s(definition: Mapping[str, Any], timeouts_s: Mapping[str, float]) -> float:
    """Seconds the longest path from StartAt (Catch edges included) can take: each Task runs its whole timeout
    (its TimeoutSeconds, or `timeouts_s` by the FunctionName placeholder, e.g. RecordHistoryFunctionArn) once
    and once more per retry of a timeout, and waits out every retrier in full; Wait states add their Seconds.
    Other retried errors (a throttle, a refused export) are counted by their waits: the function gives up on
    them within its own retries, not at its timeout. A loop has no worst case: AslError."""
    states = definition["States"]

    def longest(name: str, path: tuple[str, ...]) -> float:
        if name in path:
            raise AslError(f"loop through {name!r}: no worst case")
        state = states[name]
        kind = state.get("Type")
        if kind == "Task":
            own = _task_worst_case_s(name, state, timeouts_s)
        elif kind in ("Parallel", "Map"):
            raise AslError(f"{name}: the worst case of a {kind} state is not modelled")
        else:
            own = state.get("Seconds", 0) if kind == "Wait" else 0
        return own + max((longest(t, (*path, name)) for _, t in _targets(state)), default=0)

    return longest(definition["StartAt"], ())


def check_express_budget(definition: Mapping[str, Any], timeouts_s: Mapping[str, float], *, source: str = "ASL",
                         limit_s: float = EXPRESS_LIMIT_S) -> None:
    """An Express workflow's worst case (worst_case_s) must end before the service stops it: past the limit
    the execution is killed mid-retry instead of failing or succeeding on its own terms."""
    worst = worst_case_s(definition, timeouts_s)
    if worst > limit_s:
        raise AslError(f"{source}: worst case {worst:g} s (retries and waits included) is over the {limit_s:g} s an "
                       "Express execution may run: retry timeouts less, or shorten waits")


def load(path: str | Path, substitution_names: Iterable[str]) -> str:
    """Read an ASL file, check it parses, its graph is sound, and its placeholders are exactly
    `substitution_names`. Returns the raw text (placeholders intact, for DefinitionSubstitutions)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AslError(f"{path.name}: not valid JSON: {exc}") from exc
    check_graph(definition, source=path.name)
    check_substitutions(find_placeholders(text), substitution_names, source=path.name)
    return text
