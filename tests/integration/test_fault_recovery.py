"""Fault recovery on the production shape (PostgreSQL + Redis pass): real `flask worker` processes,
and a private redis-server and PostgreSQL cluster that the tests stop and restart (never the shared
servers). Each scenario asserts that no saved edit is lost and that the stored scores end equal to
a fresh computation within a generous bound (not a timing test), and prints the recovery time."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import flask_migrate
import pytest
import redis
from rq import Worker
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import ActionStatut, ScoreState, User
from app.queue import current_queue
from app.services import statuts, suivi
from tests.suivi_content import fresh_score_table, load_tiny_content, make_editor

pytestmark = pytest.mark.postgres
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONVERGENCE_BOUND_SECONDS = 30
TACHES = ("eci_1.1.1", "eci_1.1.2", "eci_1.2.1", "eci_1.2.2", "eci_1.2.3", "eci_2.2.1", "eci_2.2.2")
STATUTS = ("fait", "programme", "pas_fait")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, what: str, timeout: float = CONVERGENCE_BOUND_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        time.sleep(0.02)


class PrivateRedis:
    """A redis-server without persistence: a restart loses every key, as a crash may."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, "redis-server start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, run as the `postgres` OS user when the tests
    run as root (initdb refuses root)."""

    def __init__(self, directory: Path):
        bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
        assert bin_dirs, "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql"
        self.bin = bin_dirs[-1]
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.running = False
        self._as_owner = []
        directory.mkdir()
        if os.geteuid() == 0:
            self._as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(directory, "postgres")
        self._run("initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as_owner, str(self.bin / tool), *args], check=True, capture_output=True, cwd=self.directory)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-l", str(self.directory / "log"), "-o", options, "-w", "start")
        self.running = True

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
        self.running = False


@pytest.fixture(scope="module")
def servers():
    directory = Path(tempfile.mkdtemp(prefix="tet-faults-"))
    directory.chmod(0o755)  # the postgres user reaches its cluster inside
    postgres, redis_server = PrivatePostgres(directory / "postgres"), PrivateRedis(directory / "redis")
    try:
        postgres.start()
        redis_server.start()
        yield postgres, redis_server
    finally:
        if redis_server.running:
            redis_server.stop()
        if postgres.running:
            postgres.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def fault_app(servers, tmp_path_factory):
    postgres, redis_server = servers
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres.url, "REDIS_URL": redis_server.url,
        "SECRET_KEY": "test-secret", "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 32,
    })
    with app.app_context():
        flask_migrate.upgrade()
        load_tiny_content()
        db.session.remove()
    return app


class Scene:
    """One collectivité edited by one agent, the worker processes, and what the checks need."""

    def __init__(self, app, postgres: PrivatePostgres, redis_server: PrivateRedis, log_dir: Path):
        self.app, self.postgres, self.redis_server, self.log_dir = app, postgres, redis_server, log_dir
        user, collectivite = make_editor()
        self.user_id, self.collectivite_id = user.id, collectivite.id
        self.saved: dict[str, str] = {}  # tâche -> statut of every edit saved
        self.edit_count = 0
        self.workers: list[subprocess.Popen] = []

    def edit(self, count: int, pause: float = 0) -> None:
        """`count` edits, each changing a statut (so each one bumps the edit revision)."""
        for _ in range(count):
            tache = TACHES[self.edit_count % len(TACHES)]
            statut = STATUTS[self.edit_count // len(TACHES) % len(STATUTS)]
            statuts.set_statut(db.session.get(User, self.user_id), self.collectivite_id, tache, statut)
            self.saved[tache] = statut
            self.edit_count += 1
            time.sleep(pause)

    def start_worker(self, slow: bool = False, registered: bool = True) -> subprocess.Popen:
        """`flask worker` (or tests.slow_worker), once registered with RQ (unless `registered` is False)."""
        env = dict(os.environ, FLASK_APP="wsgi", SECRET_KEY="test-secret", REDIS_URL=self.redis_server.url,
                   DATABASE_URL=self.postgres.url, SCORING_STARTED=str(self.log_dir / "scoring-started"))
        command = ["-m", "tests.slow_worker"] if slow else ["-m", "flask"]
        with open(self.log_dir / f"worker-{len(self.workers)}.log", "w") as log:
            # Own session: the teardown kills the scheduler process it forks too.
            process = subprocess.Popen([sys.executable, *command, "worker"], cwd=PROJECT_ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(process)
        if registered:
            self.wait_for_registration(process)
        return process

    def wait_for_registration(self, process: subprocess.Popen) -> None:
        connection = current_queue().rq.connection

        def registered_or_exited() -> bool:
            return process.poll() is not None or any(w.pid == process.pid for w in Worker.all(connection=connection))

        wait_for(registered_or_exited, "worker registration")
        assert process.poll() is None, f"the worker exited: see the worker-*.log in {self.log_dir}"

    def kill_workers(self) -> None:
        for process in self.workers:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

    def queued_jobs(self) -> int:
        return len(current_queue().rq.jobs)

    def converged(self) -> bool:
        """The stored scores reflect the last edit and equal a fresh computation."""
        db.session.remove()
        state = db.session.get(ScoreState, (self.collectivite_id, "eci"))
        fresh = {action_id: list(values) for action_id, values in fresh_score_table(self.collectivite_id).rows().items()}
        return state.scored_revision == state.edit_revision and state.scores == fresh

    def seconds_to_converge(self, since: float) -> float:
        wait_for(self.converged, "stored scores equal to a fresh computation")
        return time.monotonic() - since

    def seconds_to_recover_with_a_new_worker(self) -> str:
        started = time.monotonic()
        self.start_worker()
        registered = time.monotonic()
        elapsed = self.seconds_to_converge(started)
        return f"{elapsed:.2f} s after a new worker was started ({elapsed - (registered - started):.2f} s after it registered)"

    def assert_no_edit_lost(self) -> None:
        db.session.remove()
        stored = db.session.execute(
            select(ActionStatut.action_id, ActionStatut.avancement).where(ActionStatut.collectivite_id == self.collectivite_id)
        )
        assert dict(stored.all()) == self.saved
        assert db.session.get(ScoreState, (self.collectivite_id, "eci")).edit_revision == self.edit_count


@pytest.fixture
def scene(fault_app, servers, tmp_path):
    postgres, redis_server = servers
    if not postgres.running:  # a previous scenario failed during its outage
        postgres.start()
    if not redis_server.running:
        redis_server.start()
    with fault_app.app_context():
        scene = Scene(fault_app, postgres, redis_server, tmp_path)
        try:
            yield scene
        finally:
            scene.kill_workers()
            current_queue().fallback.drain()
            db.session.remove()


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[fault recovery] {text}")


def test_worker_killed_while_edits_come(scene, capsys):
    scene.edit(3)  # no worker yet: one job queued for the three edits
    doomed = scene.start_worker(slow=True)
    wait_for((scene.log_dir / "scoring-started").exists, "the re-score started")
    scene.edit(2, pause=0.05)  # that job started: one more is queued for these
    assert scene.queued_jobs() == 1
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    scene.edit(3)  # the edits go on with no worker running
    report(capsys, f"worker SIGKILLed while edits came: scores right {scene.seconds_to_recover_with_a_new_worker()}")
    scene.assert_no_edit_lost()


def test_worker_killed_during_the_last_rescore(scene, capsys):
    scene.edit(3)
    doomed = scene.start_worker(slow=True)
    wait_for((scene.log_dir / "scoring-started").exists, "the re-score started")
    os.kill(doomed.pid, signal.SIGKILL)  # no edit will come to enqueue another job
    doomed.wait()
    assert not scene.converged()
    report(capsys, f"worker SIGKILLed during the last re-score: scores right {scene.seconds_to_recover_with_a_new_worker()}")
    scene.assert_no_edit_lost()


def test_redis_stopped_and_restarted(scene, capsys, monkeypatch):
    worker = scene.start_worker()
    scene.edit(2)
    scene.seconds_to_converge(time.monotonic())
    scene.redis_server.stop()
    scene.edit(3)  # scored by this process's fallback
    current_queue().fallback.drain()
    with monkeypatch.context() as crash:
        # As if this process died before its in-process job ran: only a worker can find it.
        crash.setattr(suivi, "enqueue_rescore", lambda *ids: None)
        scene.edit(1)
    late = scene.start_worker(registered=False)  # started during the outage
    time.sleep(3)  # both keep trying
    assert worker.poll() is None and late.poll() is None, "a worker exited with Redis"
    restarted = time.monotonic()
    scene.redis_server.start()  # empty: queued jobs and counters are lost
    elapsed = scene.seconds_to_converge(restarted)
    scene.wait_for_registration(late)

    def runs_here(*args):
        raise AssertionError("Redis is back: no job may run in this process")

    monkeypatch.setattr(current_queue().fallback, "enqueue", runs_here)
    back = time.monotonic()
    scene.edit(2)  # scored by a worker
    after_edit = scene.seconds_to_converge(back)
    report(capsys, f"Redis restarted (empty): scores right {elapsed:.2f} s after; a new edit scored by a worker in {after_edit:.2f} s")
    assert worker.poll() is None and late.poll() is None
    scene.assert_no_edit_lost()


def test_postgres_restarted(scene, capsys):
    worker = scene.start_worker()
    scene.edit(2)
    scene.seconds_to_converge(time.monotonic())
    os.kill(worker.pid, signal.SIGSTOP)  # the next job waits in Redis...
    scene.edit(3)
    db.session.remove()
    scene.postgres.stop()
    os.kill(worker.pid, signal.SIGCONT)  # ...and meets the outage: it fails, RQ retries it
    time.sleep(2)
    restarted = time.monotonic()
    scene.postgres.start()
    elapsed = scene.seconds_to_converge(restarted)
    scene.edit(2)  # saved at once: the pools drop their dead connections
    after_edit = scene.seconds_to_converge(time.monotonic())
    report(capsys, f"PostgreSQL restarted: scores right {elapsed:.2f} s after; a new edit scored in {after_edit:.2f} s")
    assert worker.poll() is None
    scene.assert_no_edit_lost()
