"""Static checks of the containerised stack: docker-compose.yml, docker/Dockerfile, .env.example.

No Docker engine is needed (or used): the files are parsed and compared with the project's own
modules (service registry, settings, config templates, poms), so compose stays correct by
construction when one of those changes.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from pilot.settings import REPO_ROOT, SECRET_FIELDS, Settings, env_name, load_settings, read_env_file
from stack import services
from stack.config import TEMPLATE_ROOT, TEMPLATES, render, template_values
from stack.jvm import POMS
from stack.services.airflow import airflow_env, airflow_home

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"
GITIGNORE = REPO / ".gitignore"
SETUP_SH = REPO / "stack" / "setup.sh"
LOCK = REPO / "requirements.lock"

IMAGE = "smartcar-pilot:local"
ONE_SHOT = frozenset({"init"})
LOOPBACK = "127.0.0.1"
AIRFLOW = tuple(svc.name for svc in services.SERVICES if svc.name.startswith("airflow-"))

# Settings field holding the host clients use -> the compose service that must answer on it.
HOST_FIELDS = {
    "hdfs_namenode_host": "hdfs-namenode",
    "hdfs_datanode_hostname": "hdfs-datanode",
    "kafka_host": "kafka",
    "hbase_host": "hbase-thrift",
    "hive_host": "hive",
    "redis_host": "redis",
    "postgres_host": "postgres",
    "airflow_host": "airflow-api-server",
}
# Services whose rendered config names the container by socket.gethostname() (stack.config
# advertised_host): their container hostname must equal the host setting.
HOSTNAME_FIELDS = {"kafka": "kafka_host", "hbase": "hbase_host", "hbase-thrift": "hbase_host"}

Services = dict[str, dict[str, Any]]

INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


# ---- helpers ------------------------------------------------------------------------------------
def load_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), \
        "docker-compose.yml must be a mapping with a `services:` mapping"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def cservices(compose: dict[str, Any]) -> Services:
    return compose["services"]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose-style `${NAME}`, `${NAME:-default}`, `${NAME:?error}` substitution (`$$` = `$`)."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op in (":?", "?"):
            if not current:
                raise AssertionError(f"${{{name}}} is required: {arg}")
            return current
        if op in (":-", "-"):
            return current if current else (arg or "")
        if current is None:
            raise AssertionError(f"${{{name}}} has no value and no default")
        return current

    return INTERPOLATION.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def fake_secrets() -> dict[str, str]:
    return {env_name(name): f"test-{name.replace('_', '-')}" for name in SECRET_FIELDS}


def container_environment(cservice: dict[str, Any]) -> dict[str, str]:
    env = cservice.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): interpolate(str(v), fake_secrets()) for k, v in env.items()}


def container_settings(cservice: dict[str, Any], tmp_path: Path) -> Settings:
    """The settings a container of this service sees (with stand-in secrets)."""
    return load_settings(container_environment(cservice), env_file=tmp_path / "no.env")


def network_owner(cservices: Services, name: str) -> str:
    """The service whose network namespace `name` uses (itself unless `network_mode: service:X`)."""
    mode = str(cservices[name].get("network_mode", ""))
    return mode.split(":", 1)[1] if mode.startswith("service:") else name


def dns_names(cservices: Services, name: str) -> set[str]:
    """Names under which other containers reach the network namespace of `name`."""
    owner = network_owner(cservices, name)
    names = {owner}
    networks = cservices[owner].get("networks") or {}
    if isinstance(networks, dict):
        for net in networks.values():
            names.update((net or {}).get("aliases", []))
    return names


def container_hostname(cservices: Services, name: str) -> str | None:
    return cservices[network_owner(cservices, name)].get("hostname")


def published_ports(cservice: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of every `ports:` entry, short or long syntax."""
    out: list[tuple[str, int, int]] = []
    for entry in cservice.get("ports") or []:
        if isinstance(entry, dict):
            out.append((str(entry.get("host_ip", "")), int(entry.get("published", 0)),
                        int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) == 3:
            out.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            out.append(("", int(parts[0]), int(parts[1])))
        else:
            out.append(("", 0, int(parts[0])))
    return out


def mounts(cservice: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read-only) of every `volumes:` entry, short or long syntax."""
    out: list[tuple[str, str, bool]] = []
    for entry in cservice.get("volumes") or []:
        if isinstance(entry, dict):
            out.append((str(entry.get("source", "")), str(entry["target"]), bool(entry.get("read_only"))))
            continue
        parts = str(entry).split(":")
        mode = parts[2] if len(parts) > 2 else ""
        out.append((parts[0], parts[1], "ro" in mode.split(",")))
    return out


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def seconds(duration: str | int | float) -> float:
    """Compose durations: `90s`, `1m30s`, `500ms`, `2h`."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a compose duration: {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


def depends_on(cservice: dict[str, Any]) -> dict[str, Any]:
    deps = cservice.get("depends_on") or {}
    if isinstance(deps, list):  # short syntax: no condition (reported by a test)
        return dict.fromkeys(deps)
    return deps


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of docker/Dockerfile, continuation lines joined."""
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    out: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        buffer = ""
    return out


def app_dir() -> PurePosixPath:
    workdirs = [args for kw, args in dockerfile_instructions() if kw == "WORKDIR"]
    assert workdirs, "docker/Dockerfile sets no WORKDIR (the project folder inside the image)"
    return PurePosixPath(workdirs[-1])


def in_app(repo_path: Path) -> str:
    """Where a path of this checkout lives inside the image."""
    return str(app_dir() / repo_path.resolve().relative_to(REPO_ROOT).as_posix())


def state_paths(name: str, s: Settings) -> list[str]:
    """Folders a service keeps state in (derived from the settings, as its code uses them)."""
    values = template_values(s)
    paths = {
        "postgres": [str(s.path("data", "postgres"))],
        "redis": [values["REDIS_DATA_DIR"]],
        "hdfs-namenode": [values["HDFS_NAME_DIR"]],
        "hdfs-datanode": [values["HDFS_DATA_DIR"]],
        "kafka": [values["KAFKA_LOG_DIRS"]],
        "hbase": [values["HBASE_ZK_DATA_DIR"]],  # tables and WAL live in HDFS (HBASE_ROOTDIR)
        "hive": [str(s.path("data", "hive"))],  # the metastore lives in PostgreSQL
    }
    if name in AIRFLOW:
        return [str(airflow_home(s) / "logs")]
    return paths.get(name, [])


def long_running(cservices: Services) -> list[str]:
    return [name for name in cservices if name not in ONE_SHOT]


# ---- the services ---------------------------------------------------------------------------------
def test_every_registered_service_runs_from_compose(cservices: Services) -> None:
    for svc in services.SERVICES:
        assert svc.name in cservices, f"docker-compose.yml has no service {svc.name!r} (stack.services)"
        command = cservices[svc.name].get("command")
        assert command == ["stack", "run", svc.name], \
            f"{svc.name}: command must be [stack, run, {svc.name}] (entrypoint pilot), not {command!r}"
    unknown = set(cservices) - {svc.name for svc in services.SERVICES} - ONE_SHOT
    assert not unknown, f"compose services not in stack.services (nor one-shot): {sorted(unknown)}"


def test_every_container_runs_the_project_image(cservices: Services) -> None:
    for name, cs in cservices.items():
        assert cs.get("image") == IMAGE, f"{name}: image must be {IMAGE}, not {cs.get('image')!r}"
        build = cs.get("build") or {}
        assert build.get("dockerfile") == "docker/Dockerfile" and build.get("context") == ".", \
            f"{name}: must build {IMAGE} from docker/Dockerfile with the repository as context"
        assert cs.get("entrypoint") == ["pilot"], f"{name}: entrypoint must be [pilot]"


def test_every_long_running_service_has_a_pilot_healthcheck(cservices: Services) -> None:
    for name in long_running(cservices):
        check = cservices[name].get("healthcheck")
        assert check, f"{name}: no healthcheck"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        assert check.get("test") == ["CMD", "pilot", "stack", "check", name], \
            f"{name}: healthcheck must be the real probe [CMD, pilot, stack, check, {name}]"
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck has no {key}"
        svc = services.get(name)
        budget = seconds(check["start_period"]) + seconds(check["interval"]) * int(check["retries"])
        assert budget >= svc.start_timeout, \
            f"{name}: healthcheck gives up after {budget:.0f}s, the service may take {svc.start_timeout:.0f}s"
        assert seconds(check["timeout"]) >= 10, f"{name}: healthcheck timeout under 10s (probes need it)"


def test_stop_grace_period_covers_the_services_stop_timeout(cservices: Services) -> None:
    for svc in services.SERVICES:
        grace = seconds(cservices[svc.name].get("stop_grace_period", "10s"))
        assert grace >= svc.stop_timeout, \
            f"{svc.name}: stop_grace_period {grace:.0f}s < its stop timeout {svc.stop_timeout:.0f}s"


def test_every_depends_on_has_a_condition(cservices: Services) -> None:
    for name, cs in cservices.items():
        for dep, spec in depends_on(cs).items():
            assert dep in cservices, f"{name} depends on unknown service {dep!r}"
            condition = (spec or {}).get("condition")
            wanted = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert condition == wanted, f"{name} -> {dep}: condition must be {wanted}, not {condition!r}"


def test_dependency_edges_cover_the_registry(cservices: Services) -> None:
    for svc in services.SERVICES:
        deps = depends_on(cservices[svc.name])
        for required in svc.requires:
            assert required in deps, \
                f"{svc.name} requires {required} (stack.services) but has no depends_on on it"
        owner = network_owner(cservices, svc.name)
        if owner != svc.name:
            assert owner in deps, f"{svc.name} uses {owner}'s network but does not depend on it"


def test_init_bootstraps_once_everything_is_healthy(cservices: Services) -> None:
    init = cservices.get("init")
    assert init, "no one-shot `init` service"
    assert init.get("command") == ["stack", "bootstrap"], "init must run `pilot stack bootstrap`"
    assert str(init.get("restart")) == "no", "init is one-shot: restart must be \"no\""
    assert "healthcheck" not in init, "init exits: it must not have a healthcheck"
    deps = depends_on(init)
    for svc in services.SERVICES:
        if svc.bootstrap:
            assert svc.name in deps, f"init bootstraps {svc.name} but does not wait for it to be healthy"
    for name in AIRFLOW:
        assert "init" in depends_on(cservices[name]), f"{name} must wait for init to complete"


def test_restart_policy_of_long_running_services(cservices: Services) -> None:
    for name in long_running(cservices):
        assert cservices[name].get("restart") in {"unless-stopped", "always", "on-failure"}, \
            f"{name}: give it a restart policy"


# ---- ports and names ------------------------------------------------------------------------------
def test_published_ports_are_loopback_and_equal_the_settings(cservices: Services) -> None:
    defaults = Settings()
    for name, cs in cservices.items():
        if network_owner(cservices, name) != name:
            assert not cs.get("ports"), f"{name} shares another network namespace: publish there"
            continue
        expected: set[int] = set()
        for svc in services.SERVICES:
            if svc.name in cservices and network_owner(cservices, svc.name) == name:
                expected.update(svc.ports(defaults))
        published = published_ports(cs)
        for host_ip, host_port, target in published:
            assert host_ip == LOOPBACK, f"{name}: port {target} must be published on {LOOPBACK} only"
            assert host_port == target, f"{name}: host port {host_port} != container port {target}"
        got = {target for _, _, target in published}
        assert got == expected, \
            f"{name}: publishes {sorted(got)}, the settings say {sorted(expected)} (pilot.settings)"


def test_hosts_in_settings_name_their_services(cservices: Services, tmp_path: Path) -> None:
    for name, cs in cservices.items():
        s = container_settings(cs, tmp_path)
        assert s.bind_host == "0.0.0.0", f"{name}: PILOT_BIND_HOST must be 0.0.0.0 in containers"
        for field_name, target in HOST_FIELDS.items():
            value = getattr(s, field_name)
            assert value in dns_names(cservices, target), \
                f"{name}: {env_name(field_name)}={value} does not resolve to service {target}"


def test_hostnames_match_what_the_rendered_configs_advertise(
    cservices: Services, tmp_path: Path,
) -> None:
    for name, field_name in HOSTNAME_FIELDS.items():
        s = container_settings(cservices[name], tmp_path)
        hostname = container_hostname(cservices, name)
        assert hostname == getattr(s, field_name), \
            f"{name}: its config names the container by its hostname ({hostname!r}); it must be " \
            f"{env_name(field_name)}={getattr(s, field_name)}"


def test_datanode_name_of_webhdfs_redirects(cservices: Services, tmp_path: Path) -> None:
    datanode = cservices["hdfs-datanode"]
    name = container_settings(datanode, tmp_path).hdfs_datanode_hostname
    assert datanode.get("hostname") == name, f"hdfs-datanode: hostname must be {name}"
    assert name in dns_names(cservices, "hdfs-datanode"), \
        f"hdfs-datanode: other containers follow WebHDFS redirects to {name}: make it a network alias"
    kafka = container_settings(cservices["kafka"], tmp_path).kafka_host
    header = COMPOSE_FILE.read_text(encoding="utf-8").split("\nservices:")[0]
    assert re.search(rf"^#\s+127\.0\.0\.1\s+{re.escape(name)}\s+{re.escape(kafka)}\s*$", header, re.M), \
        f"docker-compose.yml's header must give host clients the line `127.0.0.1 {name} {kafka}`"


# ---- environment and secrets ----------------------------------------------------------------------
def test_every_container_gets_the_same_environment(compose: dict[str, Any]) -> None:
    shared = compose.get("x-pilot-env")
    assert isinstance(shared, dict), "docker-compose.yml must define the environment once: x-pilot-env"
    for name, cs in compose["services"].items():
        assert cs.get("environment") == shared, f"{name}: environment must be *pilot-env"


def test_secrets_are_required_from_the_env_file(compose: dict[str, Any]) -> None:
    env = compose["x-pilot-env"]
    for field_name in SECRET_FIELDS:
        key = env_name(field_name)
        assert key in env, f"x-pilot-env lacks {key}: containers would generate different secrets"
        assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(env[key])), \
            f"{key} must be ${{{key}:?message}} (required from .env), not {env[key]!r}"
        with pytest.raises(AssertionError, match="required"):
            interpolate(str(env[key]), {})
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for field_name in SECRET_FIELDS:
        for match in re.finditer(rf"^\s*{env_name(field_name)}\s*[:=]\s*(.*)$", text, re.M):
            assert match.group(1).startswith("${"), f"literal secret in docker-compose.yml: {match.group(0)}"


def test_env_example_lists_every_secret_empty() -> None:
    assert ENV_EXAMPLE.is_file(), ".env.example is missing"
    values = read_env_file(ENV_EXAMPLE)
    for field_name in SECRET_FIELDS:
        key = env_name(field_name)
        assert key in values, f".env.example does not list {key}"
        assert values[key] == "", f".env.example must leave {key} empty (no committed secret)"
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "token_urlsafe" in text and "urlsafe_b64encode" in text, \
        ".env.example must say how to generate the passwords and the Fernet key"


def test_secrets_and_state_stay_out_of_git_and_the_image() -> None:
    ignored = {line.strip().strip("/") for line in GITIGNORE.read_text(encoding="utf-8").splitlines()}
    assert ".env" in ignored, ".gitignore must ignore .env (it holds the secrets)"
    docker_ignored = {line.strip().strip("/")
                      for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for entry in (".env", "var", ".venv", ".git"):
        assert entry in docker_ignored, f".dockerignore must exclude {entry} from the build context"


def test_container_settings_render_every_template(cservices: Services, tmp_path: Path) -> None:
    s = container_settings(cservices["hdfs-namenode"], tmp_path)
    assert s.var_dir.as_posix() == "/var/lib/pilot", f"PILOT_VAR_DIR must be /var/lib/pilot, not {s.var_dir}"
    for runtime, files in TEMPLATES.items():
        for rel in files:
            assert (TEMPLATE_ROOT / rel).is_file(), f"template docker/{rel} ({runtime}) is missing"
        render(s, runtime, tmp_path / "conf" / runtime)
    hdfs_site = (tmp_path / "conf" / "hadoop" / "hdfs-site.xml").read_text(encoding="utf-8")
    assert f"<value>{s.hdfs_datanode_hostname}</value>" in hdfs_site, \
        "the rendered hdfs-site.xml must register the DataNode under PILOT_HDFS_DATANODE_HOSTNAME"


# ---- volumes and mounts ----------------------------------------------------------------------------
def test_docker_config_folder_is_mounted_read_only(cservices: Services) -> None:
    target = in_app(TEMPLATE_ROOT)
    for name, cs in cservices.items():
        found = [(src, ro) for src, dst, ro in mounts(cs) if dst == target]
        assert found, f"{name}: docker/ must be mounted at {target} (where the package reads templates)"
        src, ro = found[0]
        assert src in {"./docker", "docker"} and ro, f"{name}: mount ./docker:{target}:ro"


def test_dags_and_plugins_are_mounted_into_airflow(cservices: Services, tmp_path: Path) -> None:
    for name in AIRFLOW:
        env = airflow_env(container_settings(cservices[name], tmp_path))
        targets = {dst: src for src, dst, _ in mounts(cservices[name])}
        for key, folder in (("AIRFLOW__CORE__DAGS_FOLDER", "dags"),
                            ("AIRFLOW__CORE__PLUGINS_FOLDER", "plugins")):
            where = in_app(Path(env[key]))
            assert targets.get(where) in {f"./{folder}", folder}, f"{name}: mount ./{folder}:{where}"


def test_state_lives_in_named_volumes(compose: dict[str, Any], tmp_path: Path) -> None:
    cservices = compose["services"]
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for name, cs in cservices.items():
        named = [(src, dst) for src, dst, _ in mounts(cs) if is_named_volume(src)]
        used.update(src for src, _ in named)
        for path in state_paths(name, container_settings(cs, tmp_path)):
            state = PurePosixPath(path)
            covered = [src for src, dst in named
                       if state == PurePosixPath(dst) or PurePosixPath(dst) in state.parents]
            assert covered, f"{name}: its state folder {path} is not on a named volume"
    assert used <= declared, f"volumes used but not declared: {sorted(used - declared)}"
    assert declared <= used, f"volumes declared but never mounted: {sorted(declared - used)}"


def test_postgres_runs_as_its_own_user(cservices: Services) -> None:
    # `pilot stack run` execs the server as the container user and PostgreSQL refuses root.
    assert cservices["postgres"].get("user") == "postgres", "postgres must run with user: postgres"
    runs = " ".join(args for kw, args in dockerfile_instructions() if kw == "RUN")
    assert re.search(r"install -d -o postgres -g postgres -m 0700 \S*/data/postgres", runs), \
        "docker/Dockerfile must create the postgres data folder owned by postgres (the volume copies it)"


# ---- the image ----------------------------------------------------------------------------------------
def test_dockerfile_base_matches_the_project_python_and_debian() -> None:
    instructions = dockerfile_instructions()
    bases = [args for kw, args in instructions if kw == "FROM"]
    assert len(bases) == 1, "docker/Dockerfile must build one image from one base"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requires = project["requires-python"]
    python = re.search(r"(\d+\.\d+)", requires)
    assert python, requires
    assert bases[0] == f"python:{python.group(1)}-slim-bookworm", \
        f"base must be python:{python.group(1)}-slim-bookworm (Redis 7.0, PostgreSQL 15, OpenJDK 17)"


def test_dockerfile_installs_the_native_system_packages() -> None:
    # test_missing+=(...) are test-only packages (the UI test's browser), not runtime ones
    native = re.findall(r"(?<!test_)missing\+=\(([\w.+-]+)\)", SETUP_SH.read_text(encoding="utf-8"))
    assert native, "stack/setup.sh lists no packages (missing+=(...)): update this test"
    runs = [args for kw, args in dockerfile_instructions() if kw == "RUN"]
    installed: set[str] = set()
    for run in runs:
        for command in run.split("&&"):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                installed.update(w for w in words[words.index("install") + 1:] if not w.startswith("-"))
    missing = set(native) - installed
    assert not missing, f"docker/Dockerfile does not apt-get install {sorted(missing)} (stack/setup.sh does)"
    assert any(p.startswith("openjdk-17") for p in installed), "the image needs OpenJDK 17 like natively"


def test_dockerfile_uses_the_locked_python_environment() -> None:
    runs = [args for kw, args in dockerfile_instructions() if kw == "RUN"]
    copies = [args for kw, args in dockerfile_instructions() if kw == "COPY"]
    assert any("requirements.lock" in c.split()[0] for c in copies), "COPY requirements.lock into the image"
    assert any(re.search(r"pip install (-\S+ )*-r \S*requirements\.lock", r) for r in runs), \
        "docker/Dockerfile must pip install -r requirements.lock (the native pins)"
    assert any("pip install --no-deps -e ." in r for r in runs), \
        "install the project itself with pip install --no-deps -e . (the `pilot` console script)"
    lock = read_lock()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for package, version in re.findall(r'"(apache-airflow|pyspark)==([^"]+)"', pyproject):
        assert lock.get(package) == version, f"requirements.lock pins {package}=={lock.get(package)}, " \
                                             f"pyproject.toml says {version}"


def read_lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[name.lower()] = version
    return pins


def test_dockerfile_resolves_the_jars_of_the_poms() -> None:
    instructions = dockerfile_instructions()
    jar_steps = [i for i, (kw, args) in enumerate(instructions) if kw == "RUN" and "stack jars" in args]
    assert jar_steps, "docker/Dockerfile must run `pilot stack jars` (the jars go into the image's ~/.m2)"
    before = " ".join(args for kw, args in instructions[:jar_steps[0]] if kw == "COPY")
    for runtime, pom in POMS.items():
        assert pom.is_file(), f"{pom} ({runtime}) is missing"
        rel = pom.relative_to(REPO_ROOT).as_posix()
        assert rel in before or re.search(r"(^|\s)\.\s+\.(\s|$)", before), \
            f"{rel} ({runtime}) must be copied in before `stack jars` runs"
    assert "secrets.env" in instructions[jar_steps[0]][1], \
        "the `stack jars` step must delete the secrets.env the settings generate (no secret in the image)"
    module = re.search(r"python -m (\S+) stack jars", instructions[jar_steps[0]][1])
    if module:  # run as a module before the project is installed: it and its package must be there
        path = REPO_ROOT / (module.group(1).replace(".", "/") + ".py")
        assert path.is_file(), f"docker/Dockerfile runs {module.group(1)}, which does not exist"
        package = module.group(1).split(".")[0]
        assert f"{package}/" in before, f"copy {package}/ in before `stack jars` runs"


def test_dockerfile_settings_agree_with_compose(compose: dict[str, Any]) -> None:
    envs = " ".join(args for kw, args in dockerfile_instructions() if kw == "ENV")
    for key in ("PILOT_VAR_DIR", "PILOT_BIND_HOST"):
        match = re.search(rf"{key}=(\S+)", envs)
        assert match, f"docker/Dockerfile must set ENV {key}"
        assert match.group(1) == str(compose["x-pilot-env"][key]), \
            f"{key} differs between docker/Dockerfile and docker-compose.yml"


def test_interpolation_helper() -> None:
    assert interpolate("${A:-x}/${B}", {"B": "b"}) == "x/b"
    assert interpolate("$${A}", {}) == "${A}"
    with pytest.raises(AssertionError, match="required: set it"):
        interpolate("${A:?set it}", {})


def test_host_fields_and_their_services_exist() -> None:
    for field_name, target in HOST_FIELDS.items():
        assert field_name in Settings.__dataclass_fields__, f"pilot.settings has no field {field_name}"
        assert target in services.BY_NAME, f"stack.services has no service {target}"
