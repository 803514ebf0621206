"""Validation errors as one line per problem: the field's dotted path, the value, and the fix.

:func:`describe` turns one pydantic error into that line; :class:`_FieldError` is what the
models' own checks raise so that the message names the field they are about.
"""

from __future__ import annotations

import difflib
import typing
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

Loc = tuple[int | str, ...]


class _FieldError(ValueError):
    def __init__(self, loc: Loc, value: object, problem: str, fix: str):
        super().__init__(problem)
        self.loc, self.value, self.problem, self.fix = loc, value, problem, fix


def _or(items: list[str] | tuple[str, ...]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _is_class(tp: object) -> typing.TypeGuard[type]:
    """A real class: on Python 3.10 `list[str]` passes isinstance(_, type) but is none."""
    return isinstance(tp, type) and typing.get_origin(tp) is None


def _as_model(annotation: object) -> type[BaseModel] | None:
    """The model a field holds: the model itself, or the values' model of a mapping of them."""
    if _is_class(annotation) and issubclass(annotation, BaseModel):
        return annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is dict and len(args) == 2:
        value = args[1]
        if _is_class(value) and issubclass(value, BaseModel):
            return value  # gates: dict[str, Gate]
    return None


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (for key suggestions)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return model
        model = _as_model(field.annotation)
    return model


def describe(err: ErrorDetails, root: type[BaseModel]) -> str:
    """One pydantic error of validating ``root`` as ``path: problem`` and ``fix: ...``."""
    loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
    kind, value = err["type"], err.get("input")
    where = _path(loc)
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1], root)
        known = list(owner.model_fields) if owner else []
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        fix = f"did you mean '{hint[0]}'?" if hint else f"allowed keys here: {', '.join(known)}"
        return f"{where}: unknown key '{loc[-1]}'\n  fix: {fix}"
    if kind == "missing":
        return f"{where}: required but missing\n  fix: add `{loc[-1]}:` to {_path(loc[:-1])}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{where}: {value!r} is not allowed\n  fix: use one of {expected}"
    if kind == "value_error" and isinstance(err.get("ctx", {}).get("error"), _FieldError):
        fe: _FieldError = err["ctx"]["error"]
        return f"{_path(fe.loc)}: {fe.value!r} {fe.problem}\n  fix: {fe.fix}"
    msg = err["msg"].removeprefix("Value error, ")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"{where}: {msg}{shown}\n  fix: {_FIXES.get(kind, 'correct the value in the config')}"


_FIXES = {
    "string_type": "write a string (quote it in YAML)",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "list_type": "write a YAML list, e.g. [a, b]",
    "dict_type": "write a mapping of key: value",
    "model_type": "write a mapping of key: value",
    "string_pattern_mismatch": "use letters, digits, '.', '_' or '-' (no spaces)",
    "greater_than": "write a larger number",
    "greater_than_equal": "write a larger number",
    "less_than": "write a smaller number",
    "less_than_equal": "write a smaller number",
}
