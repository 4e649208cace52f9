#!/usr/bin/env python3
"""Cross-checks the manifests in jobs/ against each other, beyond what the schemas say (scripts/validate-manifests.sh
runs it after kubernetes-validate). Exit 1 with one line per problem, naming the file and the field:
- every drift-worker container runs the image jobs/kustomization.yaml names, spelled the same way (name:newTag);
- the kustomization lists every manifest that is not a template or an example, and its namespace is the one the
  RoleBinding's ServiceAccount subject names;
- every workload loading monitors.yaml (DRIFT_CONFIG) sets each ${VAR} the ConfigMap uses without a default
  (README: `${VAR:-default}` falls back, `$${` is a literal), or loading the config exits 2;
- every workload runs on the CPU pool (nodeSelector node-pool: cpu and the dedicated=cpu toleration), as uid 65532,
  with OPENBLAS_NUM_THREADS from its container's CPU limit (resourceFieldRef limits.cpu, divisor 1);
- a Deployment a KEDA ScaledObject scales has no `replicas`; `serve` gets terminationGracePeriodSeconds > --grace,
  liveness on /healthz and readiness on /readyz;
- the ServiceMonitor/PodMonitor examples select the serve Service/pods and name a port they have."""
import glob
import os
import re
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
JOBS = os.path.join(ROOT, "jobs")
# edited and applied by hand (a range, a file pair) or copied and filled in: not in the kustomization
NOT_KUSTOMIZED = {"job-backfill.yaml", "compare-job.yaml", "secret-database.example.yaml", "secret-triggers.example.yaml"}
# the placeholders of monitors.yaml: ${VAR} and ${VAR:-default}; $${ is a literal ${
PLACEHOLDER = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")

problems = []


def problem(path, message):
    problems.append(f"{path}: {message}")


def docs(pattern):
    for path in sorted(glob.glob(os.path.join(JOBS, pattern))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    yield os.path.relpath(path, JOBS), doc


def pod_spec(doc):
    kind = doc.get("kind")
    if kind in ("Deployment", "Job"):
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def main():
    with open(os.path.join(JOBS, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    [image] = kustomization["images"]
    expected_image = f"{image['newName']}:{image['newTag']}"
    if image["name"] != image["newName"]:
        problem("kustomization.yaml", f"images[0].name {image['name']} differs from newName {image['newName']}: "
                "the manifests spell the image as newName:newTag, so name must match it")
    listed = set(kustomization.get("resources", []))
    for path in sorted(glob.glob(os.path.join(JOBS, "*.yaml"))):
        name = os.path.basename(path)
        if name != "kustomization.yaml" and name not in NOT_KUSTOMIZED and name not in listed:
            problem("kustomization.yaml", f"resources does not list {name} (add it, or list it as a template here)")
    for name in listed:
        if not os.path.exists(os.path.join(JOBS, name)):
            problem("kustomization.yaml", f"resources lists {name}, which does not exist")
    namespaces = [t for t in kustomization.get("transformers", []) if "NamespaceTransformer" in t]
    namespace = yaml.safe_load(namespaces[0])["metadata"]["namespace"] if namespaces else kustomization.get("namespace")

    with open(os.path.join(JOBS, "configmap-monitors.yaml")) as f:
        monitors = yaml.safe_load(f)["data"]["monitors.yaml"]
    required_env = sorted({m.group(1) for m in PLACEHOLDER.finditer(monitors) if m.group(2) is None})

    all_docs = list(docs("*.yaml")) + list(docs("keda/*.yaml")) + list(docs("prometheus-operator/*.yaml"))
    scaled = {d["spec"]["scaleTargetRef"]["name"] for _, d in all_docs if d.get("kind") == "ScaledObject"}
    services = {d["metadata"]["name"]: d for _, d in all_docs if d.get("kind") == "Service"}
    serve_pods = []

    for path, doc in all_docs:
        kind = doc.get("kind")
        if kind == "RoleBinding":
            for subject in doc.get("subjects", []):
                if subject.get("kind") == "ServiceAccount" and subject.get("namespace") != namespace:
                    problem(path, f"RoleBinding {doc['metadata']['name']}: subject {subject['name']} is in namespace "
                            f"{subject.get('namespace')}, the kustomization deploys to {namespace}: make them the same")
        spec = pod_spec(doc)
        if spec is None:
            continue
        where = f"{kind} {doc['metadata']['name']}"
        if (spec.get("nodeSelector") or {}).get("node-pool") != "cpu":
            problem(path, f"{where}: nodeSelector node-pool: cpu is missing (every workload runs on the CPU pool)")
        if not any(t.get("key") == "dedicated" and t.get("value") == "cpu" for t in spec.get("tolerations", [])):
            problem(path, f"{where}: the toleration dedicated=cpu:NoSchedule is missing")
        if (spec.get("securityContext") or {}).get("runAsUser") != 65532:
            problem(path, f"{where}: securityContext.runAsUser must be 65532 (the image's user)")
        for container in spec["containers"]:
            if not container["image"].startswith(image["newName"] + ":"):
                continue
            cname = f"{where} container {container['name']}"
            if container["image"] != expected_image:
                problem(path, f"{cname}: image {container['image']} differs from {expected_image} (jobs/kustomization.yaml)")
            env = {e["name"]: e for e in container.get("env", [])}
            blas = env.get("OPENBLAS_NUM_THREADS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
            if (blas.get("resource"), str(blas.get("divisor")), blas.get("containerName")) != ("limits.cpu", "1", container["name"]):
                problem(path, f"{cname}: OPENBLAS_NUM_THREADS must come from valueFrom.resourceFieldRef "
                        f"{{containerName: {container['name']}, resource: limits.cpu, divisor: \"1\"}}")
            if "cpu" not in container.get("resources", {}).get("limits", {}):
                problem(path, f"{cname}: resources.limits.cpu is missing (OPENBLAS_NUM_THREADS is derived from it)")
            if "DRIFT_CONFIG" in env:
                for var in required_env:
                    if var not in env:
                        problem(path, f"{cname}: env {var} is missing; monitors.yaml uses ${{{var}}} without a default, "
                                "so loading the config exits 2")
            if "serve" in container.get("args", []):
                serve_pods.append(doc)
                args = container["args"]
                grace = int(args[args.index("--grace") + 1]) if "--grace" in args else 25
                if spec.get("terminationGracePeriodSeconds", 30) <= grace:
                    problem(path, f"{cname}: terminationGracePeriodSeconds must exceed serve --grace {grace}")
                for probe, endpoint in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                    if container.get(probe, {}).get("httpGet", {}).get("path") != endpoint:
                        problem(path, f"{cname}: {probe} must call {endpoint}")
        if kind == "Deployment" and doc["metadata"]["name"] in scaled and "replicas" in doc["spec"]:
            problem(path, f"{where}: `replicas` must be omitted, a KEDA ScaledObject sets it")

    def selects(selector, labels):
        return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())

    for path, doc in all_docs:
        if doc.get("kind") == "ServiceMonitor":
            matched = [s for s in services.values() if selects(doc["spec"]["selector"], s["metadata"].get("labels", {}))]
            ports = {p.get("name") for s in matched for p in s["spec"]["ports"]}
            if not matched:
                problem(path, "ServiceMonitor: spec.selector matches no Service in jobs/")
            for endpoint in doc["spec"]["endpoints"]:
                if endpoint.get("port") not in ports:
                    problem(path, f"ServiceMonitor: endpoint port {endpoint.get('port')} is not a port name of the selected Service")
        if doc.get("kind") == "PodMonitor":
            matched = [d for d in serve_pods if selects(doc["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
            ports = {p.get("name") for d in matched for c in pod_spec(d)["containers"] for p in c.get("ports", [])}
            if not matched:
                problem(path, "PodMonitor: spec.selector matches no serve pod template in jobs/")
            for endpoint in doc["spec"]["podMetricsEndpoints"]:
                if endpoint.get("port") not in ports:
                    problem(path, f"PodMonitor: podMetricsEndpoints port {endpoint.get('port')} is not a container port name of the selected pods")

    for p in problems:
        print(f"check-manifests: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-manifests: jobs/ consistent (image {expected_image}, namespace {namespace}, "
          f"config needs {', '.join(required_env) or 'no variables'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
