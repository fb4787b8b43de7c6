"""Static checks of the deployment artefacts: compose file, the Dockerfile,
Kubernetes manifests, Prometheus configuration and the Grafana dashboard.

Nothing here needs a Docker engine or a cluster; the files are parsed and
cross-checked against the port table, commands and metric names the code uses.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
import shlex
import string
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from services.notify import metrics as notify_metrics
from shared import metrics

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
K8S_DIR = REPO / "deploy" / "kubernetes"
TRIAL_DIR = REPO / "deploy" / "kubernetes-trial"
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD_FILE = REPO / "deploy" / "grafana" / "dashboard.json"
POSTGRES_INIT_SQL = REPO / "deploy" / "postgres" / "init.sql"

SERVICES = {"catalog": 8000, "booking": 8001, "assessment": 8002, "billing": 8003, "notify": 8004}
WORKER_PORT = 9100
METRICS_PORT = 9000  # the web processes' metrics listener: Prometheus scrapes it, the HTTP port refuses /metrics
BASE_IMAGE = "python:3.11-slim"



def exposed_metric_names() -> set[str]:
    """The series names shared/metrics.py and notify's metrics expose, read from the metric objects themselves."""
    names = set()
    for metric in [*vars(metrics).values(), *vars(notify_metrics).values()]:
        if not isinstance(metric, MetricWrapperBase):
            continue
        family = metric.describe()[0]
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


KNOWN_METRICS = exposed_metric_names() | {"up"}

PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def metric_names(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression (functions, labels, keywords removed)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"'(?:\\.|[^'\\])*'", "''", text)
    text = re.sub(r"`[^`]*`", "``", text)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        before = text[match.start() - 1] if match.start() else " "
        if before.isdigit() or before in ".$":
            continue  # part of a number/duration (1e3, 5m) or a dashboard variable
        if text[match.end() :].lstrip().startswith("("):
            continue  # function call
        if token.lower() in PROMQL_KEYWORDS:
            continue
        names.add(token)
    return names


