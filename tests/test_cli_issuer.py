"""The issuer commands: issuer, badge, award and revoke, with tables or --json, and serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from openbackpack import (
    InvalidCriteriaError,
    InvalidEmailError,
    InvalidImageError,
    RecordNotFoundError,
)
from openbackpack.cli import app
from openbackpack.store import SecretBox, Store
from tests.registry_data import PNG, SVG
from tests.store.conftest import snapshot

runner = CliRunner()
BADGE_ADD = ["badge", "add", "--issuer", "1", "--name", "B", "--description", "D"]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An SQLite store URL with its key in the environment."""
    monkeypatch.setenv("OPENBACKPACK_SECRET_KEY", SecretBox.generate_key())
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """Image files named to mislead: the content decides, not the suffix."""
    files = {
        "png": tmp_path / "badge.png",
        "svg": tmp_path / "badge.svg",
        "gif": tmp_path / "x.png",
    }
    files["png"].write_bytes(PNG)
    files["svg"].write_bytes(SVG)
    files["gif"].write_bytes(b"GIF89a fake")
    return files


def _ok(db: str, *args: str) -> str:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(db: str, *args: str) -> object:
    return json.loads(_ok(db, *args, "--json"))


def _issuer(db: str) -> int:
    data = _json(db, "issuer", "add", "--name", "Example U", "--url", "https://example.org",
                 "--email", "badges@example.org")  # fmt: skip
    assert isinstance(data, dict)
    return int(data["id"])


def _badge(db: str, issuer: int, image: Path) -> int:
    data = _json(db, "badge", "add", "--issuer", str(issuer), "--name", "Badge",
                 "--description", "For the example.", "--image", str(image),
                 "--criteria", "Do it.", "--tag", "a", "--tag", "b",
                 "--alignment", "Std=https://standards.example.org/1")  # fmt: skip
    assert isinstance(data, dict)
    return int(data["id"])


def test_issuer_add_and_list(db: str, images: dict[str, Path]) -> None:
    """issuer add stores an issuer; issuer list shows it as a table and as JSON."""
    added = _ok(db, "issuer", "add", "--name", "Example U", "--url", "https://example.org",
                "--email", "badges@example.org", "--image", str(images["svg"]))  # fmt: skip
    assert added.strip() == "issuer 1 added: Example U"
    table = _ok(db, "issuer", "list")
    assert "Example U" in table
    assert "image/svg+xml" in table
    listing = _json(db, "issuer", "list")
    assert isinstance(listing, list)
    assert [(i["id"], i["email"], i["image"]) for i in listing] == [(1, "badges@example.org", True)]


def test_badge_add_and_list(db: str, images: dict[str, Path]) -> None:
    """badge add stores criteria, tags and alignments; badge list filters by issuer."""
    issuer = _issuer(db)
    badge = _badge(db, issuer, images["png"])
    listing = _json(db, "badge", "list", "--issuer", str(issuer))
    assert isinstance(listing, list)
    (item,) = listing
    assert (item["id"], item["image_type"], item["tags"]) == (badge, "image/png", ["a", "b"])
    assert item["criteria_narrative"] == "Do it."
    assert item["alignments"] == [
        {"target_name": "Std", "target_url": "https://standards.example.org/1",
         "target_description": None, "target_framework": None, "target_code": None}
    ]  # fmt: skip
    assert _json(db, "badge", "list", "--issuer", "99") == []
    assert "Badge" in _ok(db, "badge", "list")


def test_award_and_revoke(db: str, images: dict[str, Path]) -> None:
    """award prints the hash and assertion URL; revoke marks it revoked with the reason."""
    badge = _badge(db, _issuer(db), images["png"])
    awarded = _json(db, "award", str(badge), "learner@example.org", "--expires", "2030-01-01",
                    "--evidence", "https://example.org/work", "--salt", "pepper",
                    "--base-url", "https://badges.example.org")  # fmt: skip
    assert isinstance(awarded, dict)
    award_hash = awarded["hash"]
    assert awarded["assertion_url"] == f"https://badges.example.org/ob/assertions/{award_hash}"
    assert awarded["expires"] == "2030-01-01T00:00:00+00:00"
    assert awarded["salt"] == "pepper"
    assert awarded["evidence"][0]["url"] == "https://example.org/work"
    plain = _ok(db, "award", str(badge), "other@example.org")
    assert plain.startswith(f"awarded badge {badge}: ")
    revoked = _json(db, "revoke", award_hash, "--reason", "Mistake.")
    assert isinstance(revoked, dict)
    assert (revoked["revoked"], revoked["revocation_reason"]) == (True, "Mistake.")
    assert _ok(db, "revoke", plain.split(": ")[1].strip(), "--reason", "Also.").endswith(
        "revoked\n"
    )


