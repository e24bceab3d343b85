"""The helpers of `make bench-api` (bench/api.py, bench/api_load.py) whose figures the
benchmark prints: percentiles, wrk's report, the targets' verdicts, the RESULTS.md rows."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import api  # noqa: E402 - bench/ is put on the path just above
import api_load  # noqa: E402
import common  # noqa: E402

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    63.13ms   30.90ms 366.21ms   76.59%
  4031 requests in 10.00s, 1.01MB read
Requests/sec:    403.10
Transfer/sec:    103.15KB
WRK_RESULT {"requests": 4031, "duration_us": 10000412, "connect": 0, "read": 2, "write": 0, "status": 5, "timeout": 3, "p50_us": 59713, "p99_us": 366212, "max_us": 366999, "waited": 20, "statuses": {"500": 4, "429": 1}}
"""  # noqa: E501 - wrk's line as printed


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert api_load.percentile(values, 50) == 50.0
    assert api_load.percentile(values, 99) == 99.0
    assert api_load.percentile(values, 100) == 100.0
    assert api_load.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert api_load.percentile([7.0], 99) == 7.0
    assert api_load.percentile(list(reversed(values)), 1) == 1.0


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused() -> None:
    assert math.isnan(api_load.percentile([], 99))
    with pytest.raises(ValueError, match="from 0 to 100"):
        api_load.percentile([1.0], 101)


def test_wrk_report_line_is_read() -> None:
    result = api_load.parse_wrk(WRK_OUTPUT)
    assert result.requests == 4031
    assert result.seconds == pytest.approx(10.000412)
    assert result.p50_ms == pytest.approx(59.713)
    assert result.p99_ms == pytest.approx(366.212)
    assert result.max_ms == pytest.approx(366.999)
    assert result.waited == 20
    assert result.errors == {"read": 2, "timeout": 3, "429": 1, "500": 4}


def test_wrk_rate_counts_only_the_answers_with_content() -> None:
    result = api_load.parse_wrk(WRK_OUTPUT)
    # 4,031 answers of which 20 asked to wait and 5 refused (429, 500).
    assert result.answered == 4006
    assert result.rate == pytest.approx(4006 / 10.000412)


def test_wrk_output_without_the_report_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="no WRK_RESULT line"):
        api_load.parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_wrk_scripts_report_and_take_tokens_in_turn(tmp_path: Path) -> None:
    plain = api_load.wrk_script(tmp_path, bearer=False).read_text(encoding="utf-8")
    bearer = api_load.wrk_script(tmp_path, bearer=True).read_text(encoding="utf-8")
    assert "done = function" in plain
    assert "string.find(body, '\"overloaded\"', 1, true)" in plain
    assert "request = function" not in plain  # wrk keeps its prebuilt request: faster
    assert "done = function" in bearer
    assert '"Bearer " .. tokens[turn]' in bearer


def _measured(rate: float, p99: float) -> api_load.Measured:
    return api_load.Measured(
        rate=rate,
        requests_per_second=rate,
        p50_ms=p99 / 2,
        p99_ms=p99,
        errors={},
        timeouts=0,
        waited=0,
        client_cpu=0.1,
    )


def _figures(*, flows: float, flow_p99: float, me: float, me_p99: float) -> api.Figures:
    figures = api.Figures(workers=2)
    figures.runs[(api.TRIVIAL, 32)] = _measured(4000.0, 20.0)
    figures.runs[(api.ENROLLMENT, 32)] = _measured(flows, flow_p99)
    figures.runs[("GET /api/v1/me", 32)] = _measured(me, me_p99)
    return figures


def test_targets_are_judged_against_the_trivial_endpoint() -> None:
    met = api.targets(_figures(flows=40.0, flow_p99=299.0, me=1000.0, me_p99=49.0))
    assert [ok for _, ok, _ in met] == [True, True, True, True]
    missed = api.targets(_figures(flows=38.0, flow_p99=300.0, me=999.0, me_p99=50.0))
    assert [ok for _, ok, _ in missed] == [False, False, False, False]
    assert missed[0][2] == "0.0095 x (38.0 flows/s)"


def test_overload_targets_count_errors_timeouts_latency_and_memory() -> None:
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.overload = api_load.FlowStats(admitted=[0.1] * 99 + [0.5])
    figures.memory_peak = {"load": 400 * 2**20, "overload": 500 * 2**20}
    figures.overload.waited["challenge"] = 900  # asked to wait: intended, not an error
    overload = {name: ok for name, ok, _ in api.targets(figures) if name.startswith("overload")}
    assert all(overload.values())
    figures.overload.errors["apply: 500 internal_error"] = 1
    figures.overload.timeouts["session"] = 2
    figures.overload.admitted = [1.5] * 10
    figures.memory_peak["overload"] = 601 * 2**20
    overload = {name: ok for name, ok, _ in api.targets(figures) if name.startswith("overload")}
    assert not any(overload.values())


def test_results_rows_go_under_their_section(tmp_path: Path, monkeypatch) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## `make bench-engine`\n\n| a |\n|---|\n| 1 |\n")
    monkeypatch.setattr(common, "RESULTS", results)
    monkeypatch.setattr(api, "server_version", lambda _url: "15.20")
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.runs[(api.TRIVIAL, 512)] = _measured(3000.0, 300.0)
    api.append_results(figures, api.targets(figures), None, "first")  # type: ignore[arg-type]
    api.append_results(figures, api.targets(figures), None, "second")  # type: ignore[arg-type]
    lines = results.read_text(encoding="utf-8").splitlines()
    at = lines.index(api.SECTION)
    rows = [line for line in lines[at:] if line.startswith("| 20")]
    assert [row.split(" | ")[3] for row in rows] == ["32", "512", "32", "512"]
    assert rows[0].endswith("| first |")
    assert rows[-1].endswith("| second |")
    assert "40.0 (0.01×)" in rows[0]
    assert lines[:7] == [
        "# Benchmark results",
        "",
        "## `make bench-engine`",
        "",
        "| a |",
        "|---|",
        "| 1 |",
    ]


