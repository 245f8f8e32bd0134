"""The black-hole fault: creates and imports answered with success, nothing stored."""

from __future__ import annotations

import pytest

from openbackpack._exceptions import InvalidInputError
from openbackpack.host import FaultSettings
from openbackpack.host._faults import FaultInjector


def test_black_hole_swallows_only_the_first_creates() -> None:
    """The first N POSTs to an import or create path are swallowed; reads never are."""
    injector = FaultInjector(FaultSettings(black_hole_first=2))
    assert FaultSettings(black_hole_first=2).enabled
    assert not injector.swallows("GET", "/v2/backpack/assertions")
    assert not injector.swallows("POST", "/v2/issuers")
    assert injector.swallows("POST", "/v2/backpack/import")
    assert injector.swallows("POST", "/ims/ob/v2p1/assertions")
    injector.black_hole_next(1)
    assert injector.swallows("POST", "/ims/ob/v3p0/credentials")
    assert not injector.swallows("POST", "/bcv1/assertions")
    injector.black_hole_next(1)
    assert injector.swallows("POST", "/bcv1/assertions")
    assert not injector.swallows("POST", "/v2/backpack/import")


def test_black_hole_rate_is_seeded_and_checked() -> None:
    """A rate of 1 swallows every create; a rate outside 0..1 is refused."""
    injector = FaultInjector(FaultSettings(black_hole_rate=1.0, seed=3))
    assert all(injector.swallows("POST", "/v2/backpack/import") for _ in range(5))
    with pytest.raises(InvalidInputError, match="black_hole_rate"):
        FaultSettings(black_hole_rate=1.5)
    with pytest.raises(InvalidInputError, match="counts"):
        FaultSettings(black_hole_first=-1)
