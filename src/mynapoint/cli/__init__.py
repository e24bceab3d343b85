"""The `mynapoint` command line. Exit codes: 0 done, 1 refused, 2 usage or unreadable input."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mynapoint.cli.audit import audit
from mynapoint.cli.cards import cards
from mynapoint.cli.clock import clock
from mynapoint.cli.corners import corners_command
from mynapoint.cli.operations import ingest_command, purge_command, settle_command
from mynapoint.cli.operators import operators
from mynapoint.cli.policy import policy
from mynapoint.cli.settlement import settlement
from mynapoint.cli.staff import staff
from mynapoint.cli.statistics import stats
from mynapoint.cli.worker import worker_command
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.staff import Area
from mynapoint.ingest.scenario import ScenarioError, read_scenario
from mynapoint.rules.loader import RuleDataError, load_campaigns, load_catalog
from mynapoint.services.simulate import outcome_document, simulate

if TYPE_CHECKING:
    from mynapoint.demo import DemoStaff

EXIT_REFUSED = 1
EXIT_USAGE = 2
# uvicorn's supervisor pings each worker every 0.5 s and kills one that does not answer within
# this long. Its default, 5 s, is shorter than a worker's start (imports, the app) on a loaded
# 2-core machine: measured here, every new worker was killed before it could serve, forever.
WORKER_HEALTHCHECK_SECONDS = 30
# How long an idle keep-alive connection stays open (uvicorn's default: 5 s). It must outlast
# the idle timeout of whatever keeps connections to the server (a load balancer: 60 s is
# common), or the server closes a connection just as the client sends on it: under load the
# server's timers run late, and `make bench-api` saw requests fail with ReadError /
# "server disconnected" on connections its client still held for fresh (3 s idle).
KEEP_ALIVE_SECONDS = 75

# Rich rewraps each paragraph: one string per paragraph, no line breaks inside.
_TIME_HELP = (
    "Time: every command on a database (serve, card, ingest, settle, corners, …) runs on "
    "that database's platform clock, the pair (start, real time) recorded there by the "
    "first process started with MYNAPOINT_CLOCK_START (`make run` records "
    "2021-07-19T10:00:00+09:00) or by `mynapoint clock set`: platform time = start + real "
    "time elapsed since. With no pair recorded, real time. A recorded clock wins over a "
    "different MYNAPOINT_CLOCK_START (the command warns); `mynapoint clock set` restarts "
    "it. Each command's first line on stderr says which time it runs on; `simulate` uses "
    "no clock."
)
HELP = (
    "マイナポイント platform: simulate points, run the server, manage cards and operators."
    f"\n\n{_TIME_HELP}"
)

app = typer.Typer(
    name="mynapoint",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(cards, name="card")
app.add_typer(operators, name="operator")
app.add_typer(audit, name="audit")
app.add_typer(staff, name="staff")
app.add_typer(clock, name="clock")
app.add_typer(stats, name="stats")
app.add_typer(settlement, name="settlement")
app.add_typer(policy, name="policy")
app.command("ingest")(ingest_command)
app.command("settle")(settle_command)
app.command("purge")(purge_command)
app.command("corners")(corners_command)
app.command("worker")(worker_command)


@app.callback(help=HELP)
def _group() -> None:
    pass


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"mynapoint: {message}", err=True)
    return typer.Exit(code)


@app.command("simulate")
def simulate_command(
    file: Annotated[Path, typer.Argument(help="Scenario file, YAML or JSON (see examples/).")],
) -> None:
    """Evaluate a scenario with the campaign rules and print the result as JSON (no database)."""
    try:
        rules = load_campaigns()
        catalog = load_catalog()
        scenario = read_scenario(file, rules, catalog)
        outcome = simulate(scenario, rules, catalog)
    except (ScenarioError, RuleDataError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except MynapointError as exc:
        raise _fail(f"{file.name}: {exc.message}", EXIT_USAGE) from None
    sys.stdout.write(json.dumps(outcome_document(outcome), ensure_ascii=False, indent=2) + "\n")


@app.command("migrate")
def migrate_command() -> None:
    """Migrate the database (MYNAPOINT_DATABASE_URL) to the latest revision, then exit: run it
    once before a rollout; `serve` migrates too, but only in its parent process."""
    from mynapoint.bootstrap import build_engine  # noqa: PLC0415 - wiring happens on demand
    from mynapoint.config import load_settings  # noqa: PLC0415

    try:
        engine = build_engine(load_settings())
    except ValueError as exc:
        raise _fail(f"cannot migrate: {exc}", EXIT_USAGE) from None
    typer.echo(f"migrated {engine.url.render_as_string(hide_password=True)}")
    engine.dispose()


def _demo_sign_ins(base: str, accounts: tuple[DemoStaff, ...]) -> list[str]:
    """Each console's sign-in page and its demo accounts, as `make run` prints them."""
    consoles = (
        (Area.STAFF, "support-corner counter (中央区役所) and city", "/staff/sign-in"),
        (Area.MINISTRY, "ministry console (総務省)", "/ministry/sign-in"),
        (Area.OPERATOR, "payment operator console (PayPay)", "/operator/sign-in"),
    )
    lines = []
    for area, title, path in consoles:
        lines.append(f"  {title}: {base}{path}")
        lines.extend(
            f"    {s.name:<16} password {s.password:<17} {s.note}"
            for s in accounts
            if s.area is area
        )
    return lines


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (default: the number of cores). The database is migrated "
            "and the demo seeded once, before they start; uvicorn restarts a worker that dies.",
        ),
    ] = None,
) -> None:
    """Run the platform (pages + API); migrates the database and loads the reference data."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from mynapoint.bootstrap import build_platform  # noqa: PLC0415 - wiring happens on demand
    from mynapoint.cli.common import describe_clock, iso  # noqa: PLC0415
    from mynapoint.config import load_settings  # noqa: PLC0415
    from mynapoint.demo import (  # noqa: PLC0415
        DEMO_OPERATOR_FILE,
        account_note,
        seed_demo_cards,
        seed_demo_history,
        seed_demo_operator,
        seed_demo_staff,
        seed_generated_history,
    )
    from mynapoint.logs import configure_logging  # noqa: PLC0415
    from mynapoint.web.app import create_app  # noqa: PLC0415

    processes = workers or os.cpu_count() or 1
    try:
        settings = load_settings()
        platform = build_platform(settings)
    except ValueError as exc:
        raise _fail(f"cannot start: {exc}", EXIT_USAGE) from None
    # The audit signing key exists before any worker needs it: workers read it, none creates it.
    platform.audit_key()
    base = f"http://{host}:{port}"
    time = describe_clock(platform)
    # What another shell needs to open the same database (the card command signs with it).
    var_dir = os.environ.get("MYNAPOINT_VAR_DIR")
    same_database = f"MYNAPOINT_VAR_DIR={shlex.quote(var_dir)} " if var_dir else ""
    demo_lines: list[str] = []
    if settings.demo:
        cards = seed_demo_cards(platform)
        student = settings.var_dir / "demo-cards" / "student.json"
        demo_lines = [
            "  demo cards (simulated; the PIN counts wrong tries like a real chip):",
            *(
                f"    {s.path}  PIN {s.card.pin}  {s.card.note}  [README: {s.card.walkthrough}]"
                for s in cards
            ),
            f"  in the browser: open {base}/login, pick a demo card and type its PIN",
            "  sign in with the student's card and get a MyKey ID:",
            (
                f"    TOKEN=$({same_database}.venv/bin/mynapoint card login "
                f"{student} --pin 5678 --url {base})"
            ),
            f'    curl -X POST -H "Authorization: Bearer $TOKEN" {base}/api/v1/mykey',
        ]
        operator, key, accounts = seed_demo_operator(platform)
        history = seed_demo_history(platform, cards)
        try:
            generated = seed_generated_history(platform)
        except MynapointError as exc:
            raise _fail(f"cannot load the demo history: {exc.message}", EXIT_USAGE) from None
        demo_lines += [
            f"  demo {operator} accounts ({settings.var_dir / DEMO_OPERATOR_FILE}):",
            *(
                f"    {a.payment_service_id}  security code {a.security_code}  "
                f"{a.holder_name}  {account_note(a)}"
                for a in accounts
            ),
            *(
                f"  already applied (demo history): {h.card}.json for {h.measure.value}, "
                f"{to_jst(h.applied_at).isoformat(timespec='minutes')}"
                for h in history
            ),
            (
                f"  demo history: {generated.persons:,} generated persons "
                f"(MYNAPOINT_DEMO_HISTORY_PERSONS, seed {settings.demo_history_seed}), "
                f"{generated.written:,} written now in {generated.seconds:.1f} s; "
                f"settlement months closed up to {generated.closed_months[-1]}"
                if generated.closed_months
                else "  demo history: none (MYNAPOINT_DEMO_HISTORY_PERSONS=0, or platform time "
                "before the program)"
            ),
            "  apply for phase 1 with the student's account:",
            (
                f'    curl -X POST -H "Authorization: Bearer $TOKEN" '
                f"-H 'Content-Type: application/json' {base}/api/v1/applications -d "
                """'{"measure": "phase1", "service_code": "paypay", """
                """"payment_service_id": "5678901234567890", "security_code": "5678", """
                """"counts": "charge"}'"""
            ),
            f"  operator API key ({operator}; send as Authorization: Bearer):",
            f"    {key}",
            *_demo_sign_ins(base, seed_demo_staff(platform)),
        ]
    lines = [
        "",
        "マイナポイント platform",
        f"  database       {platform.engine.url.render_as_string(hide_password=True)}",
        f"  {time.kind:<14} {iso(time.now)}  ({time.source})",
        *([f"  warning        {time.warning}"] if time.warning else []),
        f"  top page       {base}/",
        f"  API docs       {base}/docs   (OpenAPI: {base}/openapi.json)",
        f"  campaigns      curl {base}/api/v1/campaigns",
        f"  services       curl '{base}/api/v1/payment-services?q=paypay'",
        f"  corners        curl {base}/api/v1/support-corners   (page: {base}/support-corners)",
        "  simulate       .venv/bin/mynapoint simulate examples/worked-example-1.yaml",
        *demo_lines,
        "",
    ]
    typer.echo("\n".join(lines))
    if not settings.runs_jobs_inprocess:
        typer.echo(
            "mynapoint: uploaded files are queued for `mynapoint worker` processes, which this "
            "server does not run: start some, or set MYNAPOINT_INPROCESS_WORKER=true for one "
            "host without workers (docs/JOBS.md)",
            err=True,
        )
    if processes > 1 and settings.rate_limit_storage.startswith("memory://"):
        typer.echo(
            f"mynapoint: warning: rate limits count in each of the {processes} worker processes "
            "(MYNAPOINT_RATE_LIMIT_STORAGE=memory://), so a client gets up to "
            f"{processes}x each limit; set MYNAPOINT_RATE_LIMIT_STORAGE=redis://… to share "
            "them (docs/DEPLOYMENT.md)",
            err=True,
        )
    configure_logging()
    if processes == 1:
        try:
            uvicorn.run(
                create_app(settings, platform),
                host=host,
                port=port,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                log_config=None,
                access_log=False,
            )
        finally:
            platform.engine.dispose()
        return
    # Every worker builds its own app from the environment (web/app.py create_worker_app):
    # the settings are the same, the database is migrated, the clock recorded, the demo seeded.
    platform.engine.dispose()
    uvicorn.run(
        "mynapoint.web.app:create_worker_app",
        factory=True,
        workers=processes,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


def main() -> None:
    app()
