"""Awards over real HTTP: Moodle's create, the issuer path, batches, updates, revocation."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx2
from sqlalchemy import func, select

from openbackpack.host import RunningHost
from openbackpack.host import _schema as t
from tests.host._helpers import Account, award, error, new_account, new_email, result


def test_moodle_award_is_accepted_and_hashed_with_a_salt(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """A plain identity (hashed=true) is lower-cased, hashed with a per-award salt, kept plain."""
    body_badge = {"type": "BadgeClass", "name": "ignored"}
    item = award(http, host, account, badgeclass, "Earner@Example.org", badge=body_badge)
    recipient = item["recipient"]
    assert recipient["plaintextIdentity"] == "earner@example.org"
    assert len(recipient["salt"]) == 32
    digest = hashlib.sha256(("earner@example.org" + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${digest}"
    assert item["issuedOn"] == "2024-01-02T03:04:05Z"
    assert (item["revoked"], item["revocationReason"], item["acceptance"]) == (
        False,
        None,
        "Unaccepted",
    )
    assert item["badgeclass"] == badgeclass["entityId"]
    assert item["issuer"] == badgeclass["issuer"]
    assert item["evidence"] == []
    other = award(http, host, account, badgeclass, "earner@example.org")
    assert other["recipient"]["salt"] != recipient["salt"]
    plain = award(
        http,
        host,
        account,
        badgeclass,
        "x@example.org",
        recipient={"identity": "x@example.org", "hashed": False},
    )
    assert plain["recipient"] == {
        "identity": "x@example.org",
        "hashed": False,
        "type": "email",
        "plaintextIdentity": "x@example.org",
    }


def test_award_field_errors(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Recipient, dates and evidence are validated with Badgr's messages."""
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions"
    missing = error(http.post(url, json={}, headers=account.headers), 400)
    assert missing["fieldErrors"] == {"recipient": ["This field is required"]}
    bad = {
        "recipient": {"identity": "not an email"},
        "issuedOn": "2999-01-01T00:00:00Z",
        "evidence": [{}],
    }
    answer = error(http.post(url, json=bad, headers=account.headers), 400)
    assert answer["fieldErrors"] == {
        "recipient": {"non_field_errors": ["Enter a valid email address."]},
        "issuedOn": ["Only issuedOn dates in the past are acceptable."],
        "evidence": ["Either url or narrative is required"],
    }
    both = {"recipient": {"identity": "a@example.org"}, "badgeclass": badgeclass["entityId"]}
    assert error(http.post(url, json=both, headers=account.headers), 400)["validationErrors"][
        0
    ].startswith("Multiple badge class identifiers")
    kind = {"recipient": {"identity": "a@example.org", "type": "fax"}}
    assert (
        "type"
        in error(http.post(url, json=kind, headers=account.headers), 400)["fieldErrors"][
            "recipient"
        ]
    )