def as_argv(command) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def env_dict(environment) -> dict[str, str]:
    if environment is None:
        return {}
    if isinstance(environment, dict):
        return {key: "" if value is None else str(value) for key, value in environment.items()}
    result = {}
    for item in environment:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def depends_on(service: dict) -> dict[str, str]:
    """depends_on as {target: condition}, accepting both the list and the mapping form."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def database_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.path.lstrip("/")


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose_services(compose) -> dict:
    return compose["services"]


def test_metric_name_extraction_helper():
    expr = (
        'sum by (service, le) (rate(http_request_duration_seconds_bucket{service=~"$service"}[5m]))'
        ' / on (service) group_left foo_total offset 5m > 1e3 and bar{x="a{b}"}'
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "foo_total", "bar"}


def test_compose_validates_against_compose_spec():
    exe = Path(sys.executable).parent / "check-jsonschema"
    assert exe.exists(), f"check-jsonschema not installed next to {sys.executable}"
    proc = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_web_worker_and_migrate_per_service(compose_services, name):
    web = compose_services.get(name)
    worker = compose_services.get(f"{name}-worker")
    migrate = compose_services.get(f"{name}-migrate")
    assert web and worker and migrate, f"{name}: need {name}, {name}-worker and {name}-migrate"

    assert as_argv(web["command"]) == ["academy", "serve", name]
    assert as_argv(worker["command"]) == ["academy", "worker", name]
    assert as_argv(migrate["command"]) == ["academy", "migrate", name]
    assert migrate.get("restart") == "no", "migration is a one-shot"

    for role, service in (("web", web), ("worker", worker)):
        deps = depends_on(service)
        assert deps.get(f"{name}-migrate") == "service_completed_successfully", role
        assert deps.get("postgres") == "service_healthy", role
        assert deps.get("rabbitmq") == "service_healthy", role
    assert depends_on(migrate).get("postgres") == "service_healthy"

    env = env_dict(web.get("environment"))
    assert env.get("PORT") == str(SERVICES[name])
    assert env.get("WORKER_PORT") == str(WORKER_PORT)
    assert env.get("AMQP_URL", "").startswith("amqp://")
    assert urlsplit(env["AMQP_URL"]).hostname == "rabbitmq"
    assert env.get("AMQP_QUEUE_TYPE") in {"classic", "quorum"}
    assert env.get("JWT_PUBLIC_KEY_FILE", "").endswith("jwt-public.pem")
    assert env.get("EVENT_RETRY_DELAYS"), "retry delays must be set"
    assert all(part.strip().isdigit() for part in env["EVENT_RETRY_DELAYS"].split(","))
    assert ("JWT_PRIVATE_KEY_FILE" in env) == (name == "catalog"), "only catalog signs tokens"


def test_compose_one_database_per_service(compose_services):
    databases = {}
    for name in SERVICES:
        urls = {
            env_dict(compose_services[key].get("environment")).get("DATABASE_URL")
            for key in (name, f"{name}-worker", f"{name}-migrate")
        }
        assert len(urls) == 1 and None not in urls, f"{name}: web/worker/migrate disagree on DATABASE_URL"
        url = urls.pop()
        assert url.startswith("postgresql+psycopg://")
        host, database = database_of(url)
        assert host == "postgres"
        assert database == name
        databases[name] = database
    assert len(set(databases.values())) == len(SERVICES)

    init_sql = POSTGRES_INIT_SQL.read_text().lower()
    for name in SERVICES:
        assert re.search(rf"create database {name}\b", init_sql), f"init.sql does not create {name}"
    assert "create role academy" in init_sql


def test_compose_postgres_rabbitmq_mailpit(compose_services):
    postgres = compose_services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(as_argv(postgres["healthcheck"]["test"]))
    mounts = [str(volume) for volume in postgres.get("volumes", [])]
    init_mounts = [m for m in mounts if "/docker-entrypoint-initdb.d" in m]
    assert init_mounts, "init.sql must be mounted into docker-entrypoint-initdb.d"
    assert (REPO / init_mounts[0].split(":")[0]).resolve() == POSTGRES_INIT_SQL

    rabbitmq = compose_services["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    assert as_argv(rabbitmq["healthcheck"]["test"])[-3:] == ["rabbitmq-diagnostics", "-q", "ping"]

    assert compose_services["mailpit"]["image"].startswith("axllent/mailpit")
    notify_env = env_dict(compose_services["notify"]["environment"])
    assert notify_env.get("SMTP_HOST") == "mailpit"
    assert notify_env.get("SMTP_PORT") == "1025"


def test_compose_gateway_urls_match_port_table(compose_services):
    env = env_dict(compose_services["catalog"]["environment"])
    for name, port in SERVICES.items():
        if name == "catalog":
            continue
        url = urlsplit(env[f"{name.upper()}_URL"])
        assert (url.hostname, url.port) == (name, port)
        assert url.hostname in compose_services


def test_compose_dependencies_exist_and_conditions_hold(compose_services):
    for name, service in compose_services.items():
        for target, condition in depends_on(service).items():
            assert target in compose_services, f"{name} depends on unknown service {target}"
            assert condition in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition == "service_healthy":
                check = compose_services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert compose_services[target].get("restart") == "no", f"{target} must be a one-shot"


def test_compose_healthchecks(compose_services):
    for name, port in SERVICES.items():
        web_check = " ".join(as_argv(compose_services[name]["healthcheck"]["test"]))
        assert f"http://127.0.0.1:{port}/health/" in web_check
        assert "curl" not in web_check, "slim images have no curl"
        worker_check = " ".join(as_argv(compose_services[f"{name}-worker"]["healthcheck"]["test"]))
        assert f"127.0.0.1:{WORKER_PORT}" in worker_check


def test_compose_published_ports(compose_services):
    published = set()
    for name, service in compose_services.items():
        for port in service.get("ports", []):
            spec = port if isinstance(port, dict) else {"published": str(port).rsplit(":", 1)[0]}
            published.add((name, str(spec.get("published")).split(":")[-1]))
    assert published == {("catalog", "8000"), ("rabbitmq", "15672"), ("mailpit", "8025")}


def build_args(service: dict) -> dict[str, str]:
    args = service["build"].get("args") or {}
    if isinstance(args, list):
        return dict(str(item).partition("=")[::2] for item in args)
    return {key: str(value) for key, value in args.items()}


def test_compose_images_are_built_from_the_one_dockerfile(compose_services):
    """Every build is the root Dockerfile; each service's image is built with its own SERVICE and PORT."""
    built = {}
    for key, service in compose_services.items():
        if "build" not in service:
            continue
        assert service["build"]["context"] == "."
        assert (REPO / service["build"]["dockerfile"]).resolve() == DOCKERFILE, key
        args = build_args(service)
        assert args.get("SERVICE") in SERVICES, f"{key}: build arg SERVICE"
        assert args.get("PORT") == str(SERVICES[args["SERVICE"]]), f"{key}: build arg PORT"
        if "image" in service:
            assert built.setdefault(service["image"], args) == args, f"{service['image']} built two ways"
    for name in SERVICES:
        for key in (name, f"{name}-worker", f"{name}-migrate"):
            service = compose_services[key]
            args = build_args(service) if "build" in service else built.get(service.get("image"))
            assert args, f"{key} uses an image no service builds"
            assert args["SERVICE"] == name, f"{key} runs the image built for {args['SERVICE']}"


