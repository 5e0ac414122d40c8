#!/usr/bin/env python3
"""Builds the offline schemas `lint` embeds: for each Kubernetes version
1.27-1.35, the strict JSON schemas of the kinds the chart renders, with only
the definitions they reach, plus the CRD schemas of shared/schemas. Written
gzip-compressed to schemas/. Needs the kubernetes-validate package (which
../shared/tools/get-peers.sh installs). Run `make k8s-schemas`.
"""
import gzip
import json
import os
import re

import kubernetes_validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "schemas")
KINDS = {
    "v1/ConfigMap": "configmap-v1", "v1/Secret": "secret-v1", "v1/Service": "service-v1",
    "v1/ServiceAccount": "serviceaccount-v1", "apps/v1/Deployment": "deployment-apps-v1",
    "batch/v1/Job": "job-batch-v1", "networking.k8s.io/v1/Ingress": "ingress-networking-v1",
    "autoscaling/v2/HorizontalPodAutoscaler": "horizontalpodautoscaler-autoscaling-v2",
    "policy/v1/PodDisruptionBudget": "poddisruptionbudget-policy-v1",
}
CRDS = {
    "external-secrets.io/v1/ExternalSecret": "external-secrets.io/externalsecret_v1.json",
    "keda.sh/v1alpha1/ScaledObject": "keda.sh/scaledobject_v1alpha1.json",
    "keda.sh/v1alpha1/TriggerAuthentication": "keda.sh/triggerauthentication_v1alpha1.json",
    "monitoring.coreos.com/v1/ServiceMonitor": "monitoring.coreos.com/servicemonitor_v1.json",
    "networking.istio.io/v1/VirtualService": "networking.istio.io/virtualservice_v1.json",
    "networking.istio.io/v1beta1/VirtualService": "networking.istio.io/virtualservice_v1beta1.json",
}
REF = re.compile(r'"\$ref": "[^"#]*#/\$defs/([^"]+)"')


def bundle(version):
    d = os.path.join(SRC, f"v{version}.0-local-strict")
    with open(os.path.join(d, "_definitions.json")) as fh:
        defs = json.load(fh)["$defs"]
    kinds, need, todo = {}, set(), []
    for key, f in KINDS.items():
        with open(os.path.join(d, f + ".json")) as fh:
            text = fh.read()
        kinds[key] = json.loads(REF.sub(r'"$ref": "#/$defs/\1"', text))
        todo += REF.findall(text)
    while todo:
        n = todo.pop()
        if n in need:
            continue
        need.add(n)
        todo += REF.findall(json.dumps(defs[n]))
    sub = json.loads(REF.sub(r'"$ref": "#/$defs/\1"', json.dumps({n: defs[n] for n in sorted(need)})))
    return {"kinds": kinds, "defs": sub}


def write(name, obj):
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    with open(os.path.join(ROOT, "schemas", name), "wb") as fh:
        # mtime 0: the same input gives the same bytes
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            gz.write(raw)


def main():
    for minor in range(27, 36):
        write(f"k8s-1.{minor}.json.gz", bundle(f"1.{minor}"))
    crds = {}
    for key, rel in CRDS.items():
        with open(os.path.join(SHARED, rel)) as fh:
            crds[key] = json.load(fh)
    write("crds.json.gz", crds)


if __name__ == "__main__":
    main()
