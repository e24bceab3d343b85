"""Demo data for `make run`: virtual cards with known PINs, so a new user can sign in at once,
and PayPay accounts with an operator API key, so they can apply and report spending.

Only in demo mode (MYNAPOINT_DEMO=true, which `make run` sets; never in production).
Seeding is idempotent: a card whose file exists and whose certificate the
authority knows is kept; anything missing is issued again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from mynapoint.bootstrap import Platform
from mynapoint.domain.calendar import JST
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.domain.staff import Area, Role, StaffAccount
from mynapoint.history.writer import Loaded, load_history
from mynapoint.jpki.card import CardFileError, VirtualCard
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.applications import (
    Applicant,
    ApplicationDesk,
    NewApplication,
    applications_of,
    apply,
)
from mynapoint.services.mykey import ensure_mykey
from mynapoint.services.operators import authenticate_operator, issue_operator_key, register_account
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.statistics import refresh as refresh_statistics

DEMO_CARDS_DIR = "demo-cards"
DEMO_OPERATOR_FILE = "demo-operator.json"
DEMO_OPERATOR = "paypay"


@dataclass(frozen=True)
class DemoCard:
    name: str
    pin: str
    birth_date: date
    card_applied_on: date
    issued_at: datetime
    note: str  # who the holder is, as the sign-in page shows it (Japanese / English)
    walkthrough: str  # the README walkthrough that is this person's, as the banner says
    representative_of: str | None = None  # the name of the demo card whose holder they represent
    # The issuing ward (a local government code, rules/municipalities.yaml), for the
    # statistics per ward; every demo person lives in one of Fukuoka's wards.
    municipality: str | None = None


# Each walkthrough of the README has its own person, so that following one never spoils
# another (a person applies once per measure). A card that represents another comes after
# it: it is issued naming the other's card.
DEMO_CARDS = (
    DemoCard(
        "child",
        "3456",
        date(2012, 6, 1),
        date(2021, 2, 1),
        datetime(2021, 3, 15, 10, 0, tzinfo=JST),
        "9歳の子ども。法定代理人(parent)が申し込めます / a child of 9; the parent may apply",
        "the citizen's journey in the browser, through the parent",
        municipality="401331",
    ),
    DemoCard(
        "parent",
        "1234",
        date(1985, 5, 15),
        date(2021, 3, 1),
        datetime(2021, 4, 1, 10, 0, tzinfo=JST),
        "カード申請 2021-03-01(第1弾の対象)/ card applied for before the cut-off",
        "the citizen's journey in the browser",
        representative_of="child",
        municipality="401331",
    ),
    DemoCard(
        "student",
        "5678",
        date(2001, 4, 2),
        date(2021, 2, 10),
        datetime(2021, 4, 5, 10, 0, tzinfo=JST),
        "20歳の学生 / a student of 20",
        "the command-line walkthroughs",
        municipality="401323",
    ),
    DemoCard(
        "shopper",
        "6789",
        date(1978, 9, 12),
        date(2021, 1, 20),
        datetime(2021, 3, 10, 10, 0, tzinfo=JST),
        "2021-06-15 にPayPayで第1弾に申込み済み / applied for phase 1 with PayPay on 2021-06-15",
        "examples/events.csv is her spending",
        municipality="401315",
    ),
    DemoCard(
        "grandchild",
        "7890",
        date(2014, 8, 20),
        date(2021, 2, 15),
        datetime(2021, 4, 12, 10, 0, tzinfo=JST),
        "6歳の子ども。未成年後見人(senior)が申し込めます / a child of 6; her guardian, the "
        "senior, may apply",
        "at a support corner, through the senior",
        municipality="401374",
    ),
    DemoCard(
        "senior",
        "4567",
        date(1948, 1, 20),
        date(2020, 11, 2),
        datetime(2020, 12, 21, 10, 0, tzinfo=JST),
        "73歳 / aged 73",
        "at a support corner",
        representative_of="grandchild",
        municipality="401374",
    ),
    DemoCard(
        "late",
        "2345",
        date(1990, 10, 3),
        date(2021, 5, 10),
        datetime(2021, 6, 20, 10, 0, tzinfo=JST),
        "カード申請 2021-05-10(第1弾の対象外)/ applied after the 2021-04-30 cut-off",
        "the PIN lock and a renewed card",
        municipality="401358",
    ),
)


@dataclass(frozen=True)
class SeededCard:
    card: DemoCard
    path: Path
    serial: str


def _known(platform: Platform, path: Path) -> VirtualCard | None:
    try:
        card = VirtualCard.read(path)
    except (CardFileError, OSError):
        return None
    return card if platform.authority.facts(card.serial) is not None else None


def seed_demo_cards(platform: Platform) -> list[SeededCard]:
    folder = platform.settings.var_dir / DEMO_CARDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    seeded: dict[str, SeededCard] = {}
    for demo in DEMO_CARDS:
        path = folder / f"{demo.name}.json"
        card = _known(platform, path)
        if card is None:
            holder = seeded[demo.representative_of].serial if demo.representative_of else None
            card = platform.authority.issue_card(
                demo.pin,
                birth_date=demo.birth_date,
                card_applied_on=demo.card_applied_on,
                issued_at=demo.issued_at,
                representative_of=holder,
                municipality=demo.municipality,
            )
            card.write(path)
        seeded[demo.name] = SeededCard(demo, path, card.serial)
    manifest = [
        {"file": str(s.path), "pin": s.card.pin, "serial": s.serial, "note": s.card.note}
        for s in seeded.values()
    ]
    (folder / "cards.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return list(seeded.values())


@dataclass(frozen=True)
class DemoAccount:
    card: str  # the demo card whose holder applies with it
    service_code: str
    payment_service_id: str
    security_code: str
    holder_name: str
    holder: str  # the demo card of the account's holder (a representative's for a child)


DEMO_ACCOUNTS = (
    DemoAccount("parent", "paypay", "1234567890123456", "1234", "ヤマダ タロウ", "parent"),
    # A child's account is a second one of her representative's (RULES.md R14).
    DemoAccount("child", "paypay", "1234567890120009", "0009", "ヤマダ タロウ", "parent"),
    DemoAccount("student", "paypay", "5678901234567890", "5678", "タカハシ ミサキ", "student"),
    DemoAccount("shopper", "paypay", "6789012345678901", "6789", "イトウ ヨウコ", "shopper"),
    DemoAccount("senior", "paypay", "3456789012345678", "3456", "サトウ イチロウ", "senior"),
    DemoAccount("grandchild", "paypay", "3456789012340007", "0007", "サトウ イチロウ", "senior"),
    DemoAccount("late", "paypay", "2345678901234567", "2345", "スズキ ハナコ", "late"),
)


def account_note(account: DemoAccount) -> str:
    """Whose account it is and who applies with it, as the banner prints it."""
    if account.holder == account.card:
        return f"{account.holder}.json's account"
    return (
        f"{account.holder}.json's second account, for {account.card}.json's application "
        f"(the {account.holder} applies for the {account.card})"
    )


def _demo_key(platform: Platform, path: Path) -> str | None:
    """The key stored by an earlier start, if the database still knows it."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        key = str(stored["key"])
        authenticate_operator(platform.unit_of_work(), key, platform.clock.now())
    except (OSError, ValueError, KeyError, TypeError, MynapointError):
        return None
    return key