def test_no_service_has_a_dockerfile_of_its_own():
    assert DOCKERFILE.is_file()
    assert sorted(REPO.glob("services/*/Dockerfile*")) == []


def test_compose_jwt_keys_volume(compose, compose_services):
    assert "jwt-keys" in compose.get("volumes", {})
    keys = compose_services["keys"]
    argv = as_argv(keys["command"])
    assert argv[:3] == ["academy", "keys", "generate"] and "--dir" in argv
    key_dir = argv[argv.index("--dir") + 1]
    assert keys.get("restart") == "no"
    assert f"jwt-keys:{key_dir}" in keys["volumes"], "keys one-shot writes into the named volume"
    for name in SERVICES:
        for key in (name, f"{name}-worker"):
            service = compose_services[key]
            assert f"jwt-keys:{key_dir}:ro" in service.get("volumes", []), f"{key} must mount keys read-only"
            assert depends_on(service).get("keys") == "service_completed_successfully"
            env = env_dict(service["environment"])
            assert env["JWT_PUBLIC_KEY_FILE"] == f"{key_dir}/jwt-public.pem"


# --------------------------------------------------------------------------- Dockerfiles


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    instructions, buffer = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue  # comment lines inside a continuation are dropped by the parser
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        buffer = ""
    assert not buffer, f"{path}: dangling line continuation"
    return instructions


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def dockerfile() -> dict[str, list[str]]:
    """The Dockerfile's instructions, by keyword, in order."""
    by_keyword: dict[str, list[str]] = {}
    for keyword, rest in dockerfile_instructions(DOCKERFILE):
        by_keyword.setdefault(keyword, []).append(rest)
    return by_keyword


def test_dockerfile(dockerfile):
    instructions = dockerfile_instructions(DOCKERFILE)
    assert instructions[0][0] == "FROM"
    for base in dockerfile["FROM"]:
        assert base.split()[0] == BASE_IMAGE

    user = dockerfile["USER"][-1].split(":")[0]
    assert user not in {"root", "0"}, "must not run as root"

    runs = " ".join(dockerfile["RUN"])
    assert re.search(r"pip install\b[^&;|]*\s\.(\s|$)", runs), "project must be installed with pip install ."

    ignored = dockerignore_patterns()
    for rest in dockerfile["COPY"]:
        args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        if any(arg.startswith("--from") for arg in args):
            continue
        args = [arg for arg in args if not arg.startswith("--")]
        assert len(args) >= 2, rest
        for source in args[:-1]:
            matches = list(REPO.glob(source)) if any(ch in source for ch in "*?[") else [REPO / source]
            assert matches and all(match.exists() for match in matches), f"COPY source {source} missing"
            for pattern in ignored:
                assert not fnmatch.fnmatch(source.rstrip("/"), pattern), f"{source} is in .dockerignore"


