"""The README, followed literally from the top, works: its shell blocks run in order against a
server started by `make run`, and what they print is what the README says.

How the README is read (the convention is stated in the README itself):

- every ```sh block runs, in order, in one bash session (variables carry over), from a fresh
  project folder: the checkout's `.venv`, `Makefile` and `pyproject.toml` linked in, a copy of
  `examples/`, and an empty `var/`; a block whose first line says
  `# not run by the README test` is skipped;
- a command is a line, with its continuation lines (a trailing backslash, an open quote);
- `# → TEXT` (a comment line after the command, or the end of a comment on its last line)
  is what it prints: TEXT must appear in its output, `…` standing for anything and spaces
  for any spaces; `# → exit N: TEXT` says it exits N and says TEXT; `# → 201 TEXT` says its
  curl response has that HTTP status. Without `exit`, a command must exit 0; without a
  status, every curl response must be below 400;
- a ```json block after the word "prints" is the exact output of the last command before it;
- the banner excerpts (plain ``` blocks of indented lines) are lines `make run` prints.

The server is `make run PORT=<a free port>` in that folder (the demo clock, demo data), on
SQLite and on PostgreSQL; the session gets `PORT` (the README's `BASE` reads it) and, on
PostgreSQL, the server's `MYNAPOINT_DATABASE_URL`, as the README tells a user. The one thing
added: a curl configuration (`CURL_HOME`) that writes each response's status to stderr, where
this test reads it.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SKIP_MARK = "# not run by the README test"
DONE = "__readme_command_done__"
STATUS = "[readme-test] HTTP "
COMMAND_TIMEOUT_S = 120.0
START_TIMEOUT_S = 120.0

_FENCE = re.compile(r"^```(\w*)\s*$")
_ARROW_COMMENT = re.compile(r"^\s*#\s*→\s?(.*)$")
_TRAILING_ARROW = re.compile(r"\s#[^#\n]*?→\s?(.*)$")
_EXIT = re.compile(r"^exit (\d+)(?::\s*(.*))?$")
_HTTP = re.compile(r"^([1-5]\d\d)\b\s*(.*)$")


@dataclass
class Command:
    text: str
    line: int  # README line of its first line
    expected: list[str] = field(default_factory=list)
    printed_json: Any = None  # a ```json block after "prints"

    def expectation(self) -> tuple[int, int | None, str]:
        """(exit code, HTTP status or None, text that must appear)."""
        said = " ".join(part.strip() for part in self.expected).strip()
        exit_code, status = 0, None
        if found := _EXIT.match(said):
            exit_code, said = int(found[1]), found[2] or ""
        elif found := _HTTP.match(said):
            status, said = int(found[1]), found[2]
        return exit_code, status, said


@dataclass
class Readme:
    commands: list[Command]
    skipped: list[tuple[int, str]]  # (line, reason)
    banner: list[tuple[int, str]]  # (line, text) of banner excerpts


def _is_complete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return False
    checked = subprocess.run(
        ["bash", "-n"],  # noqa: S607
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    return checked.returncode == 0


def _commands_of(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    pending: list[str] = []
    start = first_line
    for number, line in enumerate(body, first_line):
        if not pending:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                arrow = _ARROW_COMMENT.match(line)
                if arrow and commands:
                    commands[-1].expected.append(arrow[1])
                continue
            start = number
        pending.append(line)
        text = "\n".join(pending)
        if _is_complete(text):
            command = Command(text, start)
            trailing = _TRAILING_ARROW.search(pending[-1])
            if trailing:
                command.expected.append(trailing[1])
            commands.append(command)
            pending = []
    assert not pending, f"README.md:{start}: a command that never ends: {pending}"
    return commands


def read_readme(text: str) -> Readme:
    lines = text.splitlines()
    readme = Readme([], [], [])
    prose: list[str] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            if lines[index].strip():
                prose.append(lines[index].strip())
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        body, language = lines[index + 1 : end], fence[1]
        if language in {"sh", "bash"}:
            if body and body[0].startswith(SKIP_MARK):
                readme.skipped.append((index + 1, body[0]))
            else:
                readme.commands.extend(_commands_of(body, index + 2))
        elif language == "json" and prose and prose[-1] == "prints":
            readme.commands[-1].printed_json = json.loads("\n".join(body))
        elif not language and body and all(not line or line.startswith("  ") for line in body):
            readme.banner.extend(
                (number, line) for number, line in enumerate(body, index + 2) if line.strip()
            )
        prose = []
        index = end + 1
    return readme


def _pattern(said: str) -> re.Pattern[str]:
    parts = [r"\s*".join(re.escape(word) for word in part.split()) for part in said.split("…")]
    return re.compile(r".*?".join(parts), re.DOTALL)


# --- the project folder, the server and the shell ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
    }


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    for name in (".venv", "Makefile", "pyproject.toml"):
        (folder / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "examples", folder / "examples")
    return folder


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path

    def banner(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = _base_env(home)
    if not database_url.startswith("sqlite"):
        env["MYNAPOINT_DATABASE_URL"] = database_url
    return env


@pytest.fixture
def running(tmp_path: Path, server_env: dict[str, str]) -> Iterator[tuple[Path, int, Server]]:
    folder, port = _project(tmp_path), _free_port()
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - make from PATH, fixed arguments
            ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
            cwd=folder,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, log)
    try:
        _wait_until_serving(server, port)
        yield folder, port, server
    finally:
        _stop(process)


def _wait_until_serving(server: Server, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"make run stopped:\n{server.banner()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"make run did not serve within {START_TIMEOUT_S:.0f} s:\n{server.banner()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # make and the server it started are one process group of their own.
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str
    statuses: list[int]


class Shell:
    """One bash session, as the user's second terminal: each command's output in files."""

    def __init__(self, folder: Path, env: dict[str, str], scratch: Path) -> None:
        self.scratch = scratch
        self.count = 0
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],  # noqa: S607
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, command: str) -> Ran:
        self.count += 1
        out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
        assert self.process.stdin is not None
        self.process.stdin.write(
            f"{{\n{command}\n}} </dev/null >{out} 2>{err}\nprintf '%s %d\\n' {DONE} $?\n"
        )
        self.process.stdin.flush()
        exit_code = self._wait_for_done()
        stderr = err.read_text(encoding="utf-8", errors="replace")
        statuses = [
            int(line[len(STATUS) :]) for line in stderr.splitlines() if line.startswith(STATUS)
        ]
        stderr = "\n".join(line for line in stderr.splitlines() if not line.startswith(STATUS))
        return Ran(exit_code, out.read_text(encoding="utf-8", errors="replace"), stderr, statuses)

    def _wait_for_done(self) -> int:
        assert self.process.stdout is not None
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        said: list[str] = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if not ready:
                continue
            line = self.process.stdout.readline()
            if not line:
                pytest.fail(f"the shell ended: {''.join(said)}")
            if line.startswith(DONE):
                return int(line.split()[1])
            said.append(line)
        pytest.fail(f"a command ran longer than {COMMAND_TIMEOUT_S:.0f} s")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _shell_env(server_env: dict[str, str], port: int, tmp_path: Path) -> dict[str, str]:
    curl_home = tmp_path / "curl-home"
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text(
        f'write-out = "%{{stderr}}{STATUS}%{{http_code}}\\n"\n', encoding="utf-8"
    )
    return {**server_env, "PORT": str(port), "CURL_HOME": str(curl_home)}


# --- checking ------------------------------------------------------------------------------------


def _problems(command: Command, ran: Ran) -> list[str]:
    exit_code, status, said = command.expectation()
    problems = []
    if ran.exit_code != exit_code:
        problems.append(f"exit {ran.exit_code}, the README says {exit_code}")
    if status is not None:
        if not ran.statuses or ran.statuses[-1] != status:
            problems.append(f"HTTP {ran.statuses}, the README says {status}")
    elif any(code >= 400 for code in ran.statuses):
        problems.append(f"HTTP {ran.statuses}")
    if said:
        # An exit code comes with what the command says, on either stream.
        output = ran.stdout + ("\n" + ran.stderr if exit_code else "")
        if not _pattern(said).search(output):
            problems.append(f"it does not print {said!r}")
    if command.printed_json is not None:
        try:
            printed = json.loads(ran.stdout)
        except ValueError:
            printed = ran.stdout
        if printed != command.printed_json:
            problems.append("it does not print the JSON the README shows")
    return problems


def _report(command: Command, ran: Ran, problems: list[str]) -> str:
    return (
        f"README.md:{command.line}: {command.text.splitlines()[0]}\n"
        f"  {'; '.join(problems)}\n"
        f"  stdout: {ran.stdout[-1500:]!r}\n  stderr: {ran.stderr[-1500:]!r}"
    )


def test_the_readme_is_read_as_the_convention_says() -> None:
    readme = read_readme(README.read_text(encoding="utf-8"))
    assert len(readme.commands) > 40
    assert [reason for _, reason in readme.skipped] == [
        "# not run by the README test: it starts the server itself, and runs the tests",
        "# not run by the README test: it starts the server itself (the demo history's settings)",
        (
            "# not run by the README test: it takes ~10 minutes and a scratch PostgreSQL "
            "cluster of its own"
        ),
    ]
    # Every stated expectation parses; the PIN lock's exit codes are stated.
    stated = [command.expectation() for command in readme.commands if command.expected]
    assert (3, None) in {(code, status) for code, status, _ in stated}
    assert any(command.printed_json is not None for command in readme.commands)
    assert any("0009" in line for _, line in readme.banner)


def test_every_shell_block_of_the_readme_works_against_make_run(running, server_env, tmp_path):
    folder, port, server = running
    readme = read_readme(README.read_text(encoding="utf-8"))
    scratch = tmp_path / "outputs"
    scratch.mkdir()
    shell = Shell(folder, _shell_env(server_env, port, tmp_path), scratch)
    failures: list[tuple[Command, str]] = []
    try:
        for command in readme.commands:
            ran = shell.run(command.text)
            problems = _problems(command, ran)
            if problems:
                failures.append((command, _report(command, ran, problems)))
    finally:
        shell.close()

    banner = server.banner().replace(f"127.0.0.1:{port}", "127.0.0.1:8000")
    for number, line in readme.banner:
        if not _pattern(line.strip()).search(banner):
            failures.append(
                (Command(line, number), f"README.md:{number}: not in the banner: {line}")
            )

    assert failures == [], "\n\n".join(report for _, report in failures)
