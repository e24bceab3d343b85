"""The simulated card reader of demo mode: a demo card file and its PIN, read on the server.

A real deployment never sees a PIN: the citizen's own JPKI client software (公的個人認証
サービスの利用者クライアントソフト) reads the card, the chip checks the PIN and returns only
its signature over the platform's challenge. In demo mode (Settings.demo) the cards are
virtual card files in var/demo-cards/, and the simulated card authority signs as the chip
would, counting wrong PINs against the card (3 in a row lock it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mynapoint.bootstrap import Platform
from mynapoint.config import Settings
from mynapoint.demo import DEMO_CARDS, DEMO_CARDS_DIR
from mynapoint.domain.auth import WrongPin
from mynapoint.domain.errors import MynapointError
from mynapoint.jpki.card import CardFileError, VirtualCard
from mynapoint.services.auth import SignedChallenge, sign_fresh_challenge
from mynapoint.web.error_messages import MESSAGES, message_for
from mynapoint.web.i18n import current_locale

# The list of cards with their PINs that `make run` writes next to the cards: not a card.
_MANIFEST = "cards.json"


@dataclass(frozen=True)
class DemoCardFile:
    name: str  # the file name without .json: what the form sends, never a path
    path: Path
    note_ja: str
    note_en: str

    @property
    def note(self) -> str:
        return self.note_en if current_locale() == "en" else self.note_ja


def _notes() -> dict[str, tuple[str, str]]:
    # demo.py writes each note as "日本語 / English".
    notes = {}
    for card in DEMO_CARDS:
        ja, _, en = card.note.partition("/")
        notes[card.name] = (ja.strip(), (en or ja).strip())
    return notes


def demo_card_files(settings: Settings) -> list[DemoCardFile]:
    """The card files in var/demo-cards/: the demo cards first, in demo.py's order."""
    folder = settings.var_dir / DEMO_CARDS_DIR
    if not folder.is_dir():
        return []
    notes = _notes()
    order = {name: index for index, name in enumerate(notes)}
    paths = sorted(
        (p for p in folder.glob("*.json") if p.name != _MANIFEST and p.is_file()),
        key=lambda p: (order.get(p.stem, len(order)), p.stem),
    )
    return [DemoCardFile(p.stem, p, *notes.get(p.stem, ("", ""))) for p in paths]


def read_demo_card(settings: Settings, name: str) -> VirtualCard:
    """The chosen card file; only a name from the list, so no other file can be read."""
    for choice in demo_card_files(settings):
        if choice.name == name:
            return VirtualCard.read(choice.path)
    raise CardFileError(f"there is no demo card named {name!r}", card=name)


def sign_with_demo_card(platform: Platform, card: VirtualCard, pin: str) -> SignedChallenge:
    """A fresh challenge signed by a demo card in the simulated reader (services.auth).

    Raises InvalidPin (not 4 digits; not counted), WrongPin (counted), CardLocked.
    """
    return sign_fresh_challenge(
        platform.unit_of_work(), platform.authority, card, pin, platform.clock.now()
    )


def card_error_message(error: MynapointError) -> str:
    """What the reader says about a card that did not sign, in the reader's language."""
    if isinstance(error, WrongPin):
        if error.tries_left > 0:
            return message_for("wrong_pin", {"tries_left": error.tries_left})
        # That was the third wrong PIN in a row: the card has just locked.
        return message_for("wrong_pin") + message_for("card_locked")
    if error.code in MESSAGES and error.code not in {"not_found", "invalid_request"}:
        return message_for(error.code, error.details)
    # A card the authority does not know or has replaced: choose another card.
    return message_for("invalid_card_file")