def test_dockerfile_takes_the_service_as_build_args(dockerfile):
    instructions = dockerfile_instructions(DOCKERFILE)
    keywords = [keyword for keyword, _ in instructions]
    assert sorted(dockerfile["ARG"]) == ["PORT", "SERVICE"], "no defaults: a forgotten arg must not build catalog"
    # Declared after the install, so that every layer before them is shared by the five images.
    after_args = instructions[keywords.index("ARG"):]
    assert not [rest for keyword, rest in after_args if keyword == "COPY" or "pip install" in rest]

    env = dict(item.partition("=")[::2] for rest in dockerfile["ENV"] for item in shlex.split(rest))
    assert env["SERVICE"] == "${SERVICE}" and env["PORT"] == "${PORT}"
    assert env["WORKER_PORT"] == str(WORKER_PORT)
    assert dockerfile["EXPOSE"] == ["${PORT}"]

    assert len(dockerfile["CMD"]) == 1
    shell, flag, script = json.loads(dockerfile["CMD"][0])
    assert (shell, flag) == ("sh", "-c")
    for name in SERVICES:
        argv = shlex.split(string.Template(script).substitute(SERVICE=name))
        assert argv == ["exec", "academy", "serve", name], "exec, so that SIGTERM reaches the service"


def test_dockerfile_refuses_a_service_and_port_that_do_not_match(dockerfile, compose_services):
    """The build's check of SERVICE and PORT, run as the builder runs it: the args are environment variables."""
    (check,) = [rest for rest in dockerfile["RUN"] if "SERVICE_PORTS" in rest]
    instructions = dockerfile_instructions(DOCKERFILE)
    assert instructions.index(("RUN", check)) > instructions.index(("ARG", "PORT")), "runs before PORT is known"

    def build_check(service: str, port: str) -> int:
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "SERVICE": service, "PORT": port}
        return subprocess.run(["sh", "-c", check], env=env, cwd=REPO, capture_output=True, timeout=60).returncode

    for service in compose_services.values():
        if "build" in service:
            args = build_args(service)
            assert build_check(args["SERVICE"], args["PORT"]) == 0, args
    assert build_check("booking", "8000") != 0
    assert build_check("booking", "") != 0
    assert build_check("", "") != 0
    assert build_check("library", "8005") != 0


