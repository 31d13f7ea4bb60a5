"""The benchmark harness parses wrk's report correctly (the benchmark itself is not a test)."""

import pytest

from bench.wrk import _duration_ms, _lua, parse

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/graphql
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.21ms    1.02ms  20.11ms   90.00%
    Req/Sec     1.53k    80.12     1.70k    70.00%
  3061 requests in 2.00s, 1.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1530.12
Transfer/sec:    612.00KB
P50 4.900000
P99 9.750000
"""


def test_parse_reads_rate_percentiles_and_errors():
    result = parse(WRK_OUTPUT)
    assert result.rps == pytest.approx(1530.12)
    assert result.p50_ms == pytest.approx(4.9)
    assert result.p99_ms == pytest.approx(9.75)
    assert result.errors == 3


@pytest.mark.parametrize(("text", "ms"), [("450.00us", 0.45), ("1.50ms", 1.5), ("2.00s", 2000.0)])
def test_durations_convert_to_milliseconds(text, ms):
    assert _duration_ms(text) == pytest.approx(ms)


def test_cache_busting_script_makes_every_path_unique():
    script = _lua("GET", {"Authorization": "Bearer t"}, None, cache_bust=True)
    assert "request = function()" in script
    assert "_bust=" in script
    assert 'wrk.headers["Authorization"] = "Bearer t"' in script
