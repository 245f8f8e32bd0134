from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openbackpack.credentials import DocumentLoader

DATA = Path(__file__).resolve().parent.parent / "data"
OB3_VECTOR = DATA / "ob_v3p0" / "obv3p0"
W3C = DATA / "w3c-vc-di-eddsa"
OB30 = DATA / "ob30-validator"
OB20 = DATA / "ob20-validator"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def loader() -> DocumentLoader:
    return DocumentLoader()


W3C_ECDSA = DATA / "w3c-vc-di-ecdsa"
