"""The flows with an OB 3.0 backpack: push with claims, badges read back each verified, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from openbackpack import Ob3Api
from openbackpack.cli import app
from openbackpack.credentials import Outcome
from openbackpack.host import RunningHost
from openbackpack.protocols import ob3api as ob3
from openbackpack.services import disconnect, external_badges, push_award, push_awards
from openbackpack.store import BackpackAccount, Store
from tests.services._bc import consent_location, new_learner
from tests.services._ob3 import Ob3Site, connect_learner, ob3_site, provider_of

pytestmark = pytest.mark.usefixtures("loopback_allowed")

runner = CliRunner()


def _host_credentials(ob3site: Ob3Site, account: BackpackAccount) -> list[object]:
    with Ob3Api(provider_of(ob3site), account, store=ob3site.store) as api:
        return list(api.get_credentials())


def _tamper(host: RunningHost) -> int:
    """Change the name inside every stored credential at the host (a host gone bad)."""
    table = sa.table("host_ob3_credentials", sa.column("id"), sa.column("document"))
    with host.database.engine.begin() as connection:
        rows = connection.execute(sa.select(table.c.id, table.c.document)).all()
        for row in rows:
            document = json.loads(row.document)
            document["name"] = "Not what was issued"
            connection.execute(
                table.update().where(table.c.id == row.id).values(document=json.dumps(document))
            )
    return len(rows)


def test_a_pushed_award_is_read_back_and_shown_verified(
    ob3site: Ob3Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """push_award upserts the signed credential; external_badges shows it with a valid report."""
    account = connect_learner(ob3site, "51")
    award = ob3site.award(account.email)
    result = push_award(ob3site.store, "51", award, issuer_base_url=ob3site.issuer_url)
    assert (result.status, result.via, result.site) == ("added", "open badges 3.0", "created")
    monkeypatch.setenv("OPENBACKPACK_DOCUMENT_MAP", str(ob3site.document_map(tmp_path)))
    [badge] = external_badges(ob3site.store, "51", refresh=True).badges
    assert badge.name == "Python basics"
    assert badge.hosted_url == ob3site.urls.credential(award)
    assert badge.verification is not None
    assert badge.verification["outcome"] == Outcome.VALID.value
    assert badge.recipient_verified is True


def test_without_the_issuers_documents_a_badge_is_not_fully_checked(ob3site: Ob3Site) -> None:
    """Offline and unmapped, the issuer's DID cannot be read: the report says so, not valid."""
    account = connect_learner(ob3site, "52")
    push_award(
        ob3site.store, "52", ob3site.award(account.email), issuer_base_url=ob3site.issuer_url
    )
    [badge] = external_badges(ob3site.store, "52", refresh=True).badges
    assert badge.verification is not None
    assert badge.verification["outcome"] == Outcome.INDETERMINATE.value
    checks = {c["name"]: c["outcome"] for c in badge.verification["checks"]}
    assert checks["issuer key"] == "could not be checked"