def seed_demo_operator(platform: Platform) -> tuple[str, str, tuple[DemoAccount, ...]]:
    """An API key for PayPay (issued once, kept in var/demo-operator.json) and the demo
    cards' PayPay accounts, registered when missing."""
    path = platform.settings.var_dir / DEMO_OPERATOR_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    now = platform.clock.now()
    key = _demo_key(platform, path)
    if key is None:
        key = issue_operator_key(platform.unit_of_work(), DEMO_OPERATOR, platform.catalog, now)
    for account in DEMO_ACCOUNTS:
        uow = platform.unit_of_work()
        with uow:
            known = uow.accounts.get(account.service_code, account.payment_service_id)
        if known is None:
            register_account(
                platform.unit_of_work(),
                platform.code_hasher,
                DEMO_OPERATOR,
                platform.catalog,
                account.service_code,
                account.payment_service_id,
                account.security_code,
                account.holder_name,
                now,
            )
    document = {
        "operator": DEMO_OPERATOR,
        "key": key,
        "accounts": [
            {
                "card": a.card,
                "holder": a.holder,
                "service_code": a.service_code,
                "payment_service_id": a.payment_service_id,
                "security_code": a.security_code,
                "holder_name": a.holder_name,
            }
            for a in DEMO_ACCOUNTS
        ],
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)  # it holds the API key
    return DEMO_OPERATOR, key, DEMO_ACCOUNTS


@dataclass(frozen=True)
class DemoStaff:
    name: str
    role: Role
    corner: str | None
    password: str  # fixed and printed: demo mode only
    note: str
    city: str | None = None
    operator: str | None = None

    @property
    def area(self) -> Area:
        return self.role.area


