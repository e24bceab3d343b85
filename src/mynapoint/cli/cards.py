"""`mynapoint card …`: the simulated card authority and the virtual card, from the command line.

The commands use the database of MYNAPOINT_DATABASE_URL (the same default as
`serve`), so a card issued here logs in to a server on the same database.
"""

from __future__ import annotations

import base64
import binascii
import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from mynapoint.bootstrap import Platform
from mynapoint.cli.common import EXIT_LOCKED, EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.domain.auth import CardLocked, WrongPin
from mynapoint.domain.calendar import jst_date, start_of_jst_day, to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.jpki.authority import UnknownCertificate
from mynapoint.jpki.card import CardFileError, InvalidPin, VirtualCard
from mynapoint.rules.municipalities import load_municipalities
from mynapoint.services.notices import record_death, record_revocation

cards = typer.Typer(
    help="The simulated card authority and virtual My Number Cards (development and training).",
    no_args_is_help=True,
)

PinOption = Annotated[str, typer.Option("--pin", help="The card's 4-digit PIN.")]
IssuedAt = Annotated[
    str | None,
    typer.Option(help="A date (00:00 JST) or a timestamp with offset; default platform now."),
]


def parse_moment(value: str | None, option: str, platform: Platform) -> datetime:
    if value is None:
        return platform.clock.now()
    text = value.strip()
    try:
        if len(text) == 10:
            return start_of_jst_day(date.fromisoformat(text))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(
            f"{option} '{value}' is neither a date nor a timestamp; "
            "write e.g. 2021-07-19 or 2021-07-19T10:00:00+09:00",
            EXIT_USAGE,
        ) from None
    if moment.utcoffset() is None:
        raise _fail(
            f"{option} '{value}' has no UTC offset; write e.g. 2021-07-19T10:00:00+09:00",
            EXIT_USAGE,
        )
    return moment


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _fail(f"{option} '{value}' is not a date; write YYYY-MM-DD", EXIT_USAGE) from None


def read_card(path: Path) -> VirtualCard:
    try:
        return VirtualCard.read(path)
    except CardFileError as exc:
        message = exc.message if str(path) in exc.message else f"{path}: {exc.message}"
        raise _fail(message, EXIT_USAGE) from None


def check_writable(path: Path) -> None:
    """Refuse an --out the card could not be written to, before the authority acts.

    Afterwards would be too late: the person and certificate would be registered (and, for
    renew and reissue, the old certificate revoked) with the new key lost.
    """
    folder = path.parent
    if path.is_dir():
        raise _fail(f"cannot write {path}: it is a directory", EXIT_USAGE)
    if not folder.is_dir():
        raise _fail(f"cannot write {path}: no directory {folder}", EXIT_USAGE)
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise _fail(f"cannot write {path}: permission denied", EXIT_USAGE)


def write_card(card: VirtualCard, path: Path) -> None:
    try:
        card.write(path)
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror}", EXIT_USAGE) from None


def refuse(exc: MynapointError) -> typer.Exit:
    if isinstance(exc, CardLocked):
        return _fail(exc.message, EXIT_LOCKED)
    if isinstance(exc, InvalidPin | CardFileError):
        return _fail(exc.message, EXIT_USAGE)
    return _fail(exc.message, EXIT_REFUSED)


@cards.command("issue")
def issue(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where to write the card file.")],
    pin: PinOption,
    birth_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")] = "1980-04-01",
    card_applied_on: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD; default 30 days before issuance.")
    ] = None,
    card_applied_online: Annotated[
        bool, typer.Option("--card-applied-online", help="The card was applied for online.")
    ] = False,
    issued_at: IssuedAt = None,
    representative_of: Annotated[
        str | None,
        typer.Option(help="Serial of a holder whose legal representative this person is."),
    ] = None,
    adult_ward: Annotated[
        bool, typer.Option("--adult-ward", help="The holder is an adult ward (成年被後見人).")
    ] = False,
    municipality: Annotated[
        str | None,
        typer.Option(
            help="The issuing city or ward, a local government code, e.g. 401331 (福岡市中央区); "
            "the codes are in rules/municipalities.yaml."
        ),
    ] = None,
) -> None:
    """Register a new person and issue a card; prints the certificate serial."""
    check_writable(out)
    if municipality is not None:
        try:
            municipality = load_municipalities().require(municipality).code
        except MynapointError as exc:
            raise _fail(f"--municipality: {exc.message}", EXIT_USAGE) from None
    platform = _platform(ctx)
    at = parse_moment(issued_at, "--issued-at", platform)
    applied = (
        parse_day(card_applied_on, "--card-applied-on")
        if card_applied_on
        else date.fromordinal(jst_date(at).toordinal() - 30)
    )
    try:
        card = platform.authority.issue_card(
            pin,
            birth_date=parse_day(birth_date, "--birth-date"),
            card_applied_on=applied,
            card_applied_online=card_applied_online,
            issued_at=at,
            representative_of=representative_of,
            adult_ward=adult_ward,
            municipality=municipality,
        )
    except MynapointError as exc:
        raise refuse(exc) from None
    write_card(card, out)
    typer.echo(card.serial)


@cards.command("renew")
def renew(
    ctx: typer.Context,
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Where to write the renewed card file.")],
    pin: PinOption,
    issued_at: IssuedAt = None,
) -> None:
    """A new key and certificate on the same card, for the same person; prints the new serial."""
    _write_successor(ctx, file, out, pin, issued_at, reissue=False)


