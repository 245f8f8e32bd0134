"""The admin's pages over HTTP: site backpacks and site settings, for admins only."""

from __future__ import annotations

import re

from openbackpack.services import list_backpacks, site_settings
from tests.services.conftest import ISSUER_EMAIL, ISSUER_PASSWORD

from .conftest import Visitor, Web


def _order(web: Web) -> list[int]:
    return [backpack.id for backpack in list_backpacks(web.site.store)]


def _admin(web: Web) -> Visitor:
    admin = web.visitor("admin-1", admin=True)
    assert admin.get("/admin/backpacks").status_code == 200
    return admin


def test_backpacks_are_listed_primary_first(web: Web) -> None:
    """The list shows the primary first and offers no delete for it."""
    page = _admin(web).get("/admin/backpacks").text
    rows = re.findall(r'<tr id="backpack-(\d+)">', page)
    assert [int(r) for r in rows] == _order(web)
    primary_row = page.split(f'id="backpack-{web.site.primary_id}"')[1].split("</tr>")[0]
    assert "Delete" not in primary_row
    assert "primary" in primary_row


def test_an_admin_adds_edits_moves_tests_and_deletes_a_backpack(web: Web) -> None:
    """Each admin action changes the store as asked and answers with the list or the result."""
    admin = _admin(web)
    admin.get("/admin/backpacks/new")
    added = admin.post(
        "/admin/backpacks/new",
        {"api_url": "https://new.example/v2", "web_url": "https://new.example/web",
         "api_version": "2", "email": "", "password": ""},
    )  # fmt: skip
    assert added.status_code == 303
    new = _order(web)[-1]
    admin.get(f"/admin/backpacks/{new}")
    edited = admin.post(
        f"/admin/backpacks/{new}",
        {"api_url": "", "web_url": "https://renamed.example/web", "api_version": "2"},
    )
    assert edited.status_code == 303
    assert "https://renamed.example/web" in admin.get("/admin/backpacks").text
    assert admin.post(f"/admin/backpacks/{new}/move", {"direction": "up"}).status_code == 303
    assert _order(web).index(new) == 1
    admin.get("/admin/backpacks")
    tested = admin.post(f"/admin/backpacks/{web.site.primary_id}/test")
    assert tested.status_code == 200
    assert "It works:" in tested.text
    assert admin.post(f"/admin/backpacks/{new}/delete").status_code == 303
    assert new not in _order(web)


def test_deleting_the_primary_is_refused_on_a_page(web: Web) -> None:
    """A forged delete of the primary backpack answers 400 with the reason and keeps it."""
    admin = _admin(web)
    refused = admin.post(f"/admin/backpacks/{web.site.primary_id}/delete")
    assert refused.status_code == 400
    assert "primary" in refused.text
    assert web.site.primary_id in _order(web)


def test_a_bad_backpack_address_is_refused_with_its_reason(web: Web) -> None:
    """An API address that is not a URL answers 400 naming it, and adds nothing."""
    admin = _admin(web)
    before = _order(web)
    refused = admin.post(
        "/admin/backpacks/new",
        {"api_url": "not a url", "web_url": "https://x.example", "api_version": "2"},
    )
    assert refused.status_code == 400
    assert "Traceback" not in refused.text
    assert _order(web) == before


def test_an_admin_changes_the_site_settings(web: Web) -> None:
    """The settings form saves what changed (an unticked box is false) and refuses bad values."""
    admin = web.visitor("admin-1", admin=True)
    page = admin.get("/admin/settings")
    assert "checked" in page.text
    saved = admin.post(
        "/admin/settings",
        {"default_issuer_name": "Example Site", "default_issuer_contact": ISSUER_EMAIL,
         "verification_email_subject": "", "verification_email_body": ""},
    )  # fmt: skip
    assert saved.status_code == 200
    assert "Saved." in saved.text
    current = site_settings(web.site.store)
    assert current.default_issuer_name == "Example Site"
    assert current.allow_external_backpacks is False
    refused = admin.post(
        "/admin/settings",
        {"default_issuer_contact": "not an email", "allow_external_backpacks": "true"},
    )
    assert refused.status_code == 400
    assert site_settings(web.site.store).default_issuer_contact == ISSUER_EMAIL


def test_a_learner_gets_403_on_every_admin_page(web: Web) -> None:
    """Without the admin flag, admin pages and actions answer 403 and change nothing."""
    learner = web.visitor("learner-a")
    learner.get(f"/connect/{web.site.primary_id}")
    before = _order(web)
    for path in ("/admin/backpacks", "/admin/backpacks/new", "/admin/settings"):
        assert learner.get(path).status_code == 403
    for path in (
        f"/admin/backpacks/{web.site.other_id}/delete",
        f"/admin/backpacks/{web.site.other_id}/move",
        "/admin/backpacks/new",
    ):
        answer = learner.post(path, {"direction": "up", "api_url": "https://x.example"})
        assert answer.status_code == 403
    assert _order(web) == before
    assert "Manage backpacks" not in learner.get("/").text


def test_the_primary_s_site_password_is_never_shown(web: Web) -> None:
    """The edit form of the primary shows its site account's email but never the password."""
    page = _admin(web).get(f"/admin/backpacks/{web.site.primary_id}").text
    assert ISSUER_EMAIL in page
    assert ISSUER_PASSWORD not in page


def test_the_settings_page_edits_the_public_address_of_the_site(web: Web) -> None:
    """site_url is saved as https or loopback http; a plain http public one is refused (400)."""
    admin = web.visitor("admin-1", admin=True)
    page = admin.get("/admin/settings")
    assert 'id="site_url"' in page.text
    form = {"default_issuer_contact": ISSUER_EMAIL, "allow_external_backpacks": "true"}
    saved = admin.post("/admin/settings", {**form, "site_url": "https://lms.example.org/moodle"})
    assert saved.status_code == 200
    assert 'value="https://lms.example.org/moodle"' in saved.text
    assert site_settings(web.site.store).site_url == "https://lms.example.org/moodle"
    for bad in ("http://lms.example.org", "lms.example.org", "https://lms.example.org/?a=1"):
        refused = admin.post("/admin/settings", {**form, "site_url": bad})
        assert refused.status_code == 400, bad
        assert "site_url must be an https URL" in refused.text
    assert site_settings(web.site.store).site_url == "https://lms.example.org/moodle"
    local = admin.post("/admin/settings", {**form, "site_url": "http://127.0.0.1:8000"})
    assert local.status_code == 200
    assert site_settings(web.site.store).site_url == "http://127.0.0.1:8000"
