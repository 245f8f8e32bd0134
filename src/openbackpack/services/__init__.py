"""The flows around the backpack API: site backpacks, connecting, collections, badges, pushing.

Each flow is a plain function over a :class:`~openbackpack.store.Store` (and, where it talks to
a backpack, a client); the command line is a thin shell over them.
"""

from openbackpack.services._backpacks import (
    SiteBackpack,
    add_backpack,
    edit_backpack,
    list_backpacks,
    move_backpack,
    remove_backpack,
)
from openbackpack.services._mail import (
    MailDeliveryError,
    MaildirMailer,
    Mailer,
    SmtpMailer,
    compose,
)

__all__ = [
    "MailDeliveryError",
    "MaildirMailer",
    "Mailer",
    "SiteBackpack",
    "SmtpMailer",
    "add_backpack",
    "compose",
    "edit_backpack",
    "list_backpacks",
    "move_backpack",
    "remove_backpack",
]
