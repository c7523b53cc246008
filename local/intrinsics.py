"""CloudFormation intrinsic functions, resolved against what the local deployer created.

Pure: no AWS calls. Supports Ref (resources, parameters, pseudo parameters), Fn::GetAtt, Fn::Join,
Fn::Sub (string and [string, map] forms, ${!Literal}), Fn::Select, Fn::Split, Fn::If with the
template's Conditions (Fn::Equals/And/Or/Not, Condition), Fn::FindInMap, Fn::Base64, Fn::GetAZs,
Fn::ToJsonString, Fn::Length and AWS::NoValue. Anything else raises IntrinsicError (loudly: a value
resolved wrong locally would hide a template bug).
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

PSEUDO_PARAMETERS = {
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
}

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class IntrinsicError(ValueError):
    pass


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (
        next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::") or next(iter(value)) == "Condition"
    )


class Resolver:
    """Resolves template values.

    refs:  logical id -> value of Ref (physical name/ARN/id as CloudFormation returns it)
    get_att: callable (logical id, attribute) -> value; raises KeyError if unknown
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        stack_name: str = "Stack",
        partition: str = "aws",
        url_suffix: str = "amazonaws.com",
        parameters: Mapping[str, Any] | None = None,
        refs: Mapping[str, Any] | None = None,
        get_att: Callable[[str, str], Any] | None = None,
    ) -> None:
        self.template = template
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": partition,
            "AWS::URLSuffix": url_suffix,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::NotificationARNs": [],
        }
        self.parameters = dict(parameters or {})
        self.refs: Mapping[str, Any] = refs if refs is not None else {}
        self._get_att = get_att
        self._conditions: dict[str, bool] = {}

    # -- conditions ----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self._eval_condition(spec))
        return self._conditions[name]

    def _eval_condition(self, spec: Any) -> Any:
        if isinstance(spec, dict) and len(spec) == 1:
            (fn, arg), = spec.items()
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return str(a) == str(b) if not isinstance(a, (list, dict)) else a == b
            if fn == "Fn::And":
                return all(self._eval_condition(x) for x in arg)
            if fn == "Fn::Or":
                return any(self._eval_condition(x) for x in arg)
            if fn == "Fn::Not":
                return not self._eval_condition(arg[0])
        return self.resolve(spec)

    # -- values --------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        out = self._resolve(value)
        return None if out is NO_VALUE else out

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if isinstance(value, dict):
            if _is_intrinsic(value):
                (fn, arg), = value.items()
                return self._call(fn, arg)
            out = {}
            for k, v in value.items():
                r = self._resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        return value

    def _call(self, fn: str, arg: Any) -> Any:
        handler = _FUNCTIONS.get(fn)
        if handler is None:
            raise IntrinsicError(f"unsupported intrinsic function {fn}")
        return handler(self, arg)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise IntrinsicError(f"Ref to unknown or not yet created {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if self._get_att is None:
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute}: no resources known")
        try:
            return self._get_att(logical_id, attribute)
        except KeyError as exc:
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute}: {exc}") from None

    def sub(self, template: str, variables: Mapping[str, Any]) -> str:
        def repl(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            expr = expr.strip()
            if expr in variables:
                value = variables[expr]
            elif expr in self.pseudo or expr in self.parameters or expr in self.refs:
                value = self.ref(expr)
            elif "." in expr:
                res, attr = expr.split(".", 1)
                value = self.get_att(res, attr)
            else:
                value = self.ref(expr)
            if isinstance(value, (list, dict)):
                raise IntrinsicError(f"Fn::Sub ${{{expr}}} is not a string: {value!r}")
            return str(value)

        return _SUB_VAR.sub(repl, template)


def _fn_ref(r: Resolver, arg: Any) -> Any:
    return r.ref(arg)


def _fn_get_att(r: Resolver, arg: Any) -> Any:
    if isinstance(arg, str):
        logical_id, attribute = arg.split(".", 1)
    else:
        logical_id, attribute = arg[0], r.resolve(arg[1])
    return r.get_att(logical_id, attribute)


def _fn_join(r: Resolver, arg: Any) -> str:
    delimiter, items = arg
    items = r.resolve(items)
    if not isinstance(items, list):
        raise IntrinsicError(f"Fn::Join expects a list, got {items!r}")
    return str(r.resolve(delimiter)).join(_to_str(x) for x in items)


def _to_str(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (list, dict)):
        raise IntrinsicError(f"cannot join a non-scalar value {x!r}")
    return str(x)


def _fn_sub(r: Resolver, arg: Any) -> str:
    if isinstance(arg, str):
        return r.sub(arg, {})
    template, variables = arg
    return r.sub(template, {k: r.resolve(v) for k, v in variables.items()})


def _fn_select(r: Resolver, arg: Any) -> Any:
    index, items = arg
    index = int(r.resolve(index))
    items = r.resolve(items)
    if not isinstance(items, list) or not 0 <= index < len(items):
        raise IntrinsicError(f"Fn::Select index {index} out of range for {items!r}")
    return items[index]


def _fn_split(r: Resolver, arg: Any) -> list[str]:
    delimiter, source = arg
    return str(r.resolve(source)).split(str(r.resolve(delimiter)))


def _fn_if(r: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return r._resolve(when_true if r.condition(name) else when_false)


def _fn_find_in_map(r: Resolver, arg: Any) -> Any:
    name, top, second = (r.resolve(x) for x in arg[:3])
    mappings = r.template.get("Mappings") or {}
    try:
        return mappings[name][top][second]
    except KeyError:
        if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            return r.resolve(arg[3]["DefaultValue"])
        raise IntrinsicError(f"Fn::FindInMap {name}/{top}/{second} not found") from None


def _fn_base64(r: Resolver, arg: Any) -> str:
    return base64.b64encode(str(r.resolve(arg)).encode()).decode()


def _fn_get_azs(r: Resolver, arg: Any) -> list[str]:
    region = r.resolve(arg) or r.pseudo["AWS::Region"]
    return [f"{region}{z}" for z in "abc"]


def _fn_to_json_string(r: Resolver, arg: Any) -> str:
    return json.dumps(r.resolve(arg), separators=(",", ":"))


def _fn_length(r: Resolver, arg: Any) -> int:
    return len(r.resolve(arg))


def _fn_equals(r: Resolver, arg: Any) -> bool:
    return bool(r._eval_condition({"Fn::Equals": arg}))


def _fn_condition(r: Resolver, arg: Any) -> bool:
    return r.condition(arg)


def _fn_bool(op: str) -> Callable[[Resolver, Any], bool]:
    return lambda r, arg: bool(r._eval_condition({op: arg}))


def _fn_import_value(r: Resolver, arg: Any) -> Any:
    raise IntrinsicError(f"Fn::ImportValue {r.resolve(arg)!r}: cross-stack imports are not available locally")


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Join": _fn_join,
    "Fn::Sub": _fn_sub,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::If": _fn_if,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::ToJsonString": _fn_to_json_string,
    "Fn::Length": _fn_length,
    "Fn::Equals": _fn_equals,
    "Fn::And": _fn_bool("Fn::And"),
    "Fn::Or": _fn_bool("Fn::Or"),
    "Fn::Not": _fn_bool("Fn::Not"),
    "Condition": _fn_condition,
    "Fn::ImportValue": _fn_import_value,
}


def dependencies(value: Any, known: set[str] | None = None) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub variables). Parameters and pseudo
    parameters are excluded; pass `known` (resource ids) to keep only resources."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            if len(v) == 1:
                (k, a), = v.items()
                if k == "Ref" and isinstance(a, str):
                    found.add(a)
                    return
                if k == "Fn::GetAtt":
                    found.add(a.split(".", 1)[0] if isinstance(a, str) else a[0])
                    return
                if k == "Fn::Sub":
                    text, variables = (a, {}) if isinstance(a, str) else (a[0], a[1])
                    for m in _SUB_VAR.finditer(text):
                        expr = m.group(1).strip()
                        if expr.startswith("!") or expr in variables:
                            continue
                        found.add(expr.split(".", 1)[0])
                    walk(variables)
                    return
            for x in v.values():
                walk(x)

    walk(value)
    found -= PSEUDO_PARAMETERS
    if known is not None:
        found &= known
    return found