def test_a_tampered_credential_read_back_is_reported_invalid(
    ob3site: Ob3Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential changed at the host after the push is shown with an invalid report."""
    account = connect_learner(ob3site, "53")
    push_award(
        ob3site.store, "53", ob3site.award(account.email), issuer_base_url=ob3site.issuer_url
    )
    assert _tamper(ob3site.host) >= 1
    monkeypatch.setenv("OPENBACKPACK_DOCUMENT_MAP", str(ob3site.document_map(tmp_path)))
    [badge] = external_badges(ob3site.store, "53", refresh=True).badges
    assert badge.verification is not None
    assert badge.verification["outcome"] == Outcome.INVALID.value
    assert badge.recipient_verified is False


def test_pushes_are_created_then_skipped_then_updated_never_duplicated(ob3site: Ob3Site) -> None:
    """A rerun sends nothing; a refresh updates (200) each; the host holds one per award."""
    account = connect_learner(ob3site, "54")
    hashes = [ob3site.award(account.email, new_badge=True) for _ in range(3)]
    first = push_awards(ob3site.store, "54", hashes, issuer_base_url=ob3site.issuer_url)
    assert (first.created, first.updated, first.failed) == (3, 0, 0)
    second = push_awards(ob3site.store, "54", hashes, issuer_base_url=ob3site.issuer_url)
    assert (second.skipped, second.created) == (3, 0)
    third = push_awards(
        ob3site.store, "54", hashes, issuer_base_url=ob3site.issuer_url, refresh=True
    )
    assert (third.updated, third.created) == (3, 0)
    assert len(_host_credentials(ob3site, account)) == 3


def test_a_lost_answer_to_the_upsert_is_adopted(ob3site: Ob3Site) -> None:
    """The host stored it but the answer was cut off: the push reads back and adopts it."""
    account = connect_learner(ob3site, "55")
    award = ob3site.award(account.email)
    ob3site.host.faults.drop_next(1, path=ob3.API_PATH + "/credentials")
    result = push_award(ob3site.store, "55", award, issuer_base_url=ob3site.issuer_url)
    assert result.site == "adopted"
    assert len(_host_credentials(ob3site, account)) == 1


def test_disconnect_revokes_the_tokens_at_the_host(ob3site: Ob3Site) -> None:
    """Disconnecting a 3.0 backpack revokes its tokens there and forgets the account."""
    account = connect_learner(ob3site, "56")
    with ob3site.store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
    assert token is not None
    assert disconnect(ob3site.store, "56", ob3site.provider_id, acting_user="56") is True
    with ob3site.store.transaction() as tx:
        assert tx.accounts.find("56", ob3site.provider_id) is None
    answer = httpx2.get(
        ob3site.host.base_url + ob3.API_PATH + "/credentials",
        headers={"Authorization": f"Bearer {token.access_token.reveal()}"},
    )
    assert answer.status_code == 401


def _run(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_the_commands_work_with_a_3_0_backpack(
    store: Store, ob3_host: RunningHost, secret_key: str, tmp_path: Path
) -> None:
    """backpacks add/test, connect (pasted address), push, badges --json, disconnect: all 3.0."""
    env = {
        "OPENBACKPACK_DB": store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }
    code, output = _run(env, "backpacks", "add", "https://other.example.org/ims/ob/v3p0",
                        "https://other.example.org", "--api-version", "v3p0")  # fmt: skip
    assert code == 0, output
    with store.transaction() as tx:
        assert [p.api_version.value for p in tx.providers.list()] == ["3.0"]
    with ob3_site(store, ob3_host) as ob3site:
        code, output = _run(env, "backpacks", "test", str(ob3site.provider_id))
        assert code == 0, output
        assert "Open Badges 3.0 service description read" in output
        email = new_learner(ob3_host)
        redirect = "https://lms.example.org/badges/callback"
        code, output = _run(env, "connect", "--user", "61", "--backpack", str(ob3site.provider_id),
                            "--redirect-uri", redirect)  # fmt: skip
        assert code == 0, output
        url = next(line for line in output.splitlines() if "/authorize?" in line).strip()
        pasted = consent_location(url, email)
        code, output = _run(env, "connect", "--user", "61", "--backpack", str(ob3site.provider_id),
                            "--callback-url", pasted)  # fmt: skip
        assert code == 0, output
        assert f"connected {email}" in output
        award = ob3site.award(email)
        code, output = _run(env, "push", award, "--base-url", ob3site.issuer_url, "--user", "61",
                            "--json")  # fmt: skip
        assert code == 0, output
        pushed = json.loads(output)
        assert pushed["counts"]["created"] == 1
        env["OPENBACKPACK_DOCUMENT_MAP"] = str(ob3site.document_map(tmp_path))
        code, output = _run(env, "badges", "--user", "61", "--refresh", "--json")
        assert code == 0, output
        [badge] = json.loads(output)["badges"]
        assert badge["verification"]["outcome"] == Outcome.VALID.value
        code, output = _run(env, "disconnect", "--user", "61", "--backpack",
                            str(ob3site.provider_id))  # fmt: skip
        assert code == 0, output
        assert "revoked its tokens" in output


def test_a_vc_jwt_read_back_is_shown_with_its_signature_checked(ob3site: Ob3Site) -> None:
    """A credential the host holds as a VC-JWT is shown from its payload, its JWS verified."""
    account = connect_learner(ob3site, "57")
    award = ob3site.award(account.email)
    with Ob3Api(provider_of(ob3site), account, store=ob3site.store) as api:
        assert api.upsert_credential(ob3site.jwt(award)).created is True
    [badge] = external_badges(ob3site.store, "57", refresh=True).badges
    assert badge.name == "Python basics"
    assert badge.hosted_url == ob3site.urls.credential(award)
    assert badge.verification is not None
    checks = {c["name"]: c["outcome"] for c in badge.verification["checks"]}
    assert checks["proof"] == "passed"
    assert checks["issuer key"] == "passed"
    assert badge.recipient_verified is True
