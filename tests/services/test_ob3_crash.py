"""A push of OB 3.0 credentials killed at random points, then resumed: one credential per award."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from openbackpack import Ob3Api
from openbackpack.store import BackpackAccount, IdentifierKind
from tests.services._ob3 import Ob3Site, connect_learner, provider_of

pytestmark = pytest.mark.usefixtures("loopback_allowed")

_ROOT = Path(__file__).resolve().parents[2]


def _mapped(ob3site: Ob3Site, account: BackpackAccount) -> dict[str, str]:
    prefix = f"import:{account.id}:"
    with ob3site.store.transaction() as tx:
        return {
            i.internal_key.removeprefix(prefix): i.external_id
            for i in tx.identifiers.list(ob3site.provider_id)
            if i.kind is IdentifierKind.ASSERTION and i.internal_key.startswith(prefix)
        }


def _child(
    ob3site: Ob3Site, store_url: str, key: str, hashes: list[str], owner: str, path: Path
) -> subprocess.Popen[str]:
    path.write_text("\n".join(hashes))
    env = {**os.environ, "OPENBACKPACK_SECRET_KEY": key, "PYTHONPATH": str(_ROOT)}
    command = [sys.executable, "-m", "tests.services._ob3_child", store_url, ob3site.issuer_url,
               str(path), owner, str(ob3site.provider_id)]  # fmt: skip
    return subprocess.Popen(
        command, cwd=_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    counts: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return counts


def test_a_killed_push_of_credentials_resumed_leaves_one_credential_per_award(
    ob3site: Ob3Site, store_url: str, secret_key: str, tmp_path: Path
) -> None:
    """SIGKILL at random moments, then a resume: the host holds exactly one per award."""
    account = connect_learner(ob3site, "81")
    hashes = [ob3site.award(account.email, new_badge=True) for _ in range(16)]
    chance = random.Random(17)
    for round_ in range(3):
        process = _child(ob3site, store_url, secret_key, hashes, "81", tmp_path / f"h{round_}")
        deadline = time.monotonic() + 30
        while len(_mapped(ob3site, account)) < 2 * (round_ + 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(chance.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    counts = _finish(_child(ob3site, store_url, secret_key, hashes, "81", tmp_path / "last"))
    assert counts["failed"] == 0, counts
    mapped = _mapped(ob3site, account)
    assert set(mapped) == set(hashes)
    with Ob3Api(provider_of(ob3site), account, store=ob3site.store) as api:
        held = Counter(str(item["id"]) for item in api.get_credentials() if isinstance(item, dict))
    assert held == Counter({ob3site.urls.credential(h): 1 for h in hashes})
