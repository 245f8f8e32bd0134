"""The host's answers read back through the protocol layer the client uses."""

from __future__ import annotations

from typing import Any

import httpx2

from openbackpack import ApiVersion
from openbackpack._exceptions import AuthenticationError, DuplicateBadgeError, NotFoundError
from openbackpack.host import RunningHost
from openbackpack.models import Collection, DisplayerUser, RemoteAssertion, TokenGrant
from openbackpack.protocols import Action, Mode, error_from_response, find_mapping, interpret
from tests.host._helpers import PASSWORD, Account, award, new_account, result


def _read(mapping: Any, response: httpx2.Response) -> Any:
    return interpret(mapping, response.status_code, dict(response.headers), response.content)


def test_token_and_backpack_rows_interpret_the_hosts_answers(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Moodle's v2 user rows (token, collections, assertion) parse the host's answers."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email)
    token = find_mapping(ApiVersion.V2, Mode.USER, Action.USER)
    grant = _read(
        token,
        http.post(
            f"{host.base_url}/o/token", data={"username": earner.email, "password": PASSWORD}
        ),
    )
    assert isinstance(grant, TokenGrant)
    result(
        http.post(
            f"{host.api_url}/backpack/collections",
            json={"name": "C", "assertions": [given["entityId"]]},
            headers=earner.headers,
        ),
        201,
    )
    collections = _read(
        find_mapping(ApiVersion.V2, Mode.USER, Action.COLLECTIONS),
        http.get(f"{host.api_url}/backpack/collections", headers=earner.headers),
    )
    assert isinstance(collections[0], Collection)
    assert collections[0].assertions == [given["entityId"]]
    row = find_mapping(ApiVersion.V2, Mode.USER, Action.ASSERTION)
    url = f"{host.api_url}/backpack/assertions/{given['entityId']}"
    assertion = _read(row, http.get(url, params=list(row.query), headers=earner.headers))
    assert isinstance(assertion, RemoteAssertion)
    assert assertion.recipient is not None
    assert assertion.recipient.plaintext_identity == earner.email


def test_host_errors_become_the_typed_errors(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Bad logins, duplicates and unknown ids map to the client's exception classes."""
    bad = http.post(f"{host.base_url}/o/token", data={"username": account.email, "password": "no"})
    assert isinstance(
        error_from_response(bad.status_code, bad.content, token_endpoint=True), AuthenticationError
    )
    given = award(http, host, account, badgeclass, account.email)
    url = f"{host.api_url}/backpack/import"
    http.post(url, json={"url": given["openBadgeId"]}, headers=account.headers)
    again = http.post(url, json={"url": given["openBadgeId"]}, headers=account.headers)
    assert isinstance(error_from_response(again.status_code, again.content), DuplicateBadgeError)
    missing = http.get(f"{host.api_url}/issuers/nope", headers=account.headers)
    assert isinstance(error_from_response(missing.status_code, missing.content), NotFoundError)


def test_displayer_row_interprets_the_lookup(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """Moodle's v1 user row parses the host's convert/email answer."""
    row = find_mapping(ApiVersion.V1, Mode.USER, Action.USER)
    user = _read(
        row, http.post(f"{host.base_url}/displayer/convert/email", data={"email": account.email})
    )
    assert isinstance(user, DisplayerUser)
    assert user.user_id == account.user.id
