"""``odoosync schema --pg-cron`` on a real PostgreSQL with the real ``pg_cron`` extension.

pg_cron must be in ``shared_preload_libraries``, which the shared server cannot get
without a restart, so this test starts a throwaway cluster with ``pg_ctl`` (Debian's
``postgresql-NN-cron`` package; ``scripts/test`` installs it when apt is usable). The
script is applied with ``psql`` as a user would. ``net.http_post`` is a stand-in that
records its calls (pg_net is not packaged for Debian); each registered job's command is
then executed to check it calls the right URL with the token from the database secret.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from odoosync.exceptions import ConfigError
from odoosync.service.pg_cron import pg_cron_sql
from odoosync.service.scheduler import DEFAULT_SCHEDULE

pytestmark = pytest.mark.xdist_group("pg_cron_cluster")  # one worker starts the module's cluster once

TOKEN = "pgcron-token-51f0c9a2"
BASE = "https://sync.example.com"

STAND_IN = """
CREATE SCHEMA net;
CREATE TABLE net.calls (id bigserial PRIMARY KEY, url text, headers jsonb, body jsonb);
CREATE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}', params jsonb DEFAULT '{}',
                              headers jsonb DEFAULT '{}', timeout_milliseconds integer DEFAULT 5000)
RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO net.calls (url, headers, body) VALUES (url, headers, body) RETURNING id
$$;
"""


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/lib/pg_cron.so"), reverse=True)
    if not found:
        return None
    bindir = Path(found[0]).parent.parent / "bin"
    return bindir if (bindir / "pg_ctl").exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cron_cluster() -> Iterator[str]:
    """A throwaway cluster with pg_cron preloaded; its URL."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("pg_cron is not installed (Debian: apt-get install postgresql-15-cron; scripts/test does it)")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="odoosync-pgcron-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to run the cluster")
        shutil.chown(workdir, user=user)
    port = _free_port()

    def run(*args: str) -> None:
        command = [str(bindir / args[0]), *args[1:]]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    data = workdir / "data"
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c shared_preload_libraries=pg_cron -c cron.database_name=postgres"
    )
    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start")
    except subprocess.SubprocessError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL cluster with pg_cron: {exc}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def cron_db(cron_cluster: str) -> Iterator[str]:
    """The cluster's ``postgres`` database with the net stand-in and no jobs, reset after."""
    with psycopg.connect(cron_cluster, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS net CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS vault CASCADE")
        conn.execute(STAND_IN)
    yield cron_cluster
    with psycopg.connect(cron_cluster, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('cron.job')").fetchone()[0]:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("ALTER DATABASE postgres RESET ALL")


def _apply(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"],
        input=sql,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _schema_pg_cron(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    done = subprocess.run(
        [sys.executable, "-m", "odoosync", "schema", "--pg-cron", *args],
        env=env,
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _run_every_job(url: str) -> list[tuple[str, str, dict]]:
    """Execute each registered job's command as pg_cron would; the calls it made."""
    with psycopg.connect(url, autocommit=True) as conn:
        for (command,) in conn.execute("SELECT command FROM cron.job ORDER BY jobid").fetchall():
            conn.execute(command)
        return [
            (row[0], row[1], row[2])
            for row in conn.execute(
                "SELECT c.url, c.headers->>'Authorization', c.headers FROM net.calls c ORDER BY c.id"
            )
        ]


def test_jobs_registered_with_schedules_calling_the_api_with_the_setting_token(cron_db):
    sql = _schema_pg_cron("--url", BASE, "--token-source", "setting:app.odoosync_api_token")
    assert TOKEN not in sql
    _apply(cron_db, sql)
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE postgres SET app.odoosync_api_token = '{TOKEN}'")
        jobs = dict(conn.execute("SELECT jobname, schedule FROM cron.job").fetchall())
        commands = " ".join(row[0] for row in conn.execute("SELECT command FROM cron.job"))
    assert jobs == {f"odoosync-{job}": cron for job, cron in DEFAULT_SCHEDULE.items()}
    assert TOKEN not in commands

    calls = _run_every_job(cron_db)  # a new connection: it sees the database setting

    expected = sorted(f"{BASE}/api/sla/check" if job == "sla" else f"{BASE}/api/jobs/{job}" for job in DEFAULT_SCHEDULE)
    assert sorted(url for url, _, _ in calls) == expected
    assert {auth for _, auth, _ in calls} == {f"Bearer {TOKEN}"}
    assert all(headers["Content-Type"] == "application/json" for _, _, headers in calls)


def test_token_from_supabase_vault_and_a_clear_error_without_one(cron_db):
    sql = _schema_pg_cron("--url", BASE + "/", "--token-source", "vault:odoosync_api_token")
    _apply(cron_db, sql)
    with psycopg.connect(cron_db, autocommit=True) as conn:  # Supabase Vault's view, as a table
        conn.execute("CREATE SCHEMA vault")
        conn.execute("CREATE TABLE vault.decrypted_secrets (name text, decrypted_secret text)")
        with pytest.raises(psycopg.errors.RaiseException, match="no API token in vault odoosync_api_token"):
            conn.execute("SELECT odoosync_private.call_job('increments')")
        conn.execute("INSERT INTO vault.decrypted_secrets VALUES ('odoosync_api_token', %s)", (TOKEN,))
    calls = _run_every_job(cron_db)
    assert calls and {auth for _, auth, _ in calls} == {f"Bearer {TOKEN}"}
    assert f"{BASE}/api/jobs/increments" in {url for url, _, _ in calls}  # no double slash


SUPABASE_ROLES = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
END $$;
GRANT USAGE ON SCHEMA public TO anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated;
"""


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_supabase_api_roles_cannot_call_the_token_function(cron_db, role):
    """Supabase grants every new ``public`` function to its Data API roles; the caller lives
    elsewhere and is revoked from them, so the public anon key cannot run admin jobs."""
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute(SUPABASE_ROLES)
        conn.execute("ALTER DATABASE postgres SET app.odoosync_api_token = 'x-token'")
    _apply(cron_db, _schema_pg_cron("--url", BASE, "--token-source", "setting:app.odoosync_api_token"))
    with psycopg.connect(cron_db, autocommit=True) as conn:
        assert conn.execute("SELECT to_regprocedure('public.odoosync_call(text)')").fetchone()[0] is None
        conn.execute(f"SET ROLE {role}")
        callable_ = [
            name
            for (name,) in conn.execute(
                "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname LIKE '%odoosync%' "
                "AND has_function_privilege(p.oid, 'EXECUTE')"
            )
        ]
        assert callable_ == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT odoosync_private.call_job('increments')")
        conn.execute("RESET ROLE")
        assert conn.execute("SELECT count(*) FROM net.calls").fetchone()[0] == 0


def test_the_function_takes_a_job_name_from_a_fixed_list_never_a_path(cron_db):
    _apply(cron_db, _schema_pg_cron("--url", BASE, "--token-source", "setting:app.odoosync_api_token"))
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute("SET app.odoosync_api_token = 'x-token'")
        for job in ("@evil.example/x", "/api/jobs/increments", "increments/../../x", "nope"):
            with pytest.raises(psycopg.errors.RaiseException, match="unknown job"):
                conn.execute("SELECT odoosync_private.call_job(%s)", (job,))
        assert conn.execute("SELECT count(*) FROM net.calls").fetchone()[0] == 0
        conn.execute("SELECT odoosync_private.call_job('sla')")
        assert conn.execute("SELECT url FROM net.calls").fetchone()[0] == f"{BASE}/api/sla/check"


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="credentials"):
        pg_cron_sql("https://user:pw@sync.example.com", DEFAULT_SCHEDULE)
    with pytest.raises(ConfigError, match="job name"):
        pg_cron_sql(BASE, {"x'); DROP TABLE y; --": "* * * * *"})
    with pytest.raises(ConfigError, match="http"):
        pg_cron_sql("ftp://x", DEFAULT_SCHEDULE)
    with pytest.raises(ConfigError, match="token source"):
        pg_cron_sql(BASE, DEFAULT_SCHEDULE, "env:X")
    with pytest.raises(ConfigError, match="5-field"):
        pg_cron_sql(BASE, {"increments": "* * * * * *"})
