"""The benchmarks' helpers do what they say (correctness only: nothing here is timed)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from benchmarks.__main__ import main
from benchmarks._load import LoadRequest, read_response, run_load
from benchmarks._processes import host_process, process_cpu_seconds
from benchmarks._report import Result, rounded, speedup
from benchmarks._seed import (
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    add_host_users,
    create_issuer_and_badge,
    insert_awards,
)
from benchmarks.distributed_push import Config, measure
from benchmarks.push_crash import measure as measure_push_crash
from fastapi import FastAPI
from sqlalchemy import func, select

from openbackpack.client import BackpackClient
from openbackpack.host import HostDatabase
from openbackpack.host import _schema as host_tables
from openbackpack.protocols import Base, Endpoint, badgr
from openbackpack.serve import serve_in_thread

STATIC = Endpoint("static", "GET", "/static", base=Base.ROOT, auth=False)


def test_rounded_keeps_four_significant_digits_everywhere() -> None:
    """Floats are cut to significant digits, inside dicts and lists too; the rest is kept."""
    assert rounded(123.456789) == 123.5
    assert rounded(0.000123456) == 0.0001235
    assert rounded({"a": [1.23456789, 2], "b": True, "c": None}) == {
        "a": [1.235, 2],
        "b": True,
        "c": None,
    }
    assert rounded(0.0) == 0.0


def test_result_prints_the_documented_fields_first() -> None:
    """One JSON line: name, openbackpack, baseline, unit, ratio, target, met, then extras."""
    result = Result("x", 1.0, 20.0, "s", speedup(20.0, 1.0), "fast", True, {"floor_s": 0.5})
    line = result.to_json()
    assert "\n" not in line
    assert list(json.loads(line)) == [
        "name", "openbackpack", "baseline", "unit", "ratio", "target", "met", "floor_s",
    ]  # fmt: skip
    assert json.loads(line)["ratio"] == 20.0


def test_result_refuses_extras_that_hide_a_field() -> None:
    """An extra field may not overwrite a documented one."""
    with pytest.raises(ValueError, match="may not replace"):
        Result("x", 1.0, 1.0, "s", 1.0, "t", True, {"ratio": 3}).as_dict()


def test_speedup_needs_a_positive_measurement() -> None:
    """A zero measurement cannot be compared."""
    with pytest.raises(ValueError, match="greater than 0"):
        speedup(1.0, 0.0)


def test_load_request_bytes() -> None:
    """A request is a request line, Host, Content-Length, the headers, a blank line, the body."""
    raw = LoadRequest("POST", "/o/token", {"X-A": "1"}, b"a=b").encode("127.0.0.1:80")
    assert raw == (
        b"POST /o/token HTTP/1.1\r\nHost: 127.0.0.1:80\r\nContent-Length: 3\r\nX-A: 1\r\n\r\na=b"
    )


def test_read_response_reads_exactly_one_answer() -> None:
    """The status comes back, the body is consumed, and the next answer is left in place."""

    async def read_two() -> tuple[int, int, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 404 ")
        reader.feed_data(b"Not Found\r\nContent-Length: 0\r\n\r\nrest")
        reader.feed_eof()
        return await read_response(reader), await read_response(reader), await reader.read()

    assert asyncio.run(read_two()) == (201, 404, b"rest")


def test_load_is_bounded_by_count() -> None:
    """run_load sends exactly max_requests when time allows, over keep-alive connections."""
    app = FastAPI()
    seen: list[str] = []

    @app.get("/ping")
    def ping() -> dict[str, str]:
        seen.append("ping")
        return {"pong": "yes"}

    with serve_in_thread(app) as url:
        result = run_load(
            url, LoadRequest("GET", "/ping"), connections=3, max_requests=40, max_seconds=30
        )
    assert result.requests == 40
    assert result.statuses == {200: 40}
    assert len(seen) == 40


def test_load_refuses_unbounded_runs() -> None:
    """No connections, no requests or no time is a ValueError."""
    with pytest.raises(ValueError, match="positive"):
        run_load("http://127.0.0.1:9", LoadRequest("GET", "/"), connections=1, max_requests=1,
                 max_seconds=0)  # fmt: skip


def test_process_cpu_seconds_reads_this_process() -> None:
    """The CPU time read from /proc grows as this process works."""
    before = process_cpu_seconds(os.getpid())
    sum(n * n for n in range(2_000_000))
    assert process_cpu_seconds(os.getpid()) > before


def test_insert_awards_seeds_the_badge_class(tmp_path: Path) -> None:
    """Direct inserts add the asked number of awards to the badge class, ids all distinct."""
    db = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
    with (
        host_process(db, tmp_path / "host.log", "--static-path", "/static") as host,
        BackpackClient() as client,
    ):
        assert client.fetch(STATIC, host.api_url).json()["result"] == []
        remote = create_issuer_and_badge(client, host.api_url)
        insert_awards(db, remote.badgeclass_id, 1200)
        listed = client.fetch(
            badgr.route("badgeclass.assertions.list"),
            host.api_url,
            params={"badgeclass": remote.badgeclass_id},
            token=remote.token,
        ).json()["result"]
    assert len({item["entityId"] for item in listed}) == 1200
    database = HostDatabase.open(db)
    try:
        with database.begin() as connection:
            count = connection.scalar(select(func.count()).select_from(host_tables.assertions))
    finally:
        database.close()
    assert count == 1200


def test_an_unknown_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """python -m benchmarks with an unknown name exits 2 and names the choices."""
    with pytest.raises(SystemExit) as exited:
        main(["nope"])
    assert exited.value.code == 2
    assert "bulk_push" in capsys.readouterr().err


def test_web_badges_runs_at_a_small_size() -> None:
    """web_badges times the page and external_badges alone, cold and warm, on a few badges."""
    from benchmarks import web_badges

    results = web_badges.measure(
        badges=6, collections=3, round_trip=0.0, cold_rounds=1, warm_rounds=2
    )
    assert [r.as_dict()["cache"] for r in results] == ["cold", "warm"]
    for result in results:
        line = result.as_dict()
        assert line["name"] == "web_badges"
        assert line["badges"] == 6
        assert line["collections"] == 3
        assert len(line["page_rounds_s"]) == len(line["alone_rounds_s"]) == line["rounds"]
        assert result.ratio == result.openbackpack / result.baseline
        assert len(line["load_average"]) == 3


@pytest.mark.usefixtures("loopback_allowed")
def test_move_benchmark_moves_a_few_badges_and_proves_them() -> None:
    """The move benchmark, small, into each target: every badge moved once, proved, counted."""
    from benchmarks.move import measure

    for kind, reissued in (("ob3", 6), ("badgr", 0)):
        measured = measure(6, 200.0, 0.0, kind=kind)
        assert measured["read"] == measured["proved"] == 6
        assert measured["reissued"] == reissued
        assert measured["lost"] == measured["duplicated"] == 0
        assert measured["errors"] == []
        assert measured["target_requests"] >= 6
        requests = max(measured["source_requests"], measured["target_requests"])
        assert measured["floor_s"] == requests / 200


def test_push_crash_leaves_one_assertion_per_award_after_kills() -> None:
    """push_crash at a small size, each way of restarting: one host assertion per award."""
    for restart in ("cold", "standby", "forked"):
        crash = measure_push_crash(awards=60, kills=2, kill_after=(0.05, 0.2), restart=restart)
        assert crash.kills == 2
        assert crash.processes == 3
        assert (crash.duplicates, crash.lost, crash.unmapped) == (0, 0, 0)
        assert crash.last["failed"] == 0
        assert crash.seconds > crash.startup_s > 0


@pytest.mark.usefixtures("loopback_allowed")
def test_distributed_push_at_a_small_size_loses_and_duplicates_nothing() -> None:
    """80 awards to 2 hosts by 2 workers, one killed midway: all pushed, none twice."""
    config = Config(awards=80, hosts=2, rate=50, burst=5, round_trip=0.01, workers=2,
                    processes=1, compare=False)  # fmt: skip
    result = measure(config).as_dict()
    assert result["name"] == "distributed_push"
    assert (result["duplicates"], result["lost"]) == (0, 0)
    assert result["worker_killed"] is True
    assert result["openbackpack"] > 0