class _Live(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_dockerfile_healthcheck_follows_the_port(dockerfile):
    options, _, command = dockerfile["HEALTHCHECK"][-1].partition("CMD")
    assert "--interval" in options
    executable, *argv = json.loads(command)
    assert executable == "python" and "curl" not in command, "slim images have no curl"

    def check(port: int) -> int:
        env = {"PATH": "/usr/bin:/bin", "PORT": str(port)}
        return subprocess.run([sys.executable, *argv], env=env, capture_output=True, timeout=30).returncode

    server = HTTPServer(("127.0.0.1", 0), _Live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert check(server.server_port) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert check(server.server_port) != 0, "nothing listens there any more"


def test_dockerignore_keeps_context_small():
    patterns = dockerignore_patterns()
    for must in (".git", ".venv", "tests"):
        assert must in patterns
    for needed in ("pyproject.toml", "shared", "services", "academy"):
        assert not any(fnmatch.fnmatch(needed, pattern) for pattern in patterns), needed


# --------------------------------------------------------------------------- Kubernetes


@pytest.fixture(scope="module")
def k8s_docs() -> list[tuple[str, dict]]:
    docs = []
    # The base creates no Secret; the trial overlay's placeholder Secrets stand for the ones an operator makes,
    # so that the keys the workloads read can be checked against them.
    for path in [*sorted(K8S_DIR.glob("*.yaml")), *sorted(TRIAL_DIR.glob("*-secret.yaml"))]:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            assert isinstance(doc, dict), path
            docs.append((path.name, doc))
    return docs


@pytest.fixture(scope="module")
def k8s_objects(k8s_docs) -> list[dict]:
    objects = [doc for filename, doc in k8s_docs if filename != "kustomization.yaml"]
    for obj in objects:
        assert obj.get("apiVersion") and obj.get("kind") and obj.get("metadata", {}).get("name"), obj
    return objects


def of_kind(objects, kind) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pod_workloads(objects) -> list[dict]:
    return list(of_kind(objects, "Deployment").values()) + list(of_kind(objects, "StatefulSet").values())


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def all_containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def probe_port(probe: dict, container: dict):
    handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
    assert handler, f"probe without a network handler: {probe}"
    port = handler["port"]
    if isinstance(port, str) and not port.isdigit():
        named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        assert port in named, f"probe uses unknown named port {port}"
        return named[port]
    return int(port)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    listed = list(kustomization["resources"])
    assert len(listed) == len(set(listed)), "duplicate resources"
    on_disk = {path.name for path in K8S_DIR.iterdir() if path.suffix in {".yaml", ".yml"}}
    assert set(listed) == on_disk - {"kustomization.yaml"}


def test_k8s_namespace_consistent(k8s_objects):
    namespaces = of_kind(k8s_objects, "Namespace")
    assert list(namespaces) == ["academy"]
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert kustomization.get("namespace") == "academy"
    for obj in k8s_objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "academy", obj["metadata"]["name"]


def test_k8s_every_workload_has_resources_and_matching_selector(k8s_objects):
    workloads = pod_workloads(k8s_objects)
    assert workloads
    for workload in workloads:
        name = workload["metadata"]["name"]
        selector = workload["spec"]["selector"]["matchLabels"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector and selector.items() <= labels.items(), f"{name}: selector does not match pod labels"
        for container in all_containers(workload):
            resources = container.get("resources") or {}
            assert resources.get("requests", {}).get("cpu"), f"{name}/{container['name']}: cpu request"
            assert resources.get("requests", {}).get("memory"), f"{name}/{container['name']}: memory request"
            assert resources.get("limits", {}).get("memory"), f"{name}/{container['name']}: memory limit"
            assert container.get("image"), f"{name}/{container['name']}: image"


def test_k8s_deployment_selectors_do_not_overlap(k8s_objects):
    deployments = list(of_kind(k8s_objects, "Deployment").values())
    for first in deployments:
        for second in deployments:
            if first is second:
                continue
            selector = first["spec"]["selector"]["matchLabels"]
            other_labels = second["spec"]["template"]["metadata"]["labels"]
            assert not selector.items() <= other_labels.items(), (
                f"{first['metadata']['name']} would adopt pods of {second['metadata']['name']}"
            )


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_k8s_web_deployment(k8s_objects, name):
    deployment = of_kind(k8s_objects, "Deployment")[name]
    spec = pod_spec(deployment)
    (web,) = spec["containers"]
    assert as_argv(web.get("command") or ["academy", "serve", name]) == ["academy", "serve", name]
    assert [p["containerPort"] for p in web["ports"]] == [SERVICES[name], METRICS_PORT]
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(METRICS_PORT)

    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for probe in ("livenessProbe", "readinessProbe"):
        assert probe_port(web[probe], web) == SERVICES[name]

    init_containers = spec.get("initContainers", [])
    migrate = [c for c in init_containers if c.get("command", [])[:2] == ["academy", "migrate"]]
    assert len(migrate) == 1, "web Deployment runs the migration as an initContainer"
    assert migrate[0]["command"] == ["academy", "migrate", name]
    assert migrate[0]["image"] == web["image"]

    env = {item["name"]: item for item in web["env"]}
    assert env["PORT"]["value"] == str(SERVICES[name])
    assert env["METRICS_PORT"]["value"] == str(METRICS_PORT)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_k8s_worker_deployment(k8s_objects, name):
    worker = of_kind(k8s_objects, "Deployment")[f"{name}-worker"]
    (container,) = pod_spec(worker)["containers"]
    assert container["command"] == ["academy", "worker", name]
    web = pod_spec(of_kind(k8s_objects, "Deployment")[name])["containers"][0]
    assert container["image"] == web["image"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert probe in container, f"{name}-worker: {probe} missing"
        assert probe_port(container[probe], container) == WORKER_PORT


def test_k8s_images_are_the_ones_built_for_each_service(k8s_objects, compose_services):
    """The repositories compose builds from the Dockerfile, one per SERVICE arg, are the ones Kubernetes runs."""
    repositories = {name: compose_services[f"{name}-migrate"]["image"].rsplit(":", 1)[0] for name in SERVICES}
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert {image["name"] for image in kustomization["images"]} == set(repositories.values())
    deployments = of_kind(k8s_objects, "Deployment")
    for name, repository in repositories.items():
        for workload in (name, f"{name}-worker"):
            for container in all_containers(deployments[workload]):
                assert container["image"].rsplit(":", 1)[0] == repository, f"{workload}/{container['name']}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_k8s_environment(k8s_objects, name):
    secrets = of_kind(k8s_objects, "Secret")
    config_maps = of_kind(k8s_objects, "ConfigMap")
    # The operator creates "<cluster>-default-user" for every RabbitmqCluster.
    generated_secrets = {f"{cluster}-default-user" for cluster in of_kind(k8s_objects, "RabbitmqCluster")}
    assert "rabbitmq-default-user" in generated_secrets

    for workload_name in (name, f"{name}-worker"):
        workload = of_kind(k8s_objects, "Deployment")[workload_name]
        for container in all_containers(workload):
            where = f"{workload_name}/{container['name']}"
            from_config = set()
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                assert ref["name"] in config_maps or ref["name"] in secrets, where
                if "configMapRef" in source:
                    from_config |= set(config_maps[ref["name"]].get("data", {}))
            defined = set(from_config)
            values = {}
            for item in container.get("env", []):
                value = item.get("value")
                if value is not None:
                    for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
                        assert ref in defined, f"{where}: $({ref}) used before it is defined"
                    values[item["name"]] = value
                else:
                    secret_ref = item["valueFrom"]["secretKeyRef"]
                    assert secret_ref["name"] in secrets or secret_ref["name"] in generated_secrets, where
                    if secret_ref["name"] in secrets:
                        secret = secrets[secret_ref["name"]]
                        keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
                        assert secret_ref["key"] in keys, f"{where}: secret key {secret_ref['key']}"
                defined.add(item["name"])

            host, database = database_of(values["DATABASE_URL"])
            assert (host, database) == ("postgres", name), where
            assert urlsplit(values["AMQP_URL"].replace("$(", "").replace(")", "")).hostname == "rabbitmq"
            assert "JWT_PUBLIC_KEY_FILE" in defined, where
            assert ("JWT_PRIVATE_KEY_FILE" in defined) == (name == "catalog"), where

    assert config_maps["academy-config"]["data"]["AMQP_QUEUE_TYPE"] == "quorum"


def test_k8s_gateway_urls(k8s_objects):
    catalog = pod_spec(of_kind(k8s_objects, "Deployment")["catalog"])["containers"][0]
    env = {item["name"]: item.get("value") for item in catalog["env"]}
    services = of_kind(k8s_objects, "Service")
    for name, port in SERVICES.items():
        if name == "catalog":
            continue
        url = urlsplit(env[f"{name.upper()}_URL"])
        assert url.hostname in services
        assert url.port in {p["port"] for p in services[url.hostname]["spec"]["ports"]}
        assert url.port == port


def test_k8s_volumes_reference_existing_objects(k8s_objects):
    secrets = of_kind(k8s_objects, "Secret")
    config_maps = of_kind(k8s_objects, "ConfigMap")
    workloads = pod_workloads(k8s_objects)
    for workload in workloads:
        spec = pod_spec(workload)
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        claim_names = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        for volume in volumes.values():
            if "secret" in volume:
                secret = secrets[volume["secret"]["secretName"]]
                keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
                for item in volume["secret"].get("items", []):
                    assert item["key"] in keys
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        for container in all_containers(workload):
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes or mount["name"] in claim_names, mount


def test_k8s_jwt_keys(k8s_objects):
    secret = of_kind(k8s_objects, "Secret")["jwt-keys"]
    assert set(secret["stringData"]) == {"jwt-private.pem", "jwt-public.pem"}
    for name in SERVICES:
        volumes = {v["name"]: v for v in pod_spec(of_kind(k8s_objects, "Deployment")[name])["volumes"]}
        keys_volume = next(v for v in volumes.values() if v.get("secret", {}).get("secretName") == "jwt-keys")
        items = {item["key"] for item in keys_volume["secret"].get("items", [])}
        if name == "catalog":
            assert not items or "jwt-private.pem" in items
        else:
            assert items == {"jwt-public.pem"}, f"{name} must not receive the private key"


def test_k8s_services_select_existing_workloads(k8s_objects):
    workloads = pod_workloads(k8s_objects)
    services = of_kind(k8s_objects, "Service")
    for name in SERVICES:
        assert name in services
    for service_name, service in services.items():
        selector = service["spec"]["selector"]
        targets = [w for w in workloads if selector.items() <= pod_labels(w).items()]
        assert targets, f"Service {service_name} selects no workload"
        for port in service["spec"]["ports"]:
            target_port = port.get("targetPort", port["port"])
            for workload in targets:
                container_ports = [p for c in pod_spec(workload)["containers"] for p in c.get("ports", [])]
                names = {p.get("name") for p in container_ports}
                numbers = {p["containerPort"] for p in container_ports}
                assert target_port in names or target_port in numbers, (
                    f"Service {service_name}: port {target_port} absent from {workload['metadata']['name']}"
                )
    for name, port in SERVICES.items():
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [port]


def test_k8s_hpas_target_existing_deployments(k8s_objects):
    deployments = of_kind(k8s_objects, "Deployment")
    hpas = [obj for obj in k8s_objects if obj["kind"] == "HorizontalPodAutoscaler"]
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas} == set(SERVICES)
    for hpa in hpas:
        assert hpa["apiVersion"] == "autoscaling/v2"
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["apiVersion"] == "apps/v1"
        assert ref["name"] in deployments
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"], "HPA needs at least one metric"
        # The HPA owns the replica count; a fixed count would be reset on every apply.
        assert "replicas" not in deployments[ref["name"]]["spec"]
        for container in pod_spec(deployments[ref["name"]])["containers"]:
            assert container["resources"]["requests"]["cpu"], "CPU utilisation needs a CPU request"


def test_k8s_rabbitmq_cluster(k8s_objects):
    (cluster,) = [obj for obj in k8s_objects if obj["kind"] == "RabbitmqCluster"]
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    assert cluster["spec"]["replicas"] == 3
    assert cluster["spec"]["resources"]["limits"]["memory"]


def test_k8s_postgres(k8s_objects):
    statefulset = of_kind(k8s_objects, "StatefulSet")["postgres"]
    assert statefulset["spec"]["serviceName"] in of_kind(k8s_objects, "Service")
    (container,) = pod_spec(statefulset)["containers"]
    assert container["image"] == "postgres:16"
    assert "readinessProbe" in container and "livenessProbe" in container
    init_mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d")
    volumes = {v["name"]: v for v in pod_spec(statefulset)["volumes"]}
    config_map = of_kind(k8s_objects, "ConfigMap")[volumes[init_mount["name"]]["configMap"]["name"]]
    script = "\n".join(config_map["data"].values()).lower()
    for name in SERVICES:
        assert re.search(rf"create database {name}\b", script), f"init script does not create {name}"
    assert "create role academy" in script
    assert statefulset["spec"]["volumeClaimTemplates"], "database needs persistent storage"


def test_sign_in_limits_are_counted_in_one_redis_for_every_catalog_process(compose_services, k8s_objects):
    compose_catalog = compose_services["catalog"]
    storage = urlsplit(compose_catalog["environment"]["RATE_LIMIT_STORAGE_URL"])
    assert storage.scheme == "redis" and storage.hostname in compose_services
    assert compose_catalog["depends_on"][storage.hostname]["condition"] == "service_healthy"
    assert "healthcheck" in compose_services[storage.hostname]

    web = pod_spec(of_kind(k8s_objects, "Deployment")["catalog"])["containers"][0]
    env = {item["name"]: item.get("value") for item in web["env"]}
    storage = urlsplit(env["RATE_LIMIT_STORAGE_URL"])
    service = of_kind(k8s_objects, "Service")[storage.hostname]
    assert storage.port in {port["port"] for port in service["spec"]["ports"]}
    assert [ipaddress.ip_network(network) for network in env["TRUSTED_PROXIES"].split(",")]


def test_metrics_ports_take_connections_from_prometheus_alone(k8s_objects):
    [policy] = of_kind(k8s_objects, "NetworkPolicy").values()
    selected = policy["spec"]["podSelector"]["matchExpressions"][0]
    assert selected["key"] == "app.kubernetes.io/component" and selected["operator"] == "In"
    rules = policy["spec"]["ingress"]
    open_ports = {port["port"] for rule in rules if "from" not in rule for port in rule["ports"]}
    guarded = {port["port"] for rule in rules if "from" in rule for port in rule["ports"]}
    assert (open_ports, guarded) == ({"http"}, {"metrics"})
    for name in SERVICES:
        for workload in (name, f"{name}-worker"):
            deployment = of_kind(k8s_objects, "Deployment")[workload]
            assert pod_labels(deployment)["app.kubernetes.io/component"] in selected["values"], workload
            for container in pod_spec(deployment)["containers"]:
                names = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
                # Every port is named for the policy: an unnamed one would be closed to all.
                assert set(names) <= {"http", "metrics"} and "metrics" in names, workload
                annotations = deployment["spec"]["template"]["metadata"]["annotations"]
                assert int(annotations["prometheus.io/port"]) == names["metrics"], workload


# --------------------------------------------------------------------------- Prometheus


@pytest.fixture(scope="module")
def alert_rules() -> list[dict]:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    rule_files = config["rule_files"]
    assert "alerts.yml" in [Path(entry).name for entry in rule_files]
    rules = []
    for entry in rule_files:
        path = PROMETHEUS_DIR / entry
        assert path.is_file(), f"rule file {entry} missing"
        for group in yaml.safe_load(path.read_text())["groups"]:
            assert group.get("name") and group.get("rules"), group
            rules.extend(group["rules"])
    return rules


def test_prometheus_scrapes_every_process():
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for name in SERVICES:
        assert f"{name}:{METRICS_PORT}" in targets
        assert f"{name}-worker:{WORKER_PORT}" in targets


def test_alert_rules_are_complete(alert_rules):
    alerts = [rule for rule in alert_rules if "alert" in rule]
    assert alerts
    names = [rule["alert"] for rule in alerts]
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in alerts:
        assert str(rule.get("expr", "")).strip(), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{rule['alert']}: for"
        assert rule.get("labels", {}).get("severity") in {"critical", "warning", "info"}, rule["alert"]
        assert rule.get("annotations", {}).get("summary"), rule["alert"]


def test_alert_expressions_use_known_metrics(alert_rules):
    for rule in alert_rules:
        names = metric_names(str(rule["expr"]))
        assert names, f"{rule.get('alert')}: no metric in expression"
        assert names <= KNOWN_METRICS, f"{rule.get('alert')}: unknown metrics {names - KNOWN_METRICS}"


def test_alerts_cover_the_required_conditions(alert_rules):
    exprs = [str(rule["expr"]) for rule in alert_rules if "alert" in rule]

    def has(predicate) -> bool:
        return any(predicate(expr, metric_names(expr)) for expr in exprs)

    assert has(lambda e, m: "up" in m), "service down"
    assert has(lambda e, m: "http_requests_total" in m and "5.." in e), "5xx ratio"
    assert has(lambda e, m: "http_request_duration_seconds_bucket" in m and "0.95" in e), "p95 latency"
    assert has(lambda e, m: "dead_letter_queue_depth" in m or "dead_lettered" in e), "dead letters"
    assert has(lambda e, m: "outbox_backlog" in m), "outbox backlog"
    assert has(lambda e, m: "outbox_oldest_age_seconds" in m), "oldest unpublished age"
    assert has(lambda e, m: "events_consumed_total" in m and "retried" in e), "consumer failures"


# --------------------------------------------------------------------------- Grafana


def dashboard_panels(panels: list[dict]) -> list[dict]:
    flat = []
    for panel in panels:
        if panel.get("type") == "row":
            flat.extend(dashboard_panels(panel.get("panels", [])))
        else:
            flat.append(panel)
    return flat


def test_grafana_dashboard():
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    assert dashboard.get("title") and dashboard.get("uid")
    panels = dashboard_panels(dashboard["panels"])
    assert panels
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"

    referenced = set()
    for panel in panels:
        assert panel.get("title") and panel.get("gridPos"), panel
        targets = panel.get("targets")
        assert targets, f"panel {panel['title']!r} has no targets"
        ref_ids = [target["refId"] for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in targets:
            names = metric_names(target["expr"])
            assert names, f"panel {panel['title']!r}: no metric in {target['expr']}"
            assert names <= KNOWN_METRICS, f"panel {panel['title']!r}: unknown {names - KNOWN_METRICS}"
            referenced |= names

    expected = {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "events_published_total",
        "events_consumed_total",
        "dead_letter_queue_depth",
        "outbox_backlog",
    }
    assert expected <= referenced, f"dashboard lacks {expected - referenced}"
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    assert "dead_lettered" in exprs and "5.." in exprs and "0.95" in exprs