def test_checks_fail_on_errors_tracebacks_and_replaced_workers() -> None:
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.flow_stats[32] = api_load.FlowStats()
    figures.replaced = {"the GET runs": 0, "the enrollment runs": 0, "the overload": 0}
    assert [ok for _, ok, _ in api.checks(figures)] == [True, True, True]
    figures.flow_stats[32].errors["apply: ReadError"] = 1
    figures.tracebacks = 2
    figures.replaced["the enrollment runs"] = 1
    results = api.checks(figures)
    assert [ok for _, ok, _ in results] == [False, False, False]
    assert "apply: ReadError" in results[0][2]
    assert results[2][2] == "1 during the enrollment runs"


def test_results_rows_carry_the_database_floors_beside_the_health_check(
    tmp_path: Path, monkeypatch
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n")
    monkeypatch.setattr(common, "RESULTS", results)
    monkeypatch.setattr(api, "server_version", lambda _url: "15.20")
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.runs[("/healthz", 32)] = _measured(1600.0, 40.0)
    (one, _), (four, _) = api.DB_FLOORS
    figures.runs[(one, 32)] = _measured(2000.0, 30.0)
    figures.runs[(four, 32)] = _measured(1000.0, 60.0)
    api.append_results(figures, api.targets(figures), None, "floors")  # type: ignore[arg-type]
    lines = results.read_text(encoding="utf-8").splitlines()
    head = next(line for line in lines if line.startswith("| date |"))
    row = next(line for line in lines if line.startswith("| 20"))
    assert row.count(" | ") == head.count(" | ")
    cells = dict(zip(head.split(" | "), row.split(" | "), strict=True))
    assert cells["/healthz"] == "1,600 (0.4×) 20/40 ms"
    assert cells["trivial + SELECT 1: ×1; ×4"] == "2,000 (0.5×) 15/30 ms; 1,000 (0.25×) 30/60 ms"
    assert cells["GET /me"] == "1,000 (0.25×) 5/10 ms"
    # A run without them (an older bench) shows a dash for each.
    del figures.runs[(one, 32)], figures.runs[(four, 32)]
    api.append_results(figures, api.targets(figures), None, "none")  # type: ignore[arg-type]
    last = results.read_text(encoding="utf-8").splitlines()[-1]
    assert (
        dict(zip(head.split(" | "), last.split(" | "), strict=True))["trivial + SELECT 1: ×1; ×4"]
        == "—; —"
    )


def test_the_report_prints_the_floors_with_their_ratio(capsys) -> None:
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.runs[(api.DB_FLOORS[1][0], 32)] = _measured(1000.0, 60.0)
    api.print_report(figures, [], argparse.Namespace())
    printed = capsys.readouterr().out
    floor = next(line for line in printed.splitlines() if line.startswith(api.DB_FLOORS[1][0]))
    assert "1,000.0" in floor
    assert "0.2500" in floor


@pytest.mark.parametrize(
    ("argv", "overload_seconds", "timeout", "holders"),
    [
        (["--quick"], 1, 3, 600),
        (["--quick", "--overload-duration", "10"], 10, 3, 2400),
        (["--quick", "--overload-duration=10", "--timeout", "10"], 10, 10, 2400),
        (["--quick", "--overload-duration", "10", "--holders", "500"], 10, 3, 500),
    ],
)
def test_options_given_with_quick_win_over_its_short_values(
    monkeypatch, argv, overload_seconds, timeout, holders
) -> None:
    monkeypatch.setattr(sys, "argv", ["api.py", *argv])
    args = api._arguments()  # noqa: SLF001 - the bench's own parsing
    assert (args.overload_duration, args.timeout, args.holders) == (
        overload_seconds,
        timeout,
        holders,
    )
    assert args.duration == 1


def test_an_overload_client_behind_its_schedule_is_reported(capsys) -> None:
    figures = _figures(flows=40.0, flow_p99=100.0, me=1000.0, me_p99=10.0)
    figures.overload = api_load.FlowStats(admitted=[0.1], late_seconds=[0.01] * 99 + [2.0])
    figures.overload.arrivals_cpu = 0.15
    assert "arrivals late p99 10 ms, CPU 15% of a core" in api.overload_summary(figures)
    api.print_report(figures, [], argparse.Namespace(overload_duration=10))
    assert "did not keep up" not in capsys.readouterr().out

    figures.overload.late_seconds = [2.0] * 10
    api.print_report(figures, [], argparse.Namespace(overload_duration=10))
    assert "started its arrivals up to 2.0 s late" in capsys.readouterr().out


def test_the_open_loop_records_how_late_each_arrival_started() -> None:
    plan = api_load.LoadPlan(
        base="http://127.0.0.1:1", keys_pem=(), holders=(), start=0.0, measure_from=0.0,
        end=0.5, timeout=1.0, rate=4.0,
    )  # fmt: skip

    class NoFlow(api_load._Flow):  # noqa: SLF001 - the flow, without a server
        async def run(self) -> None:
            return None

    flow = NoFlow([], plan, [])
    # The schedule began long ago (time.monotonic() 0): every arrival starts late.
    asyncio.run(api_load._open_loop(flow))  # noqa: SLF001 - the schedule alone
    assert flow.stats.arrivals == 2
    assert len(flow.stats.late_seconds) == 2
    assert all(late > 0 for late in flow.stats.late_seconds)
