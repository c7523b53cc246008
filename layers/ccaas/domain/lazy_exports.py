"""A package's public names loaded from its modules on first use (PEP 562 `__getattr__`), so importing the
package for one name does not import every module under it: the cold start of a handler pays only for the
modules it reads (bench/bench_coldstart.py; guards in tests/unit/test_cold_start*.py).

    __getattr__, __dir__ = lazy_exports(__name__, {"Name": "module", ...}, globals())

Static analysers and IDEs see the names through an `if TYPE_CHECKING:` block of plain imports beside it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str],
                 namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: `exports` maps each public name to the module (relative to
    `package`) that defines it; a name once loaded is kept in `namespace`, a plain attribute from then on."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
