#!/usr/bin/env python3
"""Regenerates values/values.schema.json from values/values.yaml.

The defaults decide the shape: every mapping is closed (unknown keys are
reported, with a did-you-mean hint), scalars take the type of their default
(string settings also accept numbers and booleans, as templates quote them),
and the tables below add what defaults cannot say: free-form maps, enums,
array item shapes and descriptions. Run `make schema` after editing values.
"""
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Maps whose keys are the user's own (annotations, selectors, subchart values).
FREE = {
    "securityContext", "podAnnotations", "scheduling.nodeSelector", "scheduling.affinity",
    "serviceAccount.annotations", "ingress.annotations", "ingress.ui.annotations", "ingress.api.annotations",
    "ingress.mcp.annotations", "executor.serviceAccount.annotations", "agentExecutor.serviceAccount.annotations",
    "litellm.serviceAccount.annotations", "temporal", "tracecat.temporal.searchAttributes", "monitoring.labels",
    "ui.autoscaling.behavior", "api.autoscaling.behavior", "mcp.autoscaling.behavior",
}
STRING_MAPS = {p for p in FREE if p.endswith("annotations") or p in ("podAnnotations", "scheduling.nodeSelector", "monitoring.labels")}
PULL = ["Always", "IfNotPresent", "Never"]
BACKENDS = ["pool", "ephemeral", "direct", "auto"]
ENUM = {
    "tracecat.appEnv": ["production", "staging", "development"],
    "executor.backend": BACKENDS,
    "agentExecutor.backend": BACKENDS,
    "scheduling.architecture": ["", "amd64", "arm64"],
    "image.pullPolicy": PULL,
    "uiImage.pullPolicy": PULL,
    "externalPostgres.sslMode": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
    "tracecat.logLevel": ["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
                          "trace", "debug", "info", "warning", "error", "critical"],
}
DESC = {
    "secrets.existingSecret": "Existing Secret with dbEncryptionKey, serviceKey, signingSecret and userAuthSecret.",
    "tracecat.auth.superadminEmail": "Email of the first administrator; required on first install.",
    "externalPostgres.host": "Database host; required.",
    "scheduling.architecture": "Pins pods to a CPU architecture (kubernetes.io/arch); empty disables.",
    "temporal.enabled": "Run the bundled Temporal server; disable to use externalTemporal.",
    "externalTemporal.clusterUrl": "host:port of the external Temporal frontend; required when externalTemporal.enabled.",
    "ingress.split": "One Ingress per service (ui, api, mcp) with per-service annotations.",
    "mcp.enabled": "Run the MCP server; requires tracecat.oidc issuer, clientId and clientSecret.",
    "litellm.enabled": "Run the LiteLLM gateway for the agent executors.",
    "grafana.adminPassword": "For the Grafana chart you install; never rendered by this chart.",
}
SCALAR = ["string", "number", "integer", "boolean"]
RESOURCES = {
    "type": "object",
    "description": "Kubernetes resource requests and limits.",
    "properties": {"requests": {"type": "object"}, "limits": {"type": "object"}},
    "additionalProperties": False,
}
# No required keys: the templates refuse a config without name, hosts or
# gateways only when its VirtualService is enabled, as the reference does.
VS_CONFIG = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "hosts": {"type": "array", "items": {"type": "string"}},
        "gateways": {"type": "array", "items": {"type": "string"}},
        "exportTo": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": {"type": "string"},
    },
    "additionalProperties": False,
}


def open_node(v, path):
    """The Temporal subchart's values: types from its defaults, objects open
    (Helm ignores keys the subchart does not read)."""
    if isinstance(v, dict):
        # null: a user's null can leave a subchart's own unset default.
        if not v:
            return {"type": ["object", "array", "null"]} if path.endswith("imagePullSecrets") else {"type": ["object", "null"]}
        return {"type": ["object", "null"],
                "properties": {k: open_node(x, f"{path}.{k}") for k, x in v.items()}}
    # Leaves take null too: the subchart has no schema of its own, so Helm
    # never refuses one (a user's null removes or blanks the setting).
    if isinstance(v, list):
        return {"type": ["array", "null"]}
    if isinstance(v, bool):
        return {"type": ["boolean", "null"]}
    if isinstance(v, (int, float)):
        return {"type": ["number", "string", "null"]}
    if v is None:
        return {}
    return {"type": SCALAR + ["null"]}