@cards.command("reissue")
def reissue(
    ctx: typer.Context,
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Where to write the new card file.")],
    pin: Annotated[str, typer.Option("--pin", help="The new card's 4-digit PIN.")],
    issued_at: IssuedAt = None,
) -> None:
    """A new card for the same person (e.g. after a loss); the old certificate is revoked."""
    _write_successor(ctx, file, out, pin, issued_at, reissue=True)


def _write_successor(
    ctx: typer.Context, file: Path, out: Path, pin: str, issued_at: str | None, *, reissue: bool
) -> None:
    """Renew or reissue `file`'s card into `out` and print the successor's serial."""
    check_writable(out)
    platform = _platform(ctx)
    card = read_card(file)
    make = platform.authority.reissue if reissue else platform.authority.renew
    try:
        successor = make(card, pin, issued_at=parse_moment(issued_at, "--issued-at", platform))
    except MynapointError as exc:
        raise refuse(exc) from None
    write_card(successor, out)
    typer.echo(successor.serial)


@cards.command("revoke")
def revoke(ctx: typer.Context, file: Path) -> None:
    """Revoke the card's certificate; it appears on the CRL."""
    platform = _platform(ctx)
    card = read_card(file)
    now = platform.clock.now()
    try:
        platform.authority.revoke(card.serial, now)
        facts = platform.authority.facts(card.serial)
        told = 0
        if facts is not None and not platform.authority.has_successor(card.serial):
            # J-LIS tells the platform; the platform tells the operators to stop the linkage.
            told = record_revocation(
                platform.unit_of_work(), facts.person, jst_date(now), platform.catalog, now
            )
    except MynapointError as exc:
        raise refuse(exc) from None
    typer.echo(f"revoked {card.serial}" + (f"; {told} linkage(s) stopped" if told else ""))


@cards.command("died")
def died(
    ctx: typer.Context,
    file: Path,
    on: Annotated[str, typer.Option("--on", help="Day of death, YYYY-MM-DD.")],
) -> None:
    """Record the holder's death."""
    platform = _platform(ctx)
    card = read_card(file)
    day = parse_day(on, "--on")
    try:
        platform.authority.record_death(card.serial, day)
        facts = platform.authority.facts(card.serial)
        told = 0
        if facts is not None:
            told = record_death(
                platform.unit_of_work(),
                facts.person,
                day,
                platform.rules,
                platform.catalog,
                platform.clock.now(),
            )
    except MynapointError as exc:
        raise refuse(exc) from None
    typer.echo(
        f"recorded the death of the holder of {card.serial} on {on}"
        + (f"; {told} linkage(s) stopped" if told else "")
    )


@cards.command("reset-pin")
def reset_pin(ctx: typer.Context, file: Path) -> None:
    """Unlock the card after wrong PINs (done at a municipal office)."""
    platform = _platform(ctx)
    card = read_card(file)
    try:
        platform.authority.reset_pin(card.serial)
    except MynapointError as exc:
        raise refuse(exc) from None
    typer.echo(f"the PIN counter of {card.serial} is reset")


def _signature(platform: Platform, card: VirtualCard, pin: str, challenge: bytes) -> bytes:
    try:
        return platform.authority.sign_challenge(card, pin, challenge)
    except WrongPin as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None
    except UnknownCertificate as exc:
        # The card's chip (its PIN counter) lives in the database this command opened.
        raise _fail(
            f"{exc.message} in {platform.engine.url.render_as_string(hide_password=True)}: "
            "was the card made with another database? Run this command with the server's "
            "MYNAPOINT_VAR_DIR or MYNAPOINT_DATABASE_URL",
            EXIT_REFUSED,
        ) from None
    except MynapointError as exc:
        raise refuse(exc) from None


@cards.command("sign")
def sign(
    ctx: typer.Context,
    file: Path,
    pin: PinOption,
    challenge: Annotated[str, typer.Option("--challenge", help="The challenge, base64.")],
) -> None:
    """Print the base64 signature of the challenge; a wrong PIN says how many tries are left."""
    platform = _platform(ctx)
    card = read_card(file)
    try:
        raw = base64.b64decode(challenge, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("--challenge is not base64", EXIT_USAGE) from None
    typer.echo(base64.b64encode(_signature(platform, card, pin, raw)).decode())


@cards.command("login")
def login(
    ctx: typer.Context,
    file: Path,
    pin: PinOption,
    url: Annotated[str, typer.Option("--url", help="The server, e.g. http://127.0.0.1:8000.")],
) -> None:
    """Run the login handshake against a server and print the session token."""
    platform = _platform(ctx)
    card = read_card(file)
    base = url.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.post("/api/v1/auth/challenges")
            _check(answer)
            nonce = base64.b64decode(answer.json()["nonce"])
            signature = _signature(platform, card, pin, nonce)
            answer = client.post(
                "/api/v1/auth/sessions",
                json={
                    "challenge_id": answer.json()["challenge_id"],
                    "certificate": card.certificate_pem,
                    "signature": base64.b64encode(signature).decode(),
                },
            )
            _check(answer)
        session = answer.json()
        token, expires = session["token"], to_jst(datetime.fromisoformat(session["expires_at"]))
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {base}: {exc}", EXIT_REFUSED) from None
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _fail(
            f"{base} did not answer as a mynapoint server; check --url", EXIT_REFUSED
        ) from None
    typer.echo(token)
    typer.echo(f"(valid until {expires.isoformat(timespec='seconds')})", err=True)


def _check(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        message = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code}"
    raise _fail(f"the server refused: {message}", EXIT_REFUSED)
