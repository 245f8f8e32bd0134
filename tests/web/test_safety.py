"""What the pages refuse: forged forms, strangers, and tracebacks; the headers they send."""

from __future__ import annotations

from starlette.requests import Request

from openbackpack.client import BackpackClient
from openbackpack.web import WebUser
from tests.services.conftest import LEARNER_EMAIL, LEARNER_PASSWORD, Site

from .conftest import Web, serve_pages


def test_a_form_without_the_session_s_token_is_refused(web: Web) -> None:
    """A cross-site POST (no token, or another session's token) gets 403 and mails nothing."""
    provider = web.site.primary_id
    form = {"email": LEARNER_EMAIL, "password": LEARNER_PASSWORD}
    forger = web.visitor("learner-a")
    assert forger.http.post(f"/connect/{provider}", data=form).status_code == 403
    other = web.visitor("learner-a")
    other.get(f"/connect/{provider}")
    forger.get(f"/connect/{provider}")
    stolen = {"csrf_token": other.token, **form}
    refused = forger.http.post(f"/connect/{provider}", data=stolen)
    assert refused.status_code == 403
    assert "The form expired" in refused.text
    assert web.site.outbox.messages() == []


def test_nobody_logged_in_gets_401_as_a_page(web: Web) -> None:
    """Without a user from the platform's hook, the pages answer 401 with an error page."""
    answer = web.visitor(None).get("/")
    assert answer.status_code == 401
    assert "Please log in first." in answer.text


def test_nobody_logged_in_is_sent_to_the_login_url(site: Site, client: BackpackClient) -> None:
    """With a login URL in the settings, a visitor who is not logged in is redirected there."""
    with serve_pages(site, client, login_url="https://platform.example/login") as pages:
        answer = pages.visitor(None).get("/badges")
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://platform.example/login"


def test_every_page_carries_the_security_headers_and_a_samesite_cookie(web: Web) -> None:
    """CSP with frame-ancestors, nosniff, no framing; the session cookie is SameSite, HttpOnly."""
    answer = web.visitor("learner-a").get("/")
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    cookie = answer.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie
    assert "httponly" in cookie


def test_errors_are_pages_not_tracebacks(web: Web) -> None:
    """An unknown page and an unknown backpack answer 404 pages with the headers."""
    visitor = web.visitor("learner-a")
    for path in ("/no-such-page", "/connect/999999", "/verify/999999"):
        answer = visitor.get(path)
        assert answer.status_code == 404
        assert "<h1>Sorry</h1>" in answer.text
        assert "Traceback" not in answer.text
        assert "content-security-policy" in answer.headers


def test_the_stylesheet_is_served(web: Web) -> None:
    """The one stylesheet is served as text/css from the app itself."""
    answer = web.visitor(None).get("/style.css")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")


def test_a_crash_is_a_page_without_the_traceback(site: Site, client: BackpackClient) -> None:
    """When the platform's hook itself fails, the answer is a 500 page with the headers."""

    def broken(_: Request) -> WebUser | None:
        raise RuntimeError("secret internals")

    with serve_pages(site, client, identify_with=broken) as pages:
        answer = pages.visitor("learner-a").get("/")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
