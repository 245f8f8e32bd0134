"""The learner's pages over HTTP: connecting, collections, badges, awards, disconnecting."""

from __future__ import annotations

import re
import time

from openbackpack.client import BackpackClient
from openbackpack.services import add_backpack
from openbackpack.store import IdentifierKind
from tests.registry_data import PNG
from tests.services.conftest import (
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    OTHER_EMAIL,
    OTHER_PASSWORD,
    Hosts,
    collection,
)

from .conftest import Visitor, Web

# The host strips whole tags from names, as Badgr does; an unterminated one survives it.
HOSTILE = "<script>alert(1)</script> & <img src=x onerror=alert(1)"


def _code(web: Web) -> str:
    body = web.site.outbox.messages()[-1].get_content()
    found = re.search(r"verification code is: (\S+)", body)
    assert found is not None
    return found.group(1)


def _connect(web: Web, visitor: Visitor, email: str, password: str) -> None:
    provider = web.site.primary_id
    assert visitor.get("/").status_code == 200
    assert visitor.get(f"/connect/{provider}").status_code == 200
    started = visitor.post(f"/connect/{provider}", {"email": email, "password": password})
    assert started.status_code == 303
    assert started.headers["location"].endswith(f"/verify/{provider}")
    page = visitor.get(f"/verify/{provider}")
    assert email in page.text
    verified = visitor.post(f"/verify/{provider}", {"code": _code(web)})
    assert verified.status_code == 303
    assert verified.headers["location"].endswith(f"/backpacks/{provider}/collections")


def _award(web: Web, email: str, name: str) -> str:
    with web.site.store.transaction() as tx:
        issuer = tx.issuers.list()[0]
        badge = tx.badge_classes.create(
            issuer.id, name, "From a test.", PNG, criteria_narrative="Pass."
        )
        return tx.awards.create(badge.id, email).hash


def test_a_learner_connects_adds_an_award_chooses_a_collection_and_disconnects(
    web: Web, hosts: Hosts, client: BackpackClient
) -> None:
    """The v2 flow end to end; a badge named with markup from the host is shown as text."""
    learner = web.visitor("learner-a")
    _connect(web, learner, LEARNER_EMAIL, LEARNER_PASSWORD)
    award_hash = _award(web, LEARNER_EMAIL, HOSTILE)
    awards = learner.get("/awards")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img" in awards.text
    assert "<script>" not in awards.text
    added = learner.post(f"/awards/{award_hash}/add")
    assert added.status_code == 200
    assert "is now in your backpack" in added.text
    with web.site.store.transaction() as tx:
        remote = tx.identifiers.get(web.site.primary_id, IdentifierKind.ASSERTION, award_hash)
    assert remote is not None
    chosen = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, [remote])
    page = learner.get(f"/backpacks/{web.site.primary_id}/collections")
    assert "1 badge" in page.text
    saved = learner.post(f"/backpacks/{web.site.primary_id}/collections", {"collection": chosen})
    assert saved.status_code == 303
    badges = learner.get("/badges")
    assert "alert(1) &amp; &lt;img src=x onerror=alert(1)" in badges.text
    assert "<img src=x" not in badges.text
    assert "Example University" in badges.text
    assert "checked: it is you" in badges.text
    # Shown again from the kept rendering of the list: the same, still escaped, HTML.
    again = learner.get("/badges")
    listed = re.search(r'<ul class="badges">.*?</ul>', badges.text, re.S)
    assert listed is not None
    assert listed.group(0) in again.text
    gone = learner.post(f"/backpacks/{web.site.primary_id}/disconnect")
    assert gone.status_code == 303
    assert "You have not connected a backpack yet." in learner.get("/").text


def test_resend_sends_a_new_code_and_cancel_drops_the_pending_connection(web: Web) -> None:
    """Resend mails a second code; after cancel the code page is gone (404)."""
    learner = web.visitor("learner-a")
    provider = web.site.primary_id
    learner.get(f"/connect/{provider}")
    learner.post(f"/connect/{provider}", {"email": LEARNER_EMAIL, "password": LEARNER_PASSWORD})
    learner.get(f"/verify/{provider}")
    assert learner.post(f"/verify/{provider}/resend").status_code == 303
    assert len(web.site.outbox.messages()) == 2
    assert learner.post(f"/verify/{provider}/cancel").status_code == 303
    assert learner.get(f"/verify/{provider}").status_code == 404


