"""The ``openbackpack`` command: a thin shell over the library.

Errors raised on purpose (:class:`~openbackpack.BackpackError`) become one line on stderr and
exit code 1; usage errors exit with 2.
"""

from openbackpack.cli._app import app, main

__all__ = ["app", "main"]
