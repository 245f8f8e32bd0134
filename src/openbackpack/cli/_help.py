"""How ``--help`` names the value an option takes.

Typer prints its Python annotation beside every parameter (``<bool>`` beside each flag,
``<list[str]>``, a date option's raw ``strptime`` formats). A flag takes no value, so it
shows none; the others show a word a user knows (``TEXT``, ``INTEGER``, ``DATE``...).
Typer has no per-parameter hook for this, so the two display methods are replaced here,
once, when the command line is imported.
"""

from __future__ import annotations

import datetime as _dt
import pathlib
from typing import Any, Final, get_args, get_origin

from typer.core import TyperArgument, TyperOption

__all__ = ["install"]

_WORDS: Final[dict[Any, str]] = {
    str: "TEXT",
    int: "INTEGER",
    float: "NUMBER",
    pathlib.Path: "PATH",
    _dt.datetime: "DATE",
}


def _word(annotation: Any) -> str:
    if get_origin(annotation) is list:
        return _word(get_args(annotation)[0])
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if args:
        return _word(args[0])
    return _WORDS.get(annotation, "VALUE")


def _label(param: TyperOption | TyperArgument) -> str | None:
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return None
    if param.metavar is not None:
        return param.metavar
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "|".join(str(choice) for choice in descriptor.choices or ())
    if descriptor.is_datetime:
        return "DATE"
    word = _word(descriptor.annotation)
    return word + "..." if param.nargs != 1 else word


def _option_label(self: TyperOption, ctx: Any) -> str | None:
    return _label(self)


def _argument_label(self: TyperArgument, ctx: Any) -> str | None:
    return _label(self)


def install() -> None:
    """Make typer's help show plain value names, and nothing beside flags."""
    TyperOption.display_type_rich = _option_label  # type: ignore[method-assign]
    TyperArgument.display_type_rich = _argument_label  # type: ignore[method-assign,assignment]
