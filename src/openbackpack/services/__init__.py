"""The flows around the backpack API: site backpacks, connecting, collections, badges, pushing.

Each flow is a plain function over a :class:`~openbackpack.store.Store` (and, where it talks to
a backpack, an optional shared :class:`~openbackpack.client.BackpackClient`); the command line
is a thin shell over them.
"""

from openbackpack.services._backpacks import (
    ConnectionTest,
    SiteBackpack,
    add_backpack,
    check_backpack_connection,
    edit_backpack,
    list_backpacks,
    move_backpack,
    remove_backpack,
)
from openbackpack.services._badges import (
    DEFAULT_BADGE_TTL,
    ExternalBadges,
    ExternalBadgeView,
    external_badges,
)
from openbackpack.services._collections import (
    CollectionChoice,
    account_of,
    list_collections,
    select_collections,
)
from openbackpack.services._connect import (
    PendingConnection,
    cancel_connection,
    check_login,
    disconnect,
    resend_verification,
    start_connection,
    verify_connection,
)
from openbackpack.services._errors import (
    ExternalBackpacksDisabledError,
    NotConnectedError,
    NotOwnerError,
    NotYourAwardError,
    VerificationError,
)
from openbackpack.services._mail import (
    MailDeliveryError,
    MaildirMailer,
    Mailer,
    SmtpMailer,
    compose,
)
from openbackpack.services._push import (
    DEFAULT_PUSH_CONCURRENCY,
    BulkPushReport,
    PushFailure,
    PushResult,
    PushStatus,
    push_award,
    push_awards,
)

__all__ = [
    "DEFAULT_BADGE_TTL",
    "DEFAULT_PUSH_CONCURRENCY",
    "BulkPushReport",
    "CollectionChoice",
    "ConnectionTest",
    "ExternalBackpacksDisabledError",
    "ExternalBadgeView",
    "ExternalBadges",
    "MailDeliveryError",
    "MaildirMailer",
    "Mailer",
    "NotConnectedError",
    "NotOwnerError",
    "NotYourAwardError",
    "PendingConnection",
    "PushFailure",
    "PushResult",
    "PushStatus",
    "SiteBackpack",
    "SmtpMailer",
    "VerificationError",
    "account_of",
    "add_backpack",
    "cancel_connection",
    "check_backpack_connection",
    "check_login",
    "compose",
    "disconnect",
    "edit_backpack",
    "external_badges",
    "list_backpacks",
    "list_collections",
    "move_backpack",
    "push_award",
    "push_awards",
    "remove_backpack",
    "resend_verification",
    "select_collections",
    "start_connection",
    "verify_connection",
]