def test_badge_endorse(db: str, images: dict[str, Path]) -> None:
    """badge endorse records an issuer's endorsement of a badge class."""
    issuer = _issuer(db)
    badge = _badge(db, issuer, images["png"])
    endorsement = _json(
        db, "badge", "endorse", str(badge), "--by", str(issuer), "--comment", "Good"
    )
    assert isinstance(endorsement, dict)
    assert (endorsement["badge_class_id"], endorsement["comment"]) == (badge, "Good")


_MESSAGES: dict[type[Exception], str] = {
    InvalidEmailError: "is not an email address",
    InvalidImageError: "the image is not usable",
    InvalidCriteriaError: "needs criteria",
    RecordNotFoundError: "no ",
}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(["issuer", "add", "--name", "X", "--url", "https://x.org", "--email", "nope"],
                     InvalidEmailError, id="issuer-email"),
        pytest.param([*BADGE_ADD, "--image", "{gif}", "--criteria", "x"], InvalidImageError,
                     id="image-by-content"),
        pytest.param([*BADGE_ADD, "--image", "{png}"], InvalidCriteriaError, id="no-criteria"),
        pytest.param(["award", "99", "a@example.org"], RecordNotFoundError, id="unknown-badge"),
        pytest.param(["award", "1", "not-an-email"], InvalidEmailError, id="award-email"),
        pytest.param(["revoke", "nope", "--reason", "x"], RecordNotFoundError, id="unknown-award"),
    ],
)  # fmt: skip
def test_bad_input_exits_1_and_stores_nothing(
    db: str, images: dict[str, Path], args: list[str], error: type[Exception]
) -> None:
    """Bad input is reported in one error line (exit code 1) and leaves the store as it was."""
    _badge(db, _issuer(db), images["png"])
    with Store.open(db) as store:
        before = snapshot(store)
    argv = [arg.format(gif=images["gif"], png=images["png"]) for arg in args]
    result = runner.invoke(app, ["--db", db, *argv])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert _MESSAGES[error] in result.output
    with Store.open(db) as store:
        assert snapshot(store) == before


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([*BADGE_ADD, "--image", "missing.png", "--criteria", "x"], id="missing-file"),
        pytest.param([*BADGE_ADD, "--image", "{png}", "--criteria", "x", "--alignment", "no-url"],
                     id="alignment"),
        pytest.param(["award", "1", "a@example.org", "--expires", "next week"], id="expires"),
        pytest.param(["award"], id="no-arguments"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(db: str, images: dict[str, Path], args: list[str]) -> None:
    """Missing files, malformed options and missing arguments are usage errors: exit code 2."""
    result = runner.invoke(app, ["--db", db, *(arg.format(png=images["png"]) for arg in args)])
    assert result.exit_code == 2, result.output


def test_errors_are_one_line_on_stderr(db: str, tmp_path: Path) -> None:
    """Through the real entry point, a refused award is one 'error:' line and exit code 1."""
    result = subprocess.run(
        [sys.executable, "-m", "openbackpack", "--db", db, "award", "7", "a@example.org"],
        capture_output=True, text=True, check=False, timeout=60, env=os.environ.copy(),
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: no badge class with id 7"]


def test_issuer_serve_prints_its_url_and_serves(db: str, images: dict[str, Path]) -> None:
    """issuer serve --port 0 prints the base URL of a free port and answers there."""
    badge = _badge(db, _issuer(db), images["svg"])
    award_hash = _json(db, "award", str(badge), "learner@example.org")["hash"]  # type: ignore[index]
    process = subprocess.Popen(
        [sys.executable, "-m", "openbackpack", "--db", db, "issuer", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("serving Open Badges documents at http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1]
        with httpx2.Client(timeout=10) as client:
            response = client.get(f"{base}/ob/assertions/{award_hash}")
            for _ in range(50):
                if response.status_code == 200:
                    break
                response = client.get(f"{base}/ob/assertions/{award_hash}")
            assert response.status_code == 200
            assert response.json()["id"] == f"{base}/ob/assertions/{award_hash}"
            image = client.get(f"{base}/ob/badges/{badge}/image")
            assert image.headers["content-type"] == "image/svg+xml"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
