"""The altered-shown fault: a 3.0 host that shows credentials other than it took them."""

from __future__ import annotations

import json

from openbackpack.host import FaultSettings
from openbackpack.host._faults import FaultInjector, _altered_page

_PAGE = "/ims/ob/v3p0/credentials"


def test_only_credential_lists_are_altered_and_only_while_it_is_on() -> None:
    """Reads of the credential list are altered after alter_shown(n), none after alter_shown(0)."""
    injector = FaultInjector(FaultSettings())
    assert injector.altered_shown("GET", _PAGE) == 0
    injector.alter_shown(2)
    assert injector.altered_shown("GET", _PAGE) == 2
    assert injector.altered_shown("GET", _PAGE + "/") == 2
    assert injector.altered_shown("POST", _PAGE) == 0
    assert injector.altered_shown("GET", "/ims/ob/v3p0/profile") == 0
    injector.alter_shown(0)
    assert injector.altered_shown("GET", _PAGE) == 0


def test_the_first_credentials_of_a_page_are_shown_renamed_with_their_proofs() -> None:
    """The first n JSON credentials get a changed name, proof kept; the rest and JWTs do not."""
    page = {
        "credential": [
            {"id": "a", "name": "A", "proof": [{"proofValue": "z1"}]},
            {"id": "b", "proof": [{"proofValue": "z2"}]},
            {"id": "c", "name": "C"},
        ],
        "compactJwsString": ["x.y.z"],
    }
    shown = json.loads(_altered_page(json.dumps(page).encode(), 2))
    assert [c.get("name") for c in shown["credential"]] == [
        "A (altered by the host)",
        " (altered by the host)",
        "C",
    ]
    assert [c.get("proof") for c in shown["credential"][:2]] == [
        [{"proofValue": "z1"}],
        [{"proofValue": "z2"}],
    ]
    assert shown["compactJwsString"] == ["x.y.z"]


def test_an_answer_that_is_not_a_page_passes_as_it_is() -> None:
    """An error body, or text that is not JSON, is not touched."""
    error = json.dumps({"imsx_codeMajor": "failure"}).encode()
    assert _altered_page(error, 1) == error
    assert _altered_page(b"not json", 1) == b"not json"
