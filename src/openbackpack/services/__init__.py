"""The flows around the backpack API: site backpacks, connecting, collections, badges, pushing.

Badge Connect (2.1) and Open Badges 3.0 backpacks connect with OAuth 2
(:func:`begin_oauth_connection`, :func:`complete_oauth_connection`); listing, pushing and
disconnecting work for them as for Badgr backpacks (3.0 badges are shown each verified).

Each flow is a plain function over a :class:`~openbackpack.store.Store` (and, where it talks to
a backpack, an optional shared :class:`~openbackpack.client.BackpackClient`); the command line
is a thin shell over them.
"""

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
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
        AuthorizationDeniedError,
        ExternalBackpacksDisabledError,
        NotConnectedError,
        NotOwnerError,
        NotYourAwardError,
        OAuthStateError,
        VerificationError,
    )
    from openbackpack.services._mail import (
        MailDeliveryError,
        MaildirMailer,
        Mailer,
        SmtpMailer,
        compose,
    )
    from openbackpack.services._oauth import (
        DEFAULT_STATE_TTL,
        begin_oauth_connection,
        cancel_oauth_connection,
        complete_oauth_connection,
        default_client_metadata,
        discover_badge_connect,
        register_oauth_client,
        site_client_metadata,
    )
    from openbackpack.services._ob3 import DOCUMENT_MAP_ENV, offline_loader
    from openbackpack.services._privacy import (
        ErasureReport,
        RevocationOutcome,
        UserDataExport,
        erase_user_data,
        export_user_data,
    )
    from openbackpack.services._push import (
        PushResult,
        PushStatus,
        PushVia,
        SiteOutcome,
        StoreBusyError,
        push_award,
    )
    from openbackpack.services._push_bulk import (
        DEFAULT_PUSH_CONCURRENCY,
        BulkPushReport,
        PushFailure,
        push_awards,
    )
    from openbackpack.services._site import (
        SETTING_KEYS,
        require_external_backpacks,
        set_site_setting,
        settings_as_dict,
        site_settings,
    )
    from openbackpack.services._verification_mail import (
        DEFAULT_VERIFICATION_TEMPLATE,
        VERIFICATION_PLACEHOLDERS,
        EmailTemplate,
    )


__all__ = [
    "DEFAULT_BADGE_TTL",
    "DEFAULT_PUSH_CONCURRENCY",
    "DEFAULT_STATE_TTL",
    "DEFAULT_VERIFICATION_TEMPLATE",
    "DOCUMENT_MAP_ENV",
    "SETTING_KEYS",
    "VERIFICATION_PLACEHOLDERS",
    "AuthorizationDeniedError",
    "BulkPushReport",
    "CollectionChoice",
    "ConnectionTest",
    "EmailTemplate",
    "ErasureReport",
    "ExternalBackpacksDisabledError",
    "ExternalBadgeView",
    "ExternalBadges",
    "MailDeliveryError",
    "MaildirMailer",
    "Mailer",
    "NotConnectedError",
    "NotOwnerError",
    "NotYourAwardError",
    "OAuthStateError",
    "PendingConnection",
    "PushFailure",
    "PushResult",
    "PushStatus",
    "PushVia",
    "RevocationOutcome",
    "SiteBackpack",
    "SiteOutcome",
    "SmtpMailer",
    "StoreBusyError",
    "UserDataExport",
    "VerificationError",
    "account_of",
    "add_backpack",
    "begin_oauth_connection",
    "cancel_connection",
    "cancel_oauth_connection",
    "check_backpack_connection",
    "check_login",
    "complete_oauth_connection",
    "compose",
    "default_client_metadata",
    "disconnect",
    "discover_badge_connect",
    "edit_backpack",
    "erase_user_data",
    "export_user_data",
    "external_badges",
    "list_backpacks",
    "list_collections",
    "move_backpack",
    "offline_loader",
    "push_award",
    "push_awards",
    "register_oauth_client",
    "remove_backpack",
    "require_external_backpacks",
    "resend_verification",
    "select_collections",
    "set_site_setting",
    "settings_as_dict",
    "site_client_metadata",
    "site_settings",
    "start_connection",
    "verify_connection",
]

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
