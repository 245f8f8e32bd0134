"""The pages: "My backpack" and "Manage backpacks", as an ASGI app a platform mounts.

:func:`create_web_app` builds a Starlette app over :mod:`openbackpack.services`. The platform
says who is asking through the ``identify`` hook (:class:`WebUser`, or None for nobody); the app
keeps no user accounts of its own. Templates (Jinja2) can be overridden by name through a loader
the platform puts in front of the built-in ones, and every message goes through gettext.
"""

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
    from openbackpack.web._app import MESSAGES_DOMAIN, create_web_app, english
    from openbackpack.web._context import Identify, WebSettings, WebUser


__all__ = ["MESSAGES_DOMAIN", "Identify", "WebSettings", "WebUser", "create_web_app", "english"]

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