def test_other_recipient_types_are_normalised(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """URL identities get a lower-cased host and are unhashed by default; phones are E.164."""
    url_item = award(
        http,
        host,
        account,
        badgeclass,
        "",
        recipient={"identity": "https://EXAMPLE.org/Me", "type": "url"},
    )
    assert url_item["recipient"]["identity"] == "https://example.org/Me"
    assert url_item["recipient"]["hashed"] is False
    phone = award(
        http,
        host,
        account,
        badgeclass,
        "",
        recipient={"identity": "+15551234567", "type": "telephone"},
    )
    assert phone["recipient"]["hashed"] is True


def test_issuer_path_finds_the_badgeclass_by_id_url_or_name(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """POST /issuers/{eid}/assertions takes exactly one badge class identifier."""
    url = f"{host.api_url}/issuers/{badgeclass['issuer']}/assertions"
    recipient = {"identity": "earner@example.org"}
    for key, value in (
        ("badgeclass", badgeclass["entityId"]),
        ("badgeclassOpenBadgeId", badgeclass["openBadgeId"]),
        ("badgeclassName", badgeclass["name"]),
    ):
        made = result(
            http.post(url, json={"recipient": recipient, key: value}, headers=account.headers), 201
        )
        assert made["badgeclass"] == badgeclass["entityId"]
    none = error(http.post(url, json={"recipient": recipient}, headers=account.headers), 400)
    assert none["fieldErrors"] == {"badgeclass": ["This field is required"]}
    two = {"recipient": recipient, "badgeclass": "a", "badgeclassName": "b"}
    assert error(http.post(url, json=two, headers=account.headers), 400)["validationErrors"]
    name = error(
        http.post(
            url, json={"recipient": recipient, "badgeclassName": "zzz"}, headers=account.headers
        ),
        400,
    )
    assert name["validationErrors"] == ["No matching BadgeClass found with name zzz"]
    unknown = error(
        http.post(
            url, json={"recipient": recipient, "badgeclass": "nope"}, headers=account.headers
        ),
        400,
    )
    assert unknown["fieldErrors"] == {
        "badgeclass": ["Could not find matching badgeclass for this issuer."]
    }


def test_duplicate_awards_refused_only_when_asked(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """allowDuplicateAwards=false refuses a second live award to the same recipient."""
    award(http, host, account, badgeclass, "twice@example.org")
    award(http, host, account, badgeclass, "twice@example.org")
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions"
    body = {"recipient": {"identity": "twice@example.org"}, "allowDuplicateAwards": False}
    answer = error(http.post(url, json=body, headers=account.headers), 400)
    assert answer["validationErrors"] == [
        "A previous award of this badge already exists for this recipient."
    ]


def _award_count(host: RunningHost) -> int:
    with host.database.begin() as connection:
        return int(connection.scalar(select(func.count()).select_from(t.assertions)) or 0)


def test_batch_issue_is_all_or_nothing(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """/issue creates every award, or none and answers per-item field errors."""
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/issue"
    good = [{"recipient": {"identity": f"b{i}@example.org"}} for i in range(2)]
    made = http.post(
        url, json={"assertions": good, "create_notification": False}, headers=account.headers
    )
    assert made.status_code == 201
    assert [a["recipient"]["plaintextIdentity"] for a in made.json()["result"]] == [
        "b0@example.org",
        "b1@example.org",
    ]
    before = _award_count(host)
    bad = [*good, {"recipient": {"identity": "nope"}}]
    answer = error(http.post(url, json={"assertions": bad}, headers=account.headers), 400)
    assert answer["fieldErrors"][:2] == [{}, {}]
    assert "recipient" in answer["fieldErrors"][2]
    assert _award_count(host) == before
    error(http.post(url, json={"assertions": []}, headers=account.headers), 400)


def test_get_update_and_list_awards(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """An award can be read, updated (expand ignored) and found in both award lists."""
    item = award(http, host, account, badgeclass, "list@example.org")
    url = f"{host.api_url}/assertions/{item['entityId']}"
    assert result(http.get(url, headers=account.headers)) == item
    change = {
        "narrative": "Did the work",
        "evidence": [{"url": "https://example.org/e", "narrative": "Proof"}],
        "expires": "2031-01-01T00:00:00+01:00",
    }
    updated = result(
        http.put(url, params=[("expand", "badgeclass")], json=change, headers=account.headers)
    )
    assert updated["narrative"] == "Did the work"
    assert updated["evidence"] == [{"url": "https://example.org/e", "narrative": "Proof"}]
    assert updated["expires"] == "2030-12-31T23:00:00Z"
    assert updated["badgeclass"] == badgeclass["entityId"]
    by_class = http.get(
        f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions", headers=account.headers
    )
    by_issuer = http.get(
        f"{host.api_url}/issuers/{badgeclass['issuer']}/assertions",
        params={"recipient": "LIST@example.org"},
        headers=account.headers,
    )
    assert item["entityId"] in [a["entityId"] for a in by_class.json()["result"]]
    assert [a["entityId"] for a in by_issuer.json()["result"]] == [item["entityId"]]
    stranger = new_account(http, host, prefix="stranger")
    error(http.get(url, headers=stranger.headers), 404)
    error(http.put(url, json=change, headers=stranger.headers), 404)


def test_revoke_needs_a_reason_and_happens_once(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """DELETE revokes with the reason from the body; revoked awards leave the default lists."""
    item = award(http, host, account, badgeclass, "revoke@example.org")
    url = f"{host.api_url}/assertions/{item['entityId']}"
    missing = error(http.request("DELETE", url, json={}, headers=account.headers), 400)
    assert missing["fieldErrors"] == {"revocation_reason": "This field is required"}
    revoked = result(
        http.request(
            "DELETE", url, json={"revocation_reason": "Issued in error"}, headers=account.headers
        )
    )
    assert (revoked["revoked"], revoked["revocationReason"], revoked["image"]) == (
        True,
        "Issued in error",
        None,
    )
    again = error(
        http.request("DELETE", url, json={"revocation_reason": "x"}, headers=account.headers), 400
    )
    assert again["validationErrors"] == ["Assertion is already revoked"]
    listing = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions"
    hidden = http.get(listing, headers=account.headers).json()["result"]
    shown = http.get(listing, params={"include_revoked": "true"}, headers=account.headers).json()[
        "result"
    ]
    assert item["entityId"] not in [a["entityId"] for a in hidden]
    assert item["entityId"] in [a["entityId"] for a in shown]


def test_bulk_revoke_answers_per_item(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """POST /assertions/revoke takes a list and reports each item in order, always 200."""
    first = award(http, host, account, badgeclass, new_email())
    items = [
        {"entityId": first["entityId"], "revocationReason": "Issued in error"},
        {"entityId": first["entityId"], "revocationReason": "Again"},
        {"entityId": "unknown", "revocationReason": "x"},
        {"entityId": first["entityId"]},
        {"revocationReason": "x"},
    ]
    response = http.post(f"{host.api_url}/assertions/revoke", json=items, headers=account.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == {"success": True, "description": "revoked badges"}
    assert body["result"] == [
        {"revoked": True, "entityId": first["entityId"], "revocationReason": "Issued in error"},
        {
            "revoked": False,
            "entityId": first["entityId"],
            "revocationReason": "Again",
            "reason": "['Assertion is already revoked']",
        },
        {
            "revoked": False,
            "entityId": "unknown",
            "revocationReason": "x",
            "reason": "permission denied or object not found",
        },
        {"revoked": False, "entityId": first["entityId"], "reason": "revocationReason is required"},
        {"revoked": False, "reason": "entityId is required"},
    ]
    error(
        http.post(
            f"{host.api_url}/assertions/revoke", json={"entityId": "x"}, headers=account.headers
        ),
        400,
    )


def _next_link(header: str) -> str:
    for part in header.split(","):
        target, _, relation = part.partition(";")
        if relation.strip() == 'rel="next"':
            return target.strip().strip("<>")
    return ""


def test_award_lists_page_newest_first_and_cover_every_award_once(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Following rel="next" with num=2 walks five awards newest first, each exactly once."""
    made = [award(http, host, account, badgeclass, new_email())["entityId"] for _ in range(5)]
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions?num=2"
    pages: list[list[str]] = []
    links: list[str] = []
    while url:
        answer = http.get(url, headers=account.headers)
        assert answer.status_code == 200
        pages.append([item["entityId"] for item in answer.json()["result"]])
        links.append(answer.headers.get("link", ""))
        url = _next_link(links[-1])
    assert pages == [made[4:2:-1], made[2:0:-1], made[:1]]
    assert 'rel="prev"' not in links[0]
    assert 'rel="prev"' in links[2]
    assert 'rel="next"' not in links[2]
