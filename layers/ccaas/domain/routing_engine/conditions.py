"""Skill conditions of a routing step: a small boolean tree over agent skills (pure).

JSON forms (what a tenant writes in a policy file), nestable:
    {"skill": "product:billing", "min": 4}         agent has the skill at proficiency ≥ 4 (min 1..5)
    {"all": [c1, c2, ...]}                         every child holds ("and")
    {"any": [c1, c2, ...]}                         at least one child holds ("or")
    {"not": c}                                     the child does not hold
or the same as a string, e.g. "product:billing>=4 and (language:es>=3 or not vip)"; a skill without
">=" means ≥ 1. `and` binds tighter than `or`; `&`, `|`, `!` are accepted too. A skill "name:value" (an
attribute and its value in Connect's routing criteria) has a value: "language:" is refused in a condition a
tenant writes (`WrittenCondition`, vocabulary.skill_with_value: the rule queues and agents apply too; a policy
stored before that rule still loads, validated with vocabulary.STORED_DOCUMENT). `Condition` itself is the
shape only: a routing plan's conditions are built from a stored queue's skills, which may predate the rule.

Bounds (a policy is stored as one item and every condition is evaluated per candidate agent): a text
form is at most MAX_CONDITION_CHARS characters; a condition, in either form, is nested at most
MAX_CONDITION_DEPTH levels (a skill leaf is one level, each `all`/`any`/`not` around it one more) and
has at most MAX_CONDITION_NODES nodes (leaves and operators). Anything beyond is a ValueError naming
the limit, checked before any recursion, never a RecursionError.

Besides matching, a condition gives a *proficiency fit* in [0, 1] used by agent scoring: a skill
leaf is level / 5, `all` the mean of its children, `any` the best matching child, `not` contributes
nothing (it excludes agents, it does not rank them). None means "no skill to rank on".
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Int, is_stored, shown_value, skill_with_value

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationInfo

__all__ = [
    "MAX_CONDITION_CHARS",
    "MAX_CONDITION_DEPTH",
    "MAX_CONDITION_NODES",
    "NAME_PATTERN",
    "AllOf",
    "AnyOf",
    "Condition",
    "NotOf",
    "SkillAtLeast",
    "WrittenCondition",
    "fit",
    "matches",
    "parse_condition",
    "positive_leaves",
    "raise_floor",
    "render",
    "shape",
]


# The id pattern of the whole model (queue, agent, skill, segment names); kept here, the lowest module.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_CONDITION_CHARS = 512
MAX_CONDITION_DEPTH = 10
MAX_CONDITION_NODES = 64


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class SkillAtLeast(_Node):
    skill: str = Field(pattern=NAME_PATTERN)
    min: Int = Field(default=1, ge=1, le=5)


class AllOf(_Node):
    all: tuple[Condition, ...] = Field(min_length=1, max_length=MAX_CONDITION_NODES)


class AnyOf(_Node):
    any: tuple[Condition, ...] = Field(min_length=1, max_length=MAX_CONDITION_NODES)


class NotOf(_Node):
    not_: Condition = Field(alias="not")


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((k for k in ("skill", "all", "any", "not") if k in value), None)
    return {SkillAtLeast: "skill", AllOf: "all", AnyOf: "any", NotOf: "not"}.get(type(value))


def _raw_shape_ok(value: Any) -> None:
    """Reject a JSON-form condition nested too deep or too large before pydantic descends into it
    (iterative: a 10,000-level input costs MAX_CONDITION_NODES steps, not a RecursionError)."""
    stack = [(value, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _Node):
            continue  # already a validated tree: checked by _bounded
        if depth > MAX_CONDITION_DEPTH:
            raise ValueError(f"skill condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        nodes += 1
        if nodes > MAX_CONDITION_NODES:
            raise ValueError(f"skill condition has more than {MAX_CONDITION_NODES} terms")
        if not isinstance(node, dict):
            continue  # a leaf, a text child (parsed with its own bounds) or a type error for pydantic
        for key in ("all", "any"):
            children = node.get(key)
            if isinstance(children, (list, tuple)):
                if len(children) > MAX_CONDITION_NODES:
                    raise ValueError(f"skill condition has more than {MAX_CONDITION_NODES} terms")
                stack.extend((child, depth + 1) for child in children)
        if "not" in node:
            stack.append((node["not"], depth + 1))


def _from_text(value: Any) -> Any:
    if isinstance(value, str):
        return parse_condition(value)
    _raw_shape_ok(value)
    return value


def shape(cond: Node) -> tuple[int, int]:
    """(depth, nodes) of a validated condition (a leaf: (1, 1))."""
    if isinstance(cond, SkillAtLeast):
        return 1, 1
    children = (cond.not_,) if isinstance(cond, NotOf) else cond.all if isinstance(cond, AllOf) else cond.any
    depth, nodes = 0, 1
    for child in children:
        d, n = shape(child)
        depth, nodes = max(depth, d), nodes + n
    return depth + 1, nodes


def _bounded(cond: Node) -> Node:
    """The whole tree within the bounds (text children parsed separately may have made it bigger)."""
    depth, nodes = shape(cond)
    if depth > MAX_CONDITION_DEPTH:
        raise ValueError(f"skill condition nested deeper than {MAX_CONDITION_DEPTH} levels")
    if nodes > MAX_CONDITION_NODES:
        raise ValueError(f"skill condition has more than {MAX_CONDITION_NODES} terms")
    return cond


def _valued(cond: Node, info: ValidationInfo) -> Node:
    """No skill "name:" without its value (vocabulary.skill_with_value). A bound added later: a policy stored
    before it still loads (vocabulary.STORED_DOCUMENT)."""
    if not is_stored(info.context):
        for skill in _skills(cond):
            skill_with_value(skill)
    return cond


def _skills(cond: Node) -> Iterator[str]:
    """Every skill a condition names, negated ones too (iterative; the tree is already bounded)."""
    stack = [cond]
    while stack:
        node = stack.pop()
        if isinstance(node, SkillAtLeast):
            yield node.skill
        elif isinstance(node, NotOf):
            stack.append(node.not_)
        else:
            stack.extend(node.all if isinstance(node, AllOf) else node.any)


Condition = Annotated[
    Union[
        Annotated[SkillAtLeast, Tag("skill")],
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotOf, Tag("not")],
    ],
    Discriminator(_kind),
    BeforeValidator(_from_text),
    AfterValidator(_bounded),
]
# A condition as a tenant writes it (a routing policy's steps): every skill it names that is "name:value" has its
# value. Only here, on the whole tree: a routing plan or an `all` made from a queue's stored required skills is
# never refused for one written before the rule (that refusal failed every routing decision of the queue).
WrittenCondition = Annotated[Condition, AfterValidator(_valued)]

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()

Node = SkillAtLeast | AllOf | AnyOf | NotOf


def matches(cond: Node | None, skills: Mapping[str, int]) -> bool:
    if cond is None:
        return True
    kind = type(cond)
    if kind is SkillAtLeast:
        return skills.get(cond.skill, 0) >= cond.min
    if kind is AllOf:
        return all(matches(c, skills) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(matches(c, skills) for c in cond.any)
    return not matches(cond.not_, skills)


def fit(cond: Node | None, skills: Mapping[str, int]) -> float | None:
    """Proficiency fit in [0, 1] (module docstring); None when the condition names no skill to rank on."""
    if cond is None or isinstance(cond, NotOf):
        return None
    if isinstance(cond, SkillAtLeast):
        return skills.get(cond.skill, 0) / 5.0
    if isinstance(cond, AllOf):
        parts = [f for f in (fit(c, skills) for c in cond.all) if f is not None]
        return sum(parts) / len(parts) if parts else None
    parts = [f for c in cond.any if matches(c, skills) and (f := fit(c, skills)) is not None]
    if parts:
        return max(parts)
    others = [f for f in (fit(c, skills) for c in cond.any) if f is not None]
    return max(others) if others else None


def positive_leaves(cond: Node | None) -> Iterator[SkillAtLeast]:
    """Skill leaves not under a `not` (the skills an agent must or may have)."""
    if cond is None or isinstance(cond, NotOf):
        return
    if isinstance(cond, SkillAtLeast):
        yield cond
        return
    for child in cond.all if isinstance(cond, AllOf) else cond.any:
        yield from positive_leaves(child)


def raise_floor(cond: Node, level: int) -> Node:
    """The same condition with every positive skill leaf requiring at least `level` (best agents first)."""
    if isinstance(cond, SkillAtLeast):
        return cond if cond.min >= level else SkillAtLeast(skill=cond.skill, min=level)
    if isinstance(cond, AllOf):
        return AllOf(all=tuple(raise_floor(c, level) for c in cond.all))
    if isinstance(cond, AnyOf):
        return AnyOf(any=tuple(raise_floor(c, level) for c in cond.any))
    return cond


def render(cond: Node | None) -> str:
    """Compact text form (parse_condition reads it back)."""
    if cond is None:
        return "any agent"
    if isinstance(cond, SkillAtLeast):
        return cond.skill if cond.min == 1 else f"{cond.skill}>={cond.min}"
    if isinstance(cond, NotOf):
        inner = render(cond.not_)
        return f"not {inner}" if isinstance(cond.not_, SkillAtLeast) else f"not ({inner})"
    op, children = (" and ", cond.all) if isinstance(cond, AllOf) else (" or ", cond.any)
    return op.join(f"({render(c)})" if isinstance(c, (AllOf, AnyOf)) else render(c) for c in children)


# --------------------------------------------------------------- text parser (recursive descent)

_TOKEN = re.compile(r"\s*(>=|\(|\)|&|\||!|[A-Za-z0-9][A-Za-z0-9_.:-]*)")
_KEYWORDS = {"and": "&", "or": "|", "not": "!"}


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"bad skill condition at {pos}: {shown_value(text)!r}")
        tok = m.group(1)
        out.append(_KEYWORDS.get(tok.lower(), tok))
        pos = m.end()
    return out


def parse_condition(text: str) -> Node:
    """The text form (module docstring) as a tree; ValueError for a bad or an over-large condition."""
    if len(text) > MAX_CONDITION_CHARS:
        raise ValueError(f"skill condition longer than {MAX_CONDITION_CHARS} characters")
    toks = _tokens(text)
    pos = 0
    depth = 0
    leaves = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"bad skill condition: expected {expected or 'a term'} in {shown_value(text)!r}")
        pos += 1
        return tok

    def expr() -> Node:
        parts = [conj()]
        while peek() == "|":
            take()
            parts.append(conj())
        return parts[0] if len(parts) == 1 else AnyOf(any=tuple(parts))

    def conj() -> Node:
        parts = [unary()]
        while peek() == "&":
            take()
            parts.append(unary())
        return parts[0] if len(parts) == 1 else AllOf(all=tuple(parts))

    def nested(inner):  # every "(" and "not" opens a level: bounded before recursing
        nonlocal depth
        depth += 1
        if depth >= MAX_CONDITION_DEPTH:
            raise ValueError(f"skill condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        try:
            return inner()
        finally:
            depth -= 1

    def unary() -> Node:
        nonlocal leaves
        tok = peek()
        if tok == "!":
            take()
            return NotOf(not_=nested(unary))
        if tok == "(":
            take()
            inner = nested(expr)
            take(")")
            return inner
        name = take()
        if name in {"&", "|", ")", ">="}:
            raise ValueError(f"bad skill condition: unexpected {shown_value(name)!r} in {shown_value(text)!r}")
        leaves += 1
        if leaves > MAX_CONDITION_NODES:
            raise ValueError(f"skill condition has more than {MAX_CONDITION_NODES} terms")
        level = 1
        if peek() == ">=":
            take()
            tok = take()
            if tok not in {"1", "2", "3", "4", "5"}:
                raise ValueError(f"bad skill condition: a level is 1-5, not {shown_value(tok)!r}, "
                                 f"in {shown_value(text)!r}")
            level = int(tok)
        return SkillAtLeast(skill=name, min=level)

    node = expr()
    if pos != len(toks):
        raise ValueError(f"bad skill condition: trailing {shown_value(toks[pos])!r} in {shown_value(text)!r}")
    return _bounded(node)