def test_a_wrong_password_is_said_on_a_page_and_nothing_is_mailed(web: Web) -> None:
    """The backpack's refusal is shown as a 400 page, never a traceback; no code is sent."""
    learner = web.visitor("learner-a")
    learner.get(f"/connect/{web.site.primary_id}")
    refused = learner.post(
        f"/connect/{web.site.primary_id}", {"email": LEARNER_EMAIL, "password": "wrong"}
    )
    assert refused.status_code == 400
    assert "Traceback" not in refused.text
    assert web.site.outbox.messages() == []


def test_learner_b_can_neither_see_nor_change_learner_a_s_account(web: Web) -> None:
    """Ids of A's backpack, code page and award edited into B's requests all answer 404."""
    learner_a = web.visitor("learner-a")
    _connect(web, learner_a, LEARNER_EMAIL, LEARNER_PASSWORD)
    award_hash = _award(web, LEARNER_EMAIL, "A's badge")
    learner_b = web.visitor("learner-b")
    provider = web.site.primary_id
    learner_b.get(f"/connect/{provider}")
    assert learner_b.get(f"/backpacks/{provider}/collections").status_code == 404
    assert learner_b.post(f"/backpacks/{provider}/disconnect").status_code == 404
    assert learner_b.post(f"/awards/{award_hash}/add").status_code == 404
    assert "A&#39;s badge" not in learner_b.get("/awards").text
    assert LEARNER_EMAIL not in learner_b.get("/").text
    with web.site.store.transaction() as tx:
        assert tx.accounts.find("learner-a", provider) is not None


def test_an_award_to_another_email_is_not_listed_or_added(web: Web) -> None:
    """A learner connected as one email sees no award made to another."""
    learner = web.visitor("learner-a")
    _connect(web, learner, OTHER_EMAIL, OTHER_PASSWORD)
    theirs = _award(web, LEARNER_EMAIL, "Someone else's")
    assert "Someone else" not in learner.get("/awards").text
    assert learner.post(f"/awards/{theirs}/add").status_code == 404


def test_a_learner_connects_a_v1_backpack_with_the_email_only(web: Web, hosts: Hosts) -> None:
    """A Displayer (v1) backpack asks for no password; the mailed code connects the account."""
    v1 = add_backpack(web.site.store, hosts.other.base_url, "https://v1.example", "1")
    learner = web.visitor("learner-a")
    form = learner.get(f"/connect/{v1.id}")
    assert 'name="password"' not in form.text
    started = learner.post(f"/connect/{v1.id}", {"email": LEARNER_EMAIL})
    assert started.status_code == 303
    learner.get(f"/verify/{v1.id}")
    assert learner.post(f"/verify/{v1.id}", {"code": _code(web)}).status_code == 303
    with web.site.store.transaction() as tx:
        account = tx.accounts.find("learner-a", v1.id)
    assert account is not None
    assert account.email == LEARNER_EMAIL
    assert learner.get(f"/backpacks/{v1.id}/collections").status_code == 200


def test_add_all_pushes_every_award_in_the_background_for_its_owner_only(web: Web) -> None:
    """Add all pushes each award, the progress page ends with every result; others get 404."""
    learner = web.visitor("learner-a")
    _connect(web, learner, LEARNER_EMAIL, LEARNER_PASSWORD)
    names = [f"Bulk {n}" for n in range(3)]
    for name in names:
        _award(web, LEARNER_EMAIL, name)
    learner.get("/awards")
    started = learner.post("/awards/add-all")
    assert started.status_code == 303
    progress_url = started.headers["location"]
    for _ in range(200):
        page = learner.get(progress_url)
        if "Done:" in page.text:
            break
        time.sleep(0.05)
    assert "Done: 3 of 3, 0 failed." in page.text
    for name in names:
        assert f"{name}: added" in page.text or f"{name}: pushed" in page.text
    stranger = web.visitor("learner-b")
    assert stranger.get(progress_url).status_code == 404
