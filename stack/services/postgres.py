"""PostgreSQL (Debian package): Airflow metadata, the export target and the Hive metastore, kept apart."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.services.base import Service

SERVER_USER = "postgres"


def _bin(tool: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates:
        return candidates[-1]
    found = shutil.which(tool)
    if found:
        return found
    raise PilotError(f"PostgreSQL server binary `{tool}` not found; install the Debian package "
                     f"`postgresql` (or run `make setup`).")


def _run_as(s: Settings) -> str | None:
    """PostgreSQL refuses to run as root: run it as the `postgres` system user then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise PilotError("running as root needs the `postgres` system user; install the Debian "
                         "package `postgresql`.") from exc
    return SERVER_USER


def _traversable_by(path: Path, user: str) -> bool:
    info = pwd.getpwnam(user)
    for part in [path, *path.parents]:
        st = part.stat()
        if st.st_uid == info.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == info.pw_gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
    return True


def home_dir(s: Settings) -> Path:
    """var/data/postgres, or a link to a place the `postgres` user can reach.

    When the checkout lies under a folder the `postgres` user cannot enter (say /root), the
    data lives under that user's home and var/data/postgres links to it.
    """
    link = s.path("data", "postgres")
    user = _run_as(s)
    link.parent.mkdir(parents=True, exist_ok=True)
    if user is None or link.is_symlink() or _traversable_by(link.parent, user):
        return link
    home = Path(pwd.getpwnam(user).pw_dir)
    digest = hashlib.sha256(str(s.var_dir).encode()).hexdigest()[:10]
    target = home / "smartcar-pilot" / digest
    target.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)
    return link


def data_dir(s: Settings) -> Path:
    return home_dir(s).resolve() / "pgdata"


def conf_dir(s: Settings) -> Path:
    return home_dir(s).resolve() / "conf"


def _chown(path: Path, user: str | None) -> None:
    if user:
        shutil.chown(path, user, user)


def prepare(s: Settings) -> None:
    user = _run_as(s)
    conf = render(s, "postgres", conf_dir(s))
    data = data_dir(s)
    if (data / "PG_VERSION").is_file():
        return
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    _chown(data, user)
    _chown(data.parent, user)
    with tempfile.NamedTemporaryFile("w", delete=False, dir=conf, prefix="pw") as fh:
        fh.write(s.postgres_superuser_password + "\n")
        pwfile = Path(fh.name)
    _chown(pwfile, user)
    try:
        proc = subprocess.run(
            [_bin("initdb"), "-D", str(data), "-U", s.postgres_superuser, "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"],
            capture_output=True, text=True, user=user, group=user, check=False,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise PilotError(f"initdb failed for {data}:\n{proc.stdout}{proc.stderr}")


def command(s: Settings) -> list[str]:
    conf = conf_dir(s)
    return [_bin("postgres"), "-D", str(data_dir(s)),
            "-c", f"config_file={conf / 'postgresql.conf'}", "-c", f"hba_file={conf / 'pg_hba.conf'}"]


def _owned_databases(s: Settings) -> tuple[tuple[str, str, str], ...]:
    """(role, password, database) of every client of the server, each owning its own database."""
    return (
        (s.airflow_db_user, s.airflow_db_password, s.airflow_db),
        (s.postgres_user, s.postgres_password, s.postgres_db),
        (s.hive_metastore_user, s.hive_metastore_password, s.hive_metastore_db),
    )


def ensure_roles_and_databases(s: Settings, only: tuple[str, ...] | None = None) -> None:
    """Create (or re-password) each client's role and database; ``only`` limits it to some roles."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(host=s.postgres_host, port=s.postgres_port, user=s.postgres_superuser,
                            password=s.postgres_superuser_password, dbname="postgres",
                            connect_timeout=s.postgres_connect_timeout_seconds)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for role, password, database in _owned_databases(s):
                if only is not None and role not in only:
                    continue
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)),
                            (password,))
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if not cur.fetchone():
                    cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(role)))
                cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(
                    sql.Identifier(database)))
    finally:
        conn.close()


def bootstrap(s: Settings) -> None:
    """Roles and databases for Airflow, the export target and the Hive metastore; passwords kept in sync."""
    ensure_roles_and_databases(s)


SERVICE = Service(
    name="postgres",
    ports=lambda s: (s.postgres_port,),
    address=lambda s: f"{s.postgres_host}:{s.postgres_port}",
    command=command,
    ready=probes.postgres_ready,
    prepare=prepare,
    bootstrap=bootstrap,
    run_as=_run_as,
    start_timeout=60,
    # "fast" shutdown (pg_ctl's default): open client sessions are ended instead of waited for
    stop_signal=signal.SIGINT,
    hint="Debian package `postgresql`",
)