def deep_under(dst, src):
    """`src`'s keys laid under `dst`'s, as Helm layers chart defaults."""
    for k, v in src.items():
        if k not in dst:
            dst[k] = v
        elif isinstance(dst[k], dict) and isinstance(v, dict):
            deep_under(dst[k], v)
    return dst


def node(v, path):
    if path in FREE:
        d = {"type": "object"}
        if path in STRING_MAPS:
            # Helm renders any scalar here; lint flags what the API server refuses.
            d["additionalProperties"] = {"type": SCALAR + ["null"]}
        if path == "tracecat.temporal.searchAttributes":
            d["additionalProperties"] = {
                "type": "string", "enum": ["Keyword", "Text", "Int", "Double", "Bool", "Datetime", "KeywordList"]}
        if path == "temporal":
            with open(os.path.join(ROOT, "chart", "charts", "temporal", "values.yaml")) as fh:
                sub = yaml.safe_load(fh)
            d = open_node(deep_under(dict(v), sub), path)
            d["description"] = "Values of the bundled Temporal subchart."
            d["properties"]["enabled"] = {"type": "boolean", "description": DESC["temporal.enabled"]}
            d["properties"]["clusterQueue"] = {"type": "string"}
    elif path.endswith(".resources"):
        d = dict(RESOURCES)
    elif isinstance(v, dict):
        d = {"type": "object",
             "properties": {k: node(x, f"{path}.{k}" if path else k) for k, x in v.items()},
             "additionalProperties": False}
    elif isinstance(v, list):
        d = {"type": "array"}
        if path.endswith("configs"):
            d["items"] = VS_CONFIG
        elif path == "ingress.tls":
            d["items"] = {"type": "object", "properties": {
                "hosts": {"type": "array", "items": {"type": "string"}}, "secretName": {"type": "string"}}}
        else:
            d["items"] = {"type": "object"}
    elif isinstance(v, bool):
        d = {"type": "boolean"}
    elif isinstance(v, int):
        d = {"type": "integer"} if ("port" in path.lower() or "Replicas" in path) else {"type": ["integer", "string"]}
    elif isinstance(v, float):
        d = {"type": ["number", "string"]}
    elif v is None:
        # An unset default takes any value, as the chart's templates do.
        d = {"type": ["integer", "null"]} if "Percentage" in path else {}
    else:
        d = {"type": SCALAR}
    if path in ENUM:
        d = {"type": "string", "enum": ENUM[path]}
    if path.endswith("replicas") or path.endswith("Replicas"):
        d = {"type": "integer", "minimum": 0}
    if path in DESC:
        d["description"] = DESC[path]
    return d


def main():
    with open(os.path.join(ROOT, "values", "values.yaml")) as fh:
        vals = yaml.safe_load(fh)
    schema = {"$schema": "https://json-schema.org/draft-07/schema#", "title": "Tracecat chart values"}
    schema.update(node(vals, ""))
    props = schema["properties"]
    props["global"] = {"type": "object", "description": "Values shared with subcharts."}
    props["nameOverride"] = {"type": "string", "description": "Replaces the chart name in resource names and the app.kubernetes.io/name label."}
    props["fullnameOverride"] = {"type": "string", "description": "Replaces the generated <release>-tracecat prefix of resource names."}
    props["image"]["properties"]["tag"] = {"type": ["string", "number"], "description": "Backend image tag; defaults to the chart appVersion and is also the app.kubernetes.io/version label."}
    props["uiImage"]["properties"]["tag"] = {"type": ["string", "number"], "description": "UI image tag; defaults to the chart appVersion."}
    props["tracecat"]["properties"]["executorClientTimeout"] = {"type": ["integer", "number", "string", "null"], "description": "Executor client timeout in seconds; unset by default."}
    props["tracecat"]["properties"]["auth"]["properties"]["types"] = {
        "type": "string", "pattern": "^\\s*(basic|oidc|saml)(\\s*,\\s*(basic|oidc|saml))*\\s*$",
        "description": "Comma-separated login methods: basic, oidc, saml."}
    # Settings of neighbouring chart versions, accepted so their values files still render.
    ex = props["executor"]["properties"]
    for k in ("warmCache", "startupProbe", "readinessProbe"):
        ex[k] = {"type": "object"}
    out = os.path.join(ROOT, "values", "values.schema.json")
    with open(out, "w") as fh:
        json.dump(schema, fh, indent=2)
        fh.write("\n")
    print("wrote", os.path.relpath(out, ROOT), file=sys.stderr)


if __name__ == "__main__":
    main()
