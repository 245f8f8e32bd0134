"""The configuration every wire model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A model of JSON that crosses the wire.

    Unknown properties are kept (Open Badges JSON-LD is extensible, and hosts add their own),
    and fields can be given by their wire name (``entityId``) or their Python name.
    """

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )
