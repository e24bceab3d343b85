"""/operator/events: event files of the signed-in account's operator, for its administrator
and staff. Upload (the same path as POST /api/v1/operator/events/files: jobs/uploads.py
`start_job`, run in the background or by `mynapoint worker`), each upload's status with
progress (the page refreshes itself while the file loads) and its rejected lines as CSV.
An upload of another operator is not found, whatever its id."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import csv
import io
from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, File, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.ledger import IngestJob
from mynapoint.jobs.uploads import progress, run_job, start_job
from mynapoint.services.audit import record
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.console.access import NO_STORE, member_of, page, redirect
from mynapoint.web.pages.console.areas import OPERATOR_CONSOLE

PATH: Final = "/operator/events"
RECENT: Final = 20
JOB_ID_PATTERN: Final = r"^[0-9a-f]{24}$"
REFRESH_SECONDS: Final = 2
STATUS: Final = {
    "queued": N_("順番待ち"),
    "running": N_("読み込み中"),
    "done": N_("完了"),
    "failed": N_("失敗"),
}
NO_FILE: Final = N_(
    "ファイルを選んでください(error: invalid_request)。CSV(1行目は見出し)か JSON Lines"
    "(.jsonl)です。"
)
NOT_FOUND: Final = N_(
    "そのアップロードは、あなたの決済事業者のものにありません(error: not_found)。"
    "一覧から選んでください。"
)
REJECTED_COLUMNS: Final = ("line", "event_id", "field", "code", "message")

router = APIRouter(include_in_schema=False)
Member = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, PATH))]
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN)]


def _operator(me: SignedInStaff) -> str:
    return me.account.operator or ""


def _listing(
    request: Request, me: SignedInStaff, platform: PlatformDep, error: str | None = None
) -> Response:
    with platform.unit_of_work() as uow:
        jobs = uow.jobs.recent(_operator(me), RECENT)
    context = {
        "page_title": N_("イベントファイル"),
        "jobs": [(job, _(STATUS[job.status])) for job in jobs],
        "error": error,
        "errors": {} if error is None else {"file": error},
        "max_mib": platform.settings.max_upload_bytes // (1024 * 1024),
    }
    return page(
        request, OPERATOR_CONSOLE, "operator/events.html", context, 200 if not error else 422
    )


@router.get(PATH, response_class=HTMLResponse)
def events_page(request: Request, me: Member, platform: PlatformDep) -> Response:
    return _listing(request, me, platform)


@router.post(PATH)
def upload(
    request: Request,
    me: Member,
    _csrf: Annotated[None, Depends(check_csrf)],
    platform: PlatformDep,
    clock: ClockDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        return _listing(request, me, platform, _(NO_FILE))
    now = clock.now()

    def audited(uow: UnitOfWork, action: str, details: Mapping[str, Any]) -> None:
        record(
            uow,
            now=now,
            actor=me.account.name,
            role=me.account.role.value,
            corner=None,
            action=action,
            details=details,
        )

    job = start_job(platform, _operator(me), file.filename, file.file, now, before_commit=audited)
    if platform.settings.runs_jobs_inprocess:
        background.add_task(run_job, platform, job)
    return redirect(f"{PATH}/{job.job_id}")


def _own_job(platform: PlatformDep, me: SignedInStaff, job_id: str) -> IngestJob | None:
    with platform.unit_of_work() as uow:
        job = uow.jobs.get(job_id)
    return job if job is not None and job.operator_code == _operator(me) else None


def _not_found(request: Request) -> Response:
    context = {"title": N_("アップロードが見つかりません"), "text": _(NOT_FOUND)}
    return page(request, OPERATOR_CONSOLE, "console/forbidden.html", context, 404)


@router.get(f"{PATH}/{{job_id}}", response_class=HTMLResponse)
def job_page(request: Request, me: Member, platform: PlatformDep, job_id: JobId) -> Response:
    job = _own_job(platform, me, job_id)
    if job is None:
        return _not_found(request)
    done = progress(platform, job)
    context = {
        "page_title": N_("イベントファイルの読み込み"),
        "job": job,
        "status": _(STATUS[job.status]),
        "percent": None if done is None else round(done * 100),
        "refresh": REFRESH_SECONDS if job.is_live else None,
    }
    return page(request, OPERATOR_CONSOLE, "operator/event_job.html", context)


@router.get(f"{PATH}/{{job_id}}/rejected.csv")
def rejected_csv(request: Request, me: Member, platform: PlatformDep, job_id: JobId) -> Response:
    job = _own_job(platform, me, job_id)
    if job is None:
        return _not_found(request)
    out = io.StringIO()
    writer = csv.DictWriter(out, REJECTED_COLUMNS, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(job.rejected_lines)
    name = f"mynapoint-rejected-{job.job_id}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )
