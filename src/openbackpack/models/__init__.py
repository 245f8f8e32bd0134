"""Typed, pure data for openbackpack: API versions and Open Badges documents.

Nothing here performs I/O or imports the client, store or host.
"""

from openbackpack.models._version import ApiVersion

__all__ = ["ApiVersion"]
