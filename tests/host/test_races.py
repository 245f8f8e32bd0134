"""Single-use secrets under concurrency: refresh tokens, authorization codes, the throttle.

Every race sends its requests truly at once (one thread and one connection each, released
by a barrier) over loopback HTTP, and asserts exact counts, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.host import _schema as t
from tests.host._badgeconnect import Client, Connected, authorize, connect, exchange, register
from tests.host._helpers import PASSWORD, login, new_email

RACERS = 8


def race(count: int, send: Callable[[httpx2.Client], httpx2.Response]) -> list[httpx2.Response]:
    """Run ``send`` ``count`` times at once, each on its own connection; return the answers."""
    barrier = threading.Barrier(count)
    answers: list[httpx2.Response | BaseException] = [RuntimeError("not run")] * count
    clients = [httpx2.Client(timeout=30) for _ in range(count)]

    def run(index: int) -> None:
        try:
            barrier.wait()
            answers[index] = send(clients[index])
        except BaseException as exc:  # reported by the assertion below
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, failed
    return [a for a in answers if isinstance(a, httpx2.Response)]


@pytest.fixture(scope="module")
def racing_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host on the shared database without the login throttle, which would queue the racers."""
    settings = HostSettings(db_url=host_db_url, login_backoff_max=0, migrate=False)
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def throttled_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host on the shared database with the login throttle on (an hour's cap)."""
    settings = HostSettings(db_url=host_db_url, migrate=False, login_backoff_max=3600)
    with run_host_in_thread(settings) as running:
        yield running


def _post_token(host: RunningHost, form: dict[str, str], http: httpx2.Client) -> httpx2.Response:
    return http.post(host.base_url + "/o/token", data=form)


def _exchange(host: RunningHost, client: Client, code: str, http: httpx2.Client) -> httpx2.Response:
    return exchange(http, host, client, code)


def _statuses(answers: list[httpx2.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


def test_one_refresh_token_is_redeemed_exactly_once(
    http: httpx2.Client, host: RunningHost, racing_host: RunningHost
) -> None:
    """Of 8 simultaneous refresh grants with one token exactly one succeeds, 10 times over."""
    email = new_email("race")
    host.add_user(email, PASSWORD)
    for _ in range(10):
        refresh = login(http, racing_host, email)["refresh_token"]
        form = {"grant_type": "refresh_token", "refresh_token": refresh}
        answers = race(RACERS, functools.partial(_post_token, racing_host, form))
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, _statuses(answers)
        assert all(a.status_code == 400 for a in answers if a.status_code != 200)
        token = winners[0].json()["access_token"]
        me = http.get(
            racing_host.api_url + "/backpack/assertions",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert me.status_code == 200, me.text


def _client_tokens(host: RunningHost, client_id: str) -> int:
    with host.database.begin() as connection:
        row = select(t.oauth_clients.c.id).where(t.oauth_clients.c.client_id == client_id)
        count: Any = connection.scalar(
            select(func.count())
            .select_from(t.tokens)
            .where(t.tokens.c.client_id == row.scalar_subquery())
        )
    return int(count)


def test_one_authorization_code_gives_one_token_and_replays_revoke_it(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Of 8 simultaneous redemptions of one code one gets a token, which the 7 replays revoke."""
    email = new_email("race")
    host.add_user(email, PASSWORD)
    client = register(http, host)
    for _ in range(5):
        code = authorize(http, host, client, email)
        answers = race(RACERS, functools.partial(_exchange, host, client, code))
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, _statuses(answers)
        losers = [a.json()["error"] for a in answers if a.status_code != 200]
        assert losers == ["invalid_grant"] * (RACERS - 1)
        assert _client_tokens(host, client.client_id) == 0
        profile = http.get(
            host.badgeconnect_api_url + "/profile",
            headers={"Authorization": f"Bearer {winners[0].json()['access_token']}"},
        )
        assert profile.status_code == 401


def test_concurrent_wrong_passwords_are_evaluated_once(throttled_host: RunningHost) -> None:
    """Of 30 simultaneous wrong-password grants for one user one is evaluated, 29 get 429."""
    email = new_email("race")
    throttled_host.add_user(email, PASSWORD)
    form = {"username": email, "password": "wrong"}
    answers = race(30, functools.partial(_post_token, throttled_host, form))
    assert _statuses(answers) == [400] + [429] * 29


def test_a_bad_refresh_token_does_not_throttle_other_users(
    http: httpx2.Client, throttled_host: RunningHost
) -> None:
    """A failed refresh grant locks only its own token, not other users' refreshes."""
    email = new_email("race")
    throttled_host.add_user(email, PASSWORD)
    good = login(http, throttled_host, email)["refresh_token"]
    bad = {"grant_type": "refresh_token", "refresh_token": "not-a-token"}
    assert http.post(throttled_host.base_url + "/o/token", data=bad).status_code == 400
    form = {"grant_type": "refresh_token", "refresh_token": good}
    answer = http.post(throttled_host.base_url + "/o/token", data=form)
    assert answer.status_code == 200, answer.text
    assert http.post(throttled_host.base_url + "/o/token", data=bad).status_code == 429


def test_one_badge_connect_refresh_token_is_redeemed_exactly_once(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Of 8 simultaneous refresh grants of a Badge Connect client with one token, one wins."""
    connected = connect(http, host)
    for _ in range(5):
        form = {"grant_type": "refresh_token", "refresh_token": connected.grant["refresh_token"]}
        answers = race(RACERS, functools.partial(_client_refresh, host, connected, form))
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, _statuses(answers)
        assert [a.json()["error"] for a in answers if a.status_code != 200] == ["invalid_grant"] * (
            RACERS - 1
        )
        connected = Connected(connected.email, connected.client, winners[0].json())
        profile = http.get(host.badgeconnect_api_url + "/profile", headers=connected.headers)
        assert profile.status_code == 200, profile.text


def _client_refresh(
    host: RunningHost, connected: Connected, form: dict[str, str], http: httpx2.Client
) -> httpx2.Response:
    return http.post(host.base_url + "/o/token", data=form, headers=connected.client.basic)
