"""Sans-I/O protocol tables: one module per backpack API generation.

``openbackpack.protocols.badgr`` (v2), ``openbackpack.protocols.displayer`` (v1) and
``openbackpack.protocols.badgeconnect`` (2.1) and ``openbackpack.protocols.ob3api`` (the Open
Badges 3.0 API) list every route as :class:`Endpoint` data; the
client builds requests from them and the reference host mounts them, so the two cannot drift.
``MAPPINGS`` is Moodle's action table over those routes. Everything here is pure.
"""

from openbackpack.protocols._bodies import (
    assertion_body,
    badgeclass_body,
    credentials_form,
    email_form,
    import_body,
    issuer_body,
)
from openbackpack.protocols._endpoint import (
    Base,
    Body,
    Endpoint,
    HttpMethod,
    Shape,
    api_root,
    build_url,
    origin_of,
)
from openbackpack.protocols._mappings import (
    MAPPINGS,
    Action,
    Mapping,
    Mode,
    RequestKind,
    ResultKind,
    define_mappings,
    find_mapping,
)
from openbackpack.protocols._messages import action_words
from openbackpack.protocols._redact import REDACTED, redact, redact_data
from openbackpack.protocols._responses import (
    assertion_from_badgr,
    badgeclass_from_badgr,
    collection_from_badgr,
    decode_json,
    error_from_response,
    interpret,
    issuer_from_badgr,
    next_page_url,
    parse_retry_after,
    retry_after_from,
)

__all__ = [
    "MAPPINGS",
    "REDACTED",
    "Action",
    "Base",
    "Body",
    "Endpoint",
    "HttpMethod",
    "Mapping",
    "Mode",
    "RequestKind",
    "ResultKind",
    "Shape",
    "action_words",
    "api_root",
    "assertion_body",
    "assertion_from_badgr",
    "badgeclass_body",
    "badgeclass_from_badgr",
    "build_url",
    "collection_from_badgr",
    "credentials_form",
    "decode_json",
    "define_mappings",
    "email_form",
    "error_from_response",
    "find_mapping",
    "import_body",
    "interpret",
    "issuer_body",
    "issuer_from_badgr",
    "next_page_url",
    "origin_of",
    "parse_retry_after",
    "redact",
    "redact_data",
    "retry_after_from",
]
