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
        shown = "" if fe.value is None else f"{_show(fe.value)} "
        return f"{_path(fe.loc)}: {shown}{fe.problem}\n  fix: {fe.fix}"
    if kind == "value_error":  # a validator's own words (no field of its own to name)
        msg = str(err["ctx"]["error"]) if "error" in err.get("ctx", {}) else "is not valid"
        return f"{where}: {msg}\n  fix: correct {where} (docs/configuration.md)"
    problem, fix = _own_words(kind, err.get("ctx", {}), loc)
    shown = "" if isinstance(value, dict) else f"{_show(value)} "
    return f"{where}: {shown}{problem}\n  fix: {fix}"


def _show(value: object) -> str:
    """A value as the user wrote it: ``90`` for 90.0, quotes around text."""
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _own_words(kind: str, ctx: dict[str, object], loc: Loc) -> tuple[str, str]:
    """cml-bot's words for a pydantic error kind (never pydantic's): the problem and the fix."""
    for bound, (says, fix) in _BOUNDS.items():
        if bound in ctx and kind.startswith(("greater", "less")):
            return says.format(_show(ctx[bound])), fix.format(_show(ctx[bound]))
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        word = "at least" if kind == "too_short" else "at most"
        return f"has {'too few' if kind == 'too_short' else 'too many'} items", f"give {word} {n}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        name = loc[-1] if loc else "the file"
        return "is not a mapping", f"write `{name}:` as a mapping of key: value (an indented block)"
    problem, fix = _KINDS.get(kind, ("is not a value this field takes", ""))
    return problem, fix or f"see what {_path(loc)} takes in docs/configuration.md"


_BOUNDS = {
    "gt": ("must be greater than {}", "write a number above {}"),
    "ge": ("must be at least {}", "write {} or more"),
    "lt": ("must be less than {}", "write a number below {}"),
    "le": ("must be at most {}", "write {} or less"),
}

_KINDS = {
    "string_type": ("is not text", "write a string (quote it in YAML)"),
    "int_parsing": ("is not a whole number", "write a whole number, e.g. 3"),
    "int_type": ("is not a whole number", "write a whole number, e.g. 3"),
    "int_from_float": ("is not a whole number", "write a whole number, e.g. 3"),
    "float_parsing": ("is not a number", "write a number, e.g. 0.25"),
    "float_type": ("is not a number", "write a number, e.g. 0.25"),
    "bool_parsing": ("is not true or false", "write true or false"),
    "bool_type": ("is not true or false", "write true or false"),
    "list_type": ("is not a list", "write a YAML list, e.g. [a, b]"),
    "string_pattern_mismatch": (
        "is not a valid name",
        "use letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces)",
    ),
}
