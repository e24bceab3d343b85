"""/help: who to call — the national help line (open now or not) and the city's contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mynapoint.rules.corners import CityContact, CityCorners, HelpLine
from mynapoint.web.api.support_corners import CornersDep
from mynapoint.web.dependencies import ClockDep
from mynapoint.web.pages.opening_times import (
    Status,
    lang_of,
    localized,
    moment,
    status,
    weekly_lines,
)
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Number:
    number: str
    tel_uri: str
    note: str
    note_lang: str
    toll_free: bool


@dataclass(frozen=True)
class HelpLineView:
    name: str
    name_lang: str
    numbers: list[Number]
    hours: list[str]
    status: Status


@dataclass(frozen=True)
class ContactView:
    city: str
    department: str
    department_lang: str
    address: str
    address_lang: str
    tel: str
    fax: str
    email: str

    @property
    def tel_uri(self) -> str:
        return "tel:" + self.tel.replace("-", "")


def help_line_view(line: HelpLine, at: datetime) -> HelpLineView:
    return HelpLineView(
        name=localized(line.name, line.name_en),
        name_lang=lang_of(line.name_en),
        numbers=[
            Number(
                number=n.number,
                tel_uri=n.tel_uri,
                note=localized(n.note, n.note_en),
                note_lang=lang_of(n.note_en),
                toll_free=n.toll_free,
            )
            for n in line.numbers
        ],
        hours=weekly_lines(line.hours),
        status=status(line.hours, at),
    )


def contact_view(city: CityCorners) -> ContactView:
    contact: CityContact = city.contact
    return ContactView(
        city=localized(city.name, city.name_en),
        department=localized(contact.department, contact.department_en),
        department_lang=lang_of(contact.department_en),
        address=localized(contact.address, contact.address_en),
        address_lang=lang_of(contact.address_en),
        tel=contact.tel,
        fax=contact.fax,
        email=contact.email,
    )


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request, corners: CornersDep, clock: ClockDep) -> HTMLResponse:
    now = clock.now()
    return templates.TemplateResponse(
        request,
        "help.html",
        {
            "now_text": moment(now),
            "help_line": help_line_view(corners.help_line, now),
            "contacts": [contact_view(city) for city in corners.cities],
        },
    )
