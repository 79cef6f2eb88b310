"""Plumbing of `flask bench push`: a throw-away PostgreSQL database and Redis db, the production
processes (gunicorn gthread + one RQ worker) as subprocesses, and a minimal HTTP client.

Everything here targets 127.0.0.1 only and cleans up after itself (database dropped, Redis db
flushed, processes stopped) even when the bench fails.
"""
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT, normalise_database_url

READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
HTTP_TIMEOUT_SECONDS = 10
# Logging in and loading the pages before the measures: argon2 on a machine shared with other
# work may take seconds per login, which the measures never include.
SETUP_TIMEOUT_SECONDS = 60
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class BenchError(RuntimeError):
    """The bench could not set up or run; the message says which step."""


def require_local(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise BenchError(f"le bench ne vise que 127.0.0.1, pas {host!r} ({url})")


@contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """A new empty database `tet_bench_<random>` on the server of `server_url`; dropped at the end."""
    server_url = normalise_database_url(server_url)
    require_local(server_url)
    name = f"tet_bench_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def flushed_redis(url: str) -> Iterator[redis.Redis]:
    """The Redis db of `url`, emptied before and after."""
    require_local(url)
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env(database_url: str, redis_url: str, secret_key: str) -> dict[str, str]:
    """The environment of the production processes (and of the flask commands preparing them)."""
    return {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": secret_key}


def run_flask(args: list[str], env: dict[str, str]) -> None:
    """`flask <args>` in the project directory; BenchError with its output when it fails."""
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` a échoué :\n{result.stdout}{result.stderr}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"{self.name} s'est arrêté (code {self.popen.returncode}) :\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the process and its children (gunicorn forks
        its worker); Linux /proc, 0 elsewhere."""
        return _cpu_seconds_of(self.popen.pid)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def machine_busy_seconds() -> float:
    """CPU time all CPUs of the machine spent busy since boot (Linux /proc; 0 elsewhere)."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds_of(int(child)) for child in children)


@dataclass
class Servers:
    """gunicorn (gthread) and the RQ workers, running; `base_url` of the web process."""

    web: Process
    workers: list[Process]
    port: int
    log_dir: Path
    threads: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def production_servers(env: dict[str, str], redis_connection: redis.Redis, threads: int = 64,
                       workers: int = 1) -> Iterator[Servers]:
    """Start `gunicorn -k gthread --threads N -w 1 wsgi:app` and `workers` times `flask worker`;
    wait until all answer; stop them at the end."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tet-bench-") as log_dir:
        processes: list[Process] = []

        def start(name: str, args: list[str]) -> Process:
            log_path = Path(log_dir) / f"{name}.log"
            with log_path.open("w") as log:
                popen = subprocess.Popen([sys.executable, "-m", *args], cwd=PROJECT_ROOT, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
            processes.append(Process(name, popen, log_path))
            return processes[-1]

        try:
            web = start("gunicorn", ["gunicorn", "-k", "gthread", "--threads", str(threads), "-w", "1",
                                     "-b", f"127.0.0.1:{port}", "wsgi:app"])
            rq_workers = [start(f"worker-{n}", ["flask", "worker"]) for n in range(1, workers + 1)]
            servers = Servers(web, rq_workers, port, Path(log_dir), threads)
            _wait_ready(servers, redis_connection)
            yield servers
        finally:
            for process in processes:
                process.stop()


def _wait_ready(servers: Servers, redis_connection: redis.Redis) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    web_ready = worker_ready = False
    while not (web_ready and worker_ready):
        if time.monotonic() > deadline:
            raise BenchError(f"serveurs pas prêts après {READY_TIMEOUT_SECONDS} s :\n"
                             + "\n".join(process.log_tail() for process in [servers.web, *servers.workers]))
        for process in [servers.web, *servers.workers]:
            process.check_alive()
        if not web_ready:
            try:
                web_ready = HttpSession(servers.base_url).get("/connexion").status == 200
            except OSError:
                pass
        worker_ready = worker_ready or Worker.count(connection=redis_connection) >= len(servers.workers)
        time.sleep(0.1)


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    location: str | None


@dataclass
class HttpSession:
    """One browser: a cookie jar and plain HTTP/1.1 requests to one local server (no redirects
    followed), a new connection per request as keep-alive gains nothing on the loopback."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def get(self, path: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> Response:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None,
             timeout: float = HTTP_TIMEOUT_SECONDS) -> Response:
        body = urllib.parse.urlencode(form)
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
                            timeout)

    def request(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
                timeout: float = HTTP_TIMEOUT_SECONDS) -> Response:
        address = urllib.parse.urlsplit(self.base_url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
        try:
            all_headers = {"Cookie": self.cookie_header, **(headers or {})} if self.cookies else headers or {}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return Response(response.status, response.read().decode("utf-8", "replace"), response.headers.get("Location"))
        finally:
            connection.close()

    def login(self, email: str, password: str) -> None:
        """The real login form: its CSRF token, then the POST; BenchError unless it redirects."""
        page = self.get("/connexion", SETUP_TIMEOUT_SECONDS)
        token = _CSRF_INPUT.search(page.body)
        if page.status != 200 or token is None:
            raise BenchError(f"page de connexion inattendue (HTTP {page.status})")
        response = self.post("/connexion", {"email": email, "password": password, "csrf_token": token.group(1)},
                             timeout=SETUP_TIMEOUT_SECONDS)
        if response.status != 302:
            raise BenchError(f"connexion refusée pour {email} (HTTP {response.status})")

    def csrf_token_of(self, path: str) -> str:
        """The CSRF token that htmx sends, read from the csrf meta tag of the page at `path`."""
        page = self.get(path, SETUP_TIMEOUT_SECONDS)
        token = _CSRF_META.search(page.body)
        if page.status != 200 or token is None:
            raise BenchError(f"{path} : HTTP {page.status}, pas de jeton CSRF")
        return token.group(1)