DEMO_CORNER = "chuo"  # 中央区役所
DEMO_CITY = "fukuoka"  # the demo corners' city
DEMO_STAFF = (
    DemoStaff("chuo-staff", Role.STAFF, DEMO_CORNER, "madoguchi-2021", "窓口職員 / counter staff"),
    DemoStaff(
        "chuo-supervisor",
        Role.SUPERVISOR,
        DEMO_CORNER,
        "kantoku-2021",
        "監督者: 記録と職員アカウントの確認 / supervisor: records, staff accounts",
    ),
    DemoStaff(
        "fukuoka-admin",
        Role.CITY_ADMIN,
        None,
        "shiyakusho-2021",
        "福岡市の管理者: 職員アカウント / city admin: the city's staff accounts",
        city=DEMO_CITY,
    ),
    DemoStaff(
        "mic-admin",
        Role.MINISTRY_ADMIN,
        None,
        "soumu-admin-2021",
        "総務省の管理者: 全画面 / ministry admin: every page",
    ),
    DemoStaff(
        "mic-viewer",
        Role.MINISTRY_VIEWER,
        None,
        "soumu-view-2021",
        "総務省の閲覧者: 概況・予算・精算を見る / viewer: overview, budget, settlement (read)",
    ),
    DemoStaff(
        "mic-auditor",
        Role.AUDITOR,
        None,
        "kansa-2021",
        "監査担当: 監査ログ・精算を見る / auditor: audit log, settlement (read)",
    ),
    DemoStaff(
        "mic-policy",
        Role.POLICY_ANALYST,
        None,
        "seisaku-2021",
        "政策担当: 政策ラボ・予算の見通し / policy staff: the policy lab (replays, forecasts)",
    ),
    DemoStaff(
        "paypay-admin",
        Role.OPERATOR_ADMIN,
        None,
        "paypay-admin-2021",
        "PayPayの管理者: 全画面 / PayPay admin: every page",
        operator="paypay",
    ),
)


def seed_demo_staff(platform: Platform) -> tuple[DemoStaff, ...]:
    """The demo accounts of every console (中央区役所's staff, Fukuoka's city administrator,
    the ministry's and PayPay's), signing in with their printed passwords: created when
    missing, and their password restored (and the account enabled) if that changed."""
    hasher = PasswordHasher()
    now = platform.clock.now()
    for demo in DEMO_STAFF:
        uow = platform.unit_of_work()
        with uow:
            known = uow.staff.get(demo.name)
        if (
            known is not None
            and not known.must_change_password
            and not known.disabled
            and hasher.verify(known.password_hash, demo.password)
        ):
            continue
        password_hash = hasher.hash(demo.password)
        with uow:
            if known is None:
                uow.staff.add(
                    StaffAccount(
                        name=demo.name,
                        role=demo.role,
                        corner=demo.corner,
                        password_hash=password_hash,
                        created_at=now,
                        must_change_password=False,
                        city=demo.city,
                        operator=demo.operator,
                    )
                )
            else:
                uow.staff.set_password(demo.name, password_hash, must_change=False, at=now)
                uow.staff.set_disabled(demo.name, disabled=False, at=now)
            uow.commit()
    return DEMO_STAFF


@dataclass(frozen=True)
class DemoApplication:
    """An application a demo person made before the demo day, so that a file of their past
    spending (examples/events.csv) counts whenever it is loaded."""

    card: str
    measure: Measure
    counts: EventKind
    mykey_at: datetime
    applied_at: datetime


DEMO_APPLICATIONS = (
    DemoApplication(
        "shopper",
        Measure.PHASE1,
        EventKind.CHARGE,
        mykey_at=datetime(2021, 6, 1, 19, 0, tzinfo=JST),
        applied_at=datetime(2021, 6, 15, 10, 0, tzinfo=JST),
    ),
)


def seed_demo_history(
    platform: Platform, cards: Sequence[SeededCard]
) -> tuple[DemoApplication, ...]:
    """The demo persons' earlier applications, made as they would have been (MyKey ID, then
    the application through the same use case as the API) at their own past instants; once.
    An instant after platform now (a clock started earlier) is left out."""
    by_name = {seeded.card.name: seeded for seeded in cards}
    accounts = {account.card: account for account in DEMO_ACCOUNTS}
    desk = ApplicationDesk(
        rules=platform.rules,
        catalog=platform.catalog,
        authority=platform.authority,
        revocations=platform.revocations,
        hasher=platform.code_hasher,
    )
    made = []
    for demo in DEMO_APPLICATIONS:
        facts = platform.authority.facts(by_name[demo.card].serial)
        if facts is None or demo.applied_at > platform.clock.now():
            continue
        made.append(demo)
        if any(
            application.measure is demo.measure and application.is_active
            for application in applications_of(platform.unit_of_work(), facts.person)
        ):
            continue
        ensure_mykey(
            platform.unit_of_work(),
            facts.person,
            demo.mykey_at,
            platform.rules,
            holder=facts.snapshot,
        )
        account = accounts[demo.card]
        apply(
            platform.unit_of_work(),
            desk,
            Applicant(facts.person, facts.serial),
            NewApplication(
                demo.measure,
                AccountCredentials(
                    account.service_code, account.payment_service_id, account.security_code
                ),
                counts=demo.counts,
            ),
            demo.applied_at,
        )
    return tuple(made)


def seed_generated_history(platform: Platform) -> Loaded:
    """The generated history of MYNAPOINT_DEMO_HISTORY_PERSONS persons (seed
    MYNAPOINT_DEMO_HISTORY_SEED) at platform now, after the demo cards' own data; persons
    already written are kept (mynapoint.history.writer)."""
    settings = platform.settings
    loaded = load_history(platform, settings.demo_history_seed, settings.demo_history_persons)
    if loaded.written:
        # Rows dated in the past, written behind the platform's back: an incremental refresh
        # of the statistics would not look at their days.
        refresh_statistics(platform.statistics, platform.clock.now(), full=True)
    return loaded
