"""A pushing process for the OB 3.0 crash test: push a user's awards to their 3.0 backpack.

``python -m tests.services._ob3_child STORE_URL ISSUER_BASE HASHES_FILE OWNER PROVIDER_ID``,
with the store's key in ``OPENBACKPACK_SECRET_KEY``. Prints the report's counts as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.services import push_awards
from openbackpack.store import Store


def main() -> None:
    """Push every award listed in the file into the owner's backpack; print the counts."""
    url, base, listing, owner, provider = sys.argv[1:6]
    hashes = Path(listing).read_text().split()
    retry = RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)
    with Store.open(url) as store, BackpackClient(retry=retry) as client:
        report = push_awards(
            store, owner, hashes, issuer_base_url=base, provider_id=int(provider),
            client=client, concurrency=4,
        )  # fmt: skip
    counts = {
        "created": report.created,
        "adopted": report.adopted,
        "updated": report.updated,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": [str(f.error) for f in report.failures][:5],
    }
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
