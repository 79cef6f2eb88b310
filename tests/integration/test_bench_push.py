"""`flask bench push` end to end with tiny parameters: every edit is pushed and none is lost.

It starts its own gunicorn and RQ worker on a temporary database created on the PostgreSQL server
of the test run (next to the suite's database) and its own Redis db (13): the suite's app and data
are not involved. No timing is asserted.
"""
from urllib.parse import urlsplit, urlunsplit

import pytest

from benchmarks.push import run_push_bench


def _redis_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


@pytest.mark.postgres
def test_two_editors_three_edits_each_are_all_pushed_and_stored(database_url, redis_url):
    results, job_timings = run_push_bench(
        [2], edits=3, think_seconds=0.05, max_seconds=30,
        database_server_url=database_url, redis_url=_redis_db(redis_url, 13), threads=8, echo=lambda _: None,
    )
    (result,) = results
    assert result.errors == []
    assert result.lost == 0
    assert len(result.timings) == 6
    assert all(t.sent <= t.answered <= t.pushed for t in result.timings)
    assert job_timings
