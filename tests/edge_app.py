"""The whole demo platform signed in three ways at once, and a walk over every route.

For the edge tests: a citizen (page cookie and API token), a staff member at a counter
(page cookie) and an operator (API key), so that a request reaches each route's own checks
rather than stopping at "sign in first".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.params import Form
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.demo import seed_demo_cards, seed_demo_operator, seed_demo_staff
from mynapoint.domain.calendar import JST
from mynapoint.services.clock import FixedClock
from mynapoint.services.throttling import DEFAULT_LIMITS
from mynapoint.web.app import create_app
from mynapoint.web.csrf import CSRF_COOKIE, CSRF_FIELD
from mynapoint.web.dependencies import get_citizen, get_operator

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
BASE_URL = "https://testserver"
STAFF = ("chuo-staff", "madoguchi-2021")

# A plausible value for each parameter name, so that the other parameters of a request are
# valid and the one under test is what the route judges.
PLAUSIBLE: dict[str, Any] = {
    "code": "paypay",
    "service_code": "paypay",
    "payment_service_id": "1234567890123456",
    "security_code": "1234",
    "month": "2021-07",
    "measure": "phase1",
    "counts": "charge",
    "card": "parent",
    "pin": "1234",
    "from": "2021-07-19",
    "to": "2021-07-25",
    "as_of": "2021-07-19",
    "due_by": "2021-07-19",
    "at": "2021-07-19T10:00:00+09:00",
    "next": "/me",
}


@dataclass(frozen=True)
class Parameter:
    where: str  # path | query | form | file | json
    name: str  # for json: a dotted path into the body
    annotation: Any = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template
    parameters: tuple[Parameter, ...]
    body_model: type[BaseModel] | None
    bearer: str | None  # "citizen" | "operator" | None

    @property
    def is_page(self) -> bool:
        return not self.path.startswith("/api/") and self.path != "/healthz"


@dataclass
class SignedIn:
    app: FastAPI
    platform: Platform
    client: TestClient
    citizen_token: str
    operator_key: str
    operations: list[Operation] = field(default_factory=list)

    def csrf(self) -> str:
        return str(self.client.cookies[CSRF_COOKIE])

    def headers_for(self, operation: Operation) -> dict[str, str]:
        if operation.bearer == "citizen":
            return {"Authorization": f"Bearer {self.citizen_token}"}
        if operation.bearer == "operator":
            return {"Authorization": f"Bearer {self.operator_key}"}
        return {}

    def send(self, operation: Operation, values: dict[Parameter, Any]) -> Any:
        """The operation with every parameter plausible but those given."""
        request = _Request(operation, values)
        headers = self.headers_for(operation)
        if operation.is_page and operation.method == "POST":
            request.form.setdefault(CSRF_FIELD, self.csrf())
        kwargs: dict[str, Any] = {"params": request.query, "headers": headers}
        if request.form or request.files:
            kwargs["data"] = request.form
        if request.files:
            kwargs["files"] = request.files
        if request.body is not None:
            # ASCII escapes, so that a lone surrogate travels as JSON writes it (\ud800).
            kwargs["content"] = json.dumps(request.body)
            headers["Content-Type"] = "application/json"
        return self.client.request(operation.method, request.path, follow_redirects=False, **kwargs)


class _Request:
    def __init__(self, operation: Operation, values: dict[Parameter, Any]) -> None:
        self.path = operation.path
        self.query: dict[str, Any] = {}
        self.form: dict[str, Any] = {}
        self.files: dict[str, Any] = {}
        self.body = example_of(operation.body_model) if operation.body_model else None
        for parameter in operation.parameters:
            given = parameter in values
            value = values[parameter] if given else PLAUSIBLE.get(parameter.name, "x1")
            self.place(parameter, value, given=given)

    def place(self, parameter: Parameter, value: Any, *, given: bool) -> None:
        if parameter.where == "path":
            self.path = self.path.replace(f"{{{parameter.name}}}", quote_segment(value))
        elif parameter.where == "query" and given:
            self.query[parameter.name] = value
        elif parameter.where == "form":
            self.form[parameter.name] = value
        elif parameter.where == "file":
            self.files[parameter.name] = (value if given else "card.json", b"{}", "text/plain")
        elif parameter.where == "json" and given and self.body is not None:
            set_dotted(self.body, parameter.name, value)


def quote_segment(value: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def set_dotted(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = body
    for name in parents:
        node = node[name]
    node[last] = value


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """A valid-looking body for the model: every field filled, nested models too."""
    body: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        body[name] = _example(name, info.annotation)
    return body


def _example(name: str, annotation: Any) -> Any:
    if name in PLAUSIBLE:
        return PLAUSIBLE[name]
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is list:
        return []
    if origin is dict:
        return {}
    if args and origin is not None and not isinstance(annotation, type):
        return _example(name, args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return example_of(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if annotation is int:
        return 1
    return "x1"


def _string_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        inner = args[0] if args and get_origin(annotation) is not list else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _string_fields(inner, f"{prefix}{name}.")
        elif get_origin(annotation) is not list and get_origin(annotation) is not dict:
            yield f"{prefix}{name}"


def _bearer_of(dependant: Dependant) -> str | None:
    for sub in dependant.dependencies:
        if sub.call is get_citizen:
            return "citizen"
        if sub.call is get_operator:
            return "operator"
        found = _bearer_of(sub)
        if found is not None:
            return found
    return None


def _parameters(dependant: Dependant) -> Iterator[Parameter]:
    for p in dependant.path_params:
        yield Parameter("path", p.alias, p.field_info.annotation)
    for p in dependant.query_params:
        yield Parameter("query", p.alias, p.field_info.annotation)
    for p in dependant.body_params:
        if isinstance(p.field_info, Form):
            text = "UploadFile" in repr(p.field_info.annotation)
            yield Parameter("file" if text else "form", p.alias, p.field_info.annotation)
    for sub in dependant.dependencies:
        yield from _parameters(sub)


def operations(app: FastAPI) -> list[Operation]:
    """Every route and method of the app, with its parameters."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        dependant = context.dependant
        model = None
        parameters = list(dict.fromkeys(_parameters(dependant)))
        for p in dependant.body_params:
            annotation = p.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
                parameters += [Parameter("json", name) for name in _string_fields(annotation)]
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            found.append(
                Operation(
                    method,
                    str(context.path_format),
                    tuple(parameters),
                    model,
                    _bearer_of(dependant),
                )
            )
    return found


