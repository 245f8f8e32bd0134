"""An Open Badges 3.0 API account as a move's source and target (``upsertCredential``).

It takes only 3.0 credentials (JSON with an embedded proof, or a VC-JWT), which the host
verifies as they arrive; an upsert of a credential it holds replaces it, so a send repeated
after a lost answer leaves one copy.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from openbackpack._exceptions import BackpackError
from openbackpack.api.ob3 import Ob3Api
from openbackpack.credentials import read_jwt, unbake
from openbackpack.services.move._backpacks import READ_PAGE_SIZE, AccountSide
from openbackpack.services.move._model import HeldBadge, MoveItem, SourceBadge, Verdict

__all__ = ["Ob3Backpack"]

_API_LOCK = threading.Lock()


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else value
    return found if isinstance(found, str) else None


def _document(credential: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(credential, Mapping):
        return credential
    try:
        return read_jwt(credential).credential
    except BackpackError:
        return {}


def _subject(document: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, Mapping) else {}


class Ob3Backpack(AccountSide):
    """A learner's account on an Open Badges 3.0 API host."""

    @property
    def label(self) -> str:
        """``Open Badges 3.0 backpack N (email)``."""
        return f"Open Badges 3.0 backpack {self.provider.id} ({self.account.email})"

    @property
    def deletion(self) -> str | None:
        """The Open Badges 3.0 API has no way to delete a credential."""
        return "the Open Badges 3.0 API has no way to delete a credential"

    _ob3: Ob3Api | None = None

    def _api(self) -> Ob3Api:
        # One per backpack, over the backpack's client (never closed here): the host's
        # service description is then discovered once per move, not once per upsert.
        with _API_LOCK:
            if self._ob3 is None:
                self._ob3 = Ob3Api(
                    self.provider, self.account, store=self.store, client=self.client
                )
            return self._ob3

    def _credentials(self) -> list[dict[str, Any] | str]:
        return self._api().get_credentials(limit=READ_PAGE_SIZE)

    def _remote_id(self, credential_id: str) -> str:
        digest = hashlib.sha256(credential_id.encode()).hexdigest()[:40]
        return f"ob3:{self.account.id}:{digest}"

    def read(self) -> list[SourceBadge]:
        """Every credential of the account, JSON or VC-JWT, as the host gives it."""
        badges = []
        for credential in self._credentials():
            document = _document(credential)
            key = _id(document) or hashlib.sha256(str(credential).encode()).hexdigest()
            badges.append(SourceBadge(key, f"{self.label} credential {key}", credential))
        return badges

    def delete(self, badge: SourceBadge) -> None:  # pragma: no cover - deletion is refused first
        """Never called: see :attr:`deletion`."""
        raise NotImplementedError(self.deletion)

    def holdings(self) -> list[HeldBadge]:
        """What the account shows, one entry per credential."""
        held = []
        for credential in self._credentials():
            document = _document(credential)
            subject = _subject(document)
            credential_id = _id(document)
            held.append(
                HeldBadge(
                    remote_id=self._remote_id(credential_id or str(credential)),
                    id=credential_id,
                    issuer=_id(document.get("issuer")),
                    achievement=_id(subject.get("achievement")),
                    recipient=dict(subject) or None,
                    payload=credential,
                    format="ob3",
                )
            )
        return held

    def refusal(self, item: MoveItem) -> str | None:
        """Only 3.0 credentials that verify fully (the host checks them on the way in)."""
        if item.facts.format != "ob3":
            return (
                "an Open Badges 2.0 badge cannot go into an Open Badges 3.0 host, which takes "
                "only 3.0 credentials (its issuer can re-issue it: openbackpack reissue; this "
                "site's own awards are re-issued on the way with openbackpack move "
                "--reissue-base-url)"
            )
        if item.verdict is Verdict.UNVERIFIABLE:
            return (
                "the 3.0 host verifies what it takes, and this cannot be fully verified: "
                + item.reason
            )
        if item.recipient is None:
            return "its recipient is none of the account's verified emails"
        return None

    def method(self, item: MoveItem) -> str:
        """Always ``upsertCredential``."""
        return "3.0 upsert credential"

    def put(self, item: MoveItem) -> str:
        """Upsert the credential as the source holds it (a baked one as baked)."""
        payload = item.source.payload
        if isinstance(payload, bytes):
            text = unbake(payload).payload.strip()
            payload = text
        if isinstance(payload, str) and payload.startswith("{"):
            payload = json.loads(payload)
        assert item.facts.id is not None
        return self.upsert(payload if isinstance(payload, str) else dict(payload), item.facts.id)

    def upsert(self, credential: dict[str, Any] | str, credential_id: str) -> str:
        """Upsert one credential (JSON or a VC-JWT) whose id is ``credential_id``.

        Returns the id under which the account holds it (the same for every upsert of it).
        """
        self._api().upsert_credential(credential)
        return self._remote_id(credential_id)
