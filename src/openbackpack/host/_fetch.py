"""Fetching hosted Open Badges documents for an import, safely.

Only http(s) URLs, connect and read timeouts, a size cap, at most five redirects (each one
checked again), and no private, loopback, link-local or otherwise special address unless the
host was started with ``allow_private_fetch``: a backpack that fetches whatever URL a user
posts must not become a way into the network it runs in. The fetcher itself lives in
:mod:`openbackpack._pinned_fetch`, shared with the pages' badge images.
"""

from openbackpack._pinned_fetch import Fetched, Fetcher, FetchError, Resolver

__all__ = ["FetchError", "Fetched", "Fetcher", "Resolver"]