def _citizen_token(platform: Platform, client: TestClient, card_path: Path, pin: str) -> str:
    from mynapoint.jpki.card import VirtualCard  # noqa: PLC0415

    card = VirtualCard.read(card_path)
    challenge = client.post("/api/v1/auth/challenges").json()
    signature = platform.authority.sign_challenge(card, pin, base64.b64decode(challenge["nonce"]))
    response = client.post(
        "/api/v1/auth/sessions",
        json={
            "challenge_id": challenge["challenge_id"],
            "certificate": card.certificate_pem,
            "signature": base64.b64encode(signature).decode(),
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@contextmanager
def signed_in_platform(database_url: str, tmp_path: Path) -> Iterator[SignedIn]:
    # schemathesis sends thousands of requests as one signed-in citizen from one address: the
    # limits are generous, so that each operation is tried for what it does, not refused 429.
    generous = dict.fromkeys(DEFAULT_LIMITS, "1000000/minute")
    settings = Settings(
        database_url=database_url, var_dir=tmp_path, demo=True, rate_limits=generous
    )
    platform = build_platform(settings, clock=FixedClock(DEMO_DAY))
    try:
        seeded = {s.card.name: s for s in seed_demo_cards(platform)}
        _, key, _ = seed_demo_operator(platform)
        seed_demo_staff(platform)
        app = create_app(settings, platform)
        with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
            client.get("/staff/sign-in")
            response = client.post(
                "/staff/sign-in",
                data={
                    CSRF_FIELD: client.cookies[CSRF_COOKIE],
                    "name": STAFF[0],
                    "password": STAFF[1],
                },
            )
            assert response.status_code == 200, response.text
            parent = seeded["parent"]
            response = client.post(
                "/login",
                data={
                    CSRF_FIELD: client.cookies[CSRF_COOKIE],
                    "card": "parent",
                    "pin": parent.card.pin,
                },
                follow_redirects=False,
            )
            assert response.status_code in {200, 303}, response.text
            token = _citizen_token(platform, client, parent.path, parent.card.pin)
            yield SignedIn(app, platform, client, token, key, operations(app))
    finally:
        platform.engine.dispose()
