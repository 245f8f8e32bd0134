"""``openbackpack reissue --format ob3``: the site's 2.0 awards as signed 3.0 credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.cli._credentials import http_fetch
from openbackpack.credentials import DocumentLoader, verify_credential
from openbackpack.issuer import create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import Store
from tests.registry_data import PNG

runner = CliRunner()
EMAIL = "learner@example.org"


@pytest.fixture
def live(store: Store) -> Iterator[str]:
    """The store's hosted documents over loopback HTTP; yields their base URL."""
    sock = bind_socket()
    with serve_in_thread(create_issuer_app(store, base_url_of(sock)), sock=sock) as url:
        yield url


def _fetch(url: str) -> Any:
    # did:web always resolves over https; the test server speaks plain http on loopback.
    return http_fetch(url.replace("https://", "http://", 1))


def _awards(store: Store) -> tuple[list[str], str]:
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", "i@example.org")
        badge = tx.badge_classes.create(issuer.id, "Python", "Did it.", PNG, criteria_narrative="x")
        kept = [tx.awards.create(badge.id, EMAIL).hash for _ in range(2)]
        revoked = tx.awards.create(badge.id, EMAIL).hash
        tx.awards.revoke(revoked, "in error")
    return kept, revoked


def _env(store: Store, key: str) -> dict[str, str]:
    return {
        "OPENBACKPACK_DB": store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": key,
    }


def test_reissued_credentials_verify_and_carry_the_original_assertion(
    store: Store, live: str, secret_key: str, tmp_path: Path
) -> None:
    """Each live award becomes a verifying 3.0 credential whose evidence is its 2.0 assertion."""
    kept, revoked = _awards(store)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["reissue", "--format", "ob3", "--base-url", live, "--output", str(out)],
        env=_env(store, secret_key),
    )
    assert result.exit_code == 0, result.output
    assert "re-issued 2 award(s)" in result.output
    assert "1 revoked award(s) skipped" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{h}.json" for h in kept)
    loader = DocumentLoader(fetch=_fetch)
    for award_hash in kept:
        credential = json.loads((out / f"{award_hash}.json").read_text())
        report = verify_credential(credential, loader=loader, recipient=EMAIL)
        assert report.valid, report.to_json()
        original = credential["evidence"][-1]
        assert original["id"] == f"{live}/ob/assertions/{award_hash}"
        copied = json.loads(original["narrative"].removeprefix("```json\n").removesuffix("\n```"))
        assert copied["id"] == original["id"]
        assert copied["type"] == "Assertion"
    assert not (out / f"{revoked}.json").exists()


def test_reissue_as_jwt_prints_one_token_per_award(
    store: Store, live: str, secret_key: str
) -> None:
    """``--format ob3-jwt`` prints each award's VC-JWT on its own line, and each verifies."""
    kept, _ = _awards(store)
    result = runner.invoke(
        app,
        ["reissue", "--format", "ob3-jwt", "--base-url", live, "--award", kept[0]],
        env=_env(store, secret_key),
    )
    assert result.exit_code == 0, result.output
    tokens = result.stdout.split()
    assert len(tokens) == 1
    report = verify_credential(tokens[0], loader=DocumentLoader(fetch=_fetch), recipient=EMAIL)
    assert report.valid, report.to_json()


def test_reissue_without_a_base_url_is_one_error(store: Store, secret_key: str) -> None:
    """The credentials' ids need the hosted URL: without --base-url it is refused."""
    result = runner.invoke(app, ["reissue"], env=_env(store, secret_key))
    assert result.exit_code == 2
    assert "--base-url" in result.output
