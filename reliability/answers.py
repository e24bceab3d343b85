"""HTTP answers as the runs count them: status and error code, or the transport error."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx

# 503s the contract names: the database or the card authority is away for a moment.
CLEAN_5XX = frozenset({"unavailable", "revocation_list_stale"})


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (connection refused, reset, timed out)
    code: str  # the error code, or the transport error's name, or "" for a success
    body: dict[str, object]

    @property
    def label(self) -> str:
        if self.status is None:
            return f"no answer ({self.code})"
        return f"{self.status} {self.code}".strip()

    @property
    def crashed(self) -> bool:
        """A 500 is a bug (INTERFACES); no answer at all is worse."""
        return self.status is None or (self.status >= 500 and self.code not in CLEAN_5XX)


def send(client: httpx.Client, method: str, url: str, **kwargs: object) -> Answer:
    try:
        response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError as exc:
        return Answer(None, type(exc).__name__, {})
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {"value": body}
    code = ""
    error = body.get("error")
    if response.status_code >= 400:
        code = str(error.get("code", "")) if isinstance(error, dict) else "(not JSON)"
    return Answer(response.status_code, code, body)


@dataclass
class Tally:
    """Answers counted by kind of request, safe to share between client threads."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    crashed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, answer: Answer) -> None:
        with self._lock:
            self.counts[kind, answer.label] += 1
            self.crashed += answer.crashed

    def summary(self) -> str:
        kinds = sorted({kind for kind, _ in self.counts})
        return "; ".join(
            f"{kind}: "
            + ", ".join(
                f"{label}×{n}" for (k, label), n in sorted(self.counts.items()) if k == kind
            )
            for kind in kinds
        )
