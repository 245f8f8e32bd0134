"""The 3.0 API under concurrency: one code, one refresh token, one credential pushed at once.

Each race sends its requests truly at once (a thread and a connection each, released by a
barrier) over loopback HTTP, and asserts exact counts, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools

import httpx2
import pytest

from openbackpack.host import RunningHost
from openbackpack.protocols import ob3api
from tests.host._ob3 import (
    VERIFIER,
    Client,
    Connected,
    Issuer,
    api,
    authorize,
    connect,
    new_user,
    register,
)
from tests.host.test_races import RACERS, _client_tokens, race

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def _exchange(client: Client, code: str, http: httpx2.Client) -> httpx2.Response:
    form = ob3api.code_grant_form(code, client.redirect_uri, VERIFIER, [])
    return http.post(client.endpoints["token"], data=form, headers=client.basic)


def test_eight_redemptions_of_one_code_give_exactly_one_token(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Of 8 simultaneous redemptions one gets a token; the 7 replays are refused and revoke it."""
    email, client = new_user(host), register(http, host)
    for _ in range(3):
        code = authorize(http, client, email)["code"]
        answers = race(RACERS, functools.partial(_exchange, client, code))
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, sorted(a.status_code for a in answers)
        assert [a.json()["error"] for a in answers if a.status_code != 200] == ["invalid_grant"] * (
            RACERS - 1
        )
        assert _client_tokens(host, client.client_id) == 0
        headers = {"Authorization": f"Bearer {winners[0].json()['access_token']}"}
        assert http.get(api(host, "/profile"), headers=headers).status_code == 401


def _refresh(connected: Connected, token: str, http: httpx2.Client) -> httpx2.Response:
    client = connected.client
    return http.post(
        client.endpoints["token"], data=ob3api.refresh_form(token), headers=client.basic
    )


def test_one_refresh_token_is_redeemed_exactly_once(http: httpx2.Client, host: RunningHost) -> None:
    """Of 8 simultaneous refreshes with one token exactly one succeeds, and its token works."""
    connected = connect(http, host)
    token = connected.grant["refresh_token"]
    for _ in range(3):
        answers = race(RACERS, functools.partial(_refresh, connected, token))
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, sorted(a.status_code for a in answers)
        assert all(a.json()["error"] == "invalid_grant" for a in answers if a not in winners)
        connected.grant = winners[0].json()
        token = connected.grant["refresh_token"]
        assert http.get(api(host, "/profile"), headers=connected.headers).status_code == 200


def _push(
    host: RunningHost, connected: Connected, content: bytes, http: httpx2.Client
) -> httpx2.Response:
    headers = {"Content-Type": "application/json", **connected.headers}
    return http.post(api(host, "/credentials"), content=content, headers=headers)


def test_one_credential_pushed_eight_times_at_once_is_created_once(
    http: httpx2.Client, host: RunningHost
) -> None:
    """8 simultaneous pushes of one new credential: exactly one 201, seven 200, one stored."""
    connected = connect(http, host)
    _, content = ob3api.upsert_body(Issuer().credential())
    answers = race(RACERS, functools.partial(_push, host, connected, content))
    assert sorted(a.status_code for a in answers) == [200] * (RACERS - 1) + [201]
    listed = http.get(api(host, "/credentials"), headers=connected.headers)
    assert listed.headers["x-total-count"] == "1"
