#!/usr/bin/env python3
"""Validates the KEDA manifests in jobs/keda/ offline: kubernetes-validate has no schema for KEDA's custom
resources, so they are checked against scripts/schemas/keda-v1alpha1.json (JSON Schema, KEDA v2 fields),
the HPA behavior against the Kubernetes schema, and against the Deployment they scale: the target exists,
the container named by envSourceContainerName exists and defines every *FromEnv variable, the replica
bounds are consistent, and a postgresql query reads the queue table. Exit 1 with one line per problem."""
import glob
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def docs(pattern):
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    yield os.path.relpath(path, ROOT), doc


def main():
    with open(os.path.join(ROOT, "scripts", "schemas", "keda-v1alpha1.json")) as f:
        schema = json.load(f)
    deployments = {d["metadata"]["name"]: d for _, d in docs("jobs/*.yaml") if d.get("kind") == "Deployment"}
    problems, checked = [], 0
    for path, doc in docs("jobs/keda/*.yaml"):
        kind = doc.get("kind")
        if kind not in schema["$defs"]:
            problems.append(f"{path}: kind {kind!r} is not a KEDA resource this check knows")
            continue
        checked += 1
        validator = jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{kind}"})
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in e.absolute_path) or "(document)"
            problems.append(f"{path}: {where}: {e.message}")
        if kind != "ScaledObject":
            continue
        spec = doc.get("spec", {})
        behavior = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior")
        if behavior is not None:
            hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "check"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "check"}, "maxReplicas": 1, "behavior": behavior}}
            try:
                kubernetes_validate.validate(hpa, kubernetes_validate.latest_version(), strict=True)
            except kubernetes_validate.ValidationError as e:
                problems.append(f"{path}: spec.advanced.horizontalPodAutoscalerConfig.behavior: {e.message}")
        target = spec.get("scaleTargetRef", {})
        dep = deployments.get(target.get("name"))
        if target.get("kind", "Deployment") != "Deployment" or dep is None:
            problems.append(f"{path}: scaleTargetRef names no Deployment in jobs/ ({target.get('name')!r})")
            continue
        containers = {c["name"]: c for c in dep["spec"]["template"]["spec"]["containers"]}
        container = containers.get(target.get("envSourceContainerName") or next(iter(containers)))
        if container is None:
            problems.append(f"{path}: envSourceContainerName {target.get('envSourceContainerName')!r} is not a container of {dep['metadata']['name']}")
            continue
        env = {e["name"] for e in container.get("env", [])}
        lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        if lo > hi:
            problems.append(f"{path}: minReplicaCount {lo} exceeds maxReplicaCount {hi}")
        for i, t in enumerate(spec.get("triggers", [])):
            md = t.get("metadata", {})
            for key, value in md.items():
                if key.endswith("FromEnv") and value not in env:
                    problems.append(f"{path}: triggers.{i}.metadata.{key}: {value!r} is not set in container {container['name']}")
            if t.get("type") == "postgresql" and ".tasks" not in md.get("query", ""):
                problems.append(f"{path}: triggers.{i}.metadata.query does not read the queue table (<schema>.tasks)")
    if checked == 0:
        problems.append("jobs/keda/: no KEDA manifests found")
    for p in problems:
        print(f"validate-keda: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"validate-keda: {checked} KEDA manifest(s) valid")


if __name__ == "__main__":
    main()
