//! The current Tracecat interface beyond chart 0.3.45: LiteLLM, KEDA and HPA
//! autoscaling, dedicated service accounts, monitoring, operator notices.
//! Each test renders values using a feature and checks the objects it makes.

mod common;
use common::*;
use tracecat_chart::values::Value;

const BASE: &str = "secrets:
  existingSecret: tracecat-secrets
tracecat:
  auth:
    superadminEmail: admin@example.com
externalPostgres:
  host: db.example.internal
  auth:
    existingSecret: pg
externalRedis:
  auth:
    existingSecret: redis
temporal:
  server:
    config:
      persistence:
        datastores:
          default:
            sql:
              connectAddr: db.example.internal:5432
              user: temporal
          visibility:
            sql:
              connectAddr: db.example.internal:5432
              user: temporal
";

struct Render {
    objects: Vec<(Key, Value)>,
    stderr: String,
}

fn render_with(extra: &str) -> Render {
    let d = TempDir::new("iface");
    let base = d.write("base.yaml", BASE);
    let extra = d.write("extra.yaml", extra);
    let out = run(&[
        "template",
        "-f",
        &base.display().to_string(),
        "-f",
        &extra.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    Render {
        objects: objects(&stdout(&out)),
        stderr: stderr(&out),
    }
}

impl Render {
    fn get(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|(k, _)| k.1 == kind && k.3 == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
    }
    fn has(&self, kind: &str, name: &str) -> bool {
        self.objects.iter().any(|(k, _)| k.1 == kind && k.3 == name)
    }
    fn count(&self, kind: &str) -> usize {
        self.objects.iter().filter(|(k, _)| k.1 == kind).count()
    }
}

fn s(v: &Value, path: &str) -> String {
    match v.path(path) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => panic!("no {path}"),
    }
}

/// Walks keys that may contain dots (annotation and data keys).
fn at<'a>(v: &'a Value, keys: &[&str]) -> &'a Value {
    let mut cur = v;
    for k in keys {
        cur = cur
            .as_map()
            .and_then(|m| m.get(*k))
            .unwrap_or_else(|| panic!("no {k} in {keys:?}"));
    }
    cur
}

fn env(dep: &Value, container: usize) -> Vec<(String, Value)> {
    let c = match dep.path("spec.template.spec.containers") {
        Some(Value::List(l)) => l[container].clone(),
        _ => panic!("no containers"),
    };
    match c.path("env") {
        Some(Value::List(l)) => l
            .iter()
            .map(|e| {
                (
                    s(e, "name"),
                    e.path("value").cloned().unwrap_or(Value::Null),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn env_value(dep: &Value, name: &str) -> Option<String> {
    env(dep, 0)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.to_string())
}

#[test]
fn default_resources_follow_the_resource_table() {
    let r = render_with("{}\n");
    let want = [
        ("tracecat-ui", "500m", "512Mi", "500m", "1024Mi", Some(1.0)),
        (
            "tracecat-api",
            "2000m",
            "4096Mi",
            "2000m",
            "4096Mi",
            Some(2.0),
        ),
        (
            "tracecat-worker",
            "2000m",
            "2048Mi",
            "2000m",
            "2048Mi",
            Some(4.0),
        ),
        (
            "tracecat-executor",
            "4000m",
            "8192Mi",
            "4000m",
            "8192Mi",
            Some(4.0),
        ),
        (
            "tracecat-agent-executor",
            "2000m",
            "4096Mi",
            "4000m",
            "16384Mi",
            Some(2.0),
        ),
        (
            "tracecat-agent-worker",
            "2000m",
            "2048Mi",
            "2000m",
            "2048Mi",
            Some(2.0),
        ),
    ];
    for (name, rc, rm, lc, lm, replicas) in want {
        let d = r.get("Deployment", name);
        let res = d
            .path("spec.template.spec.containers")
            .and_then(|c| match c {
                Value::List(l) => l[0].path("resources").cloned(),
                _ => None,
            });
        let res = res.unwrap();
        assert_eq!(s(&res, "requests.cpu"), rc, "{name}");
        assert_eq!(s(&res, "requests.memory"), rm, "{name}");
        assert_eq!(s(&res, "limits.cpu"), lc, "{name}");
        assert_eq!(s(&res, "limits.memory"), lm, "{name}");
        assert_eq!(
            d.path("spec.replicas"),
            replicas.map(Value::Float).as_ref(),
            "{name}"
        );
    }
    // New components stay off unless asked for, so 0.3.45 renders are unchanged.
    assert!(!r.has("Deployment", "tracecat-litellm"));
    assert_eq!(
        r.count("ScaledObject") + r.count("HorizontalPodAutoscaler") + r.count("ServiceMonitor"),
        0
    );
}

#[test]
fn litellm_component() {
    let r = render_with("litellm:\n  enabled: true\n  port: 4100\n");
    let d = r.get("Deployment", "tracecat-litellm");
    assert_eq!(s(d, "spec.replicas"), "2");
    let c = match d.path("spec.template.spec.containers") {
        Some(Value::List(l)) => l[0].clone(),
        _ => unreachable!(),
    };
    assert_eq!(
        c.path("command"),
        Some(&Value::List(vec![
            "python".into(),
            "-m".into(),
            "tracecat.agent.litellm".into()
        ]))
    );
    assert!(s(&c, "ports").contains("http"));
    assert_eq!(s(&c, "readinessProbe.tcpSocket.port"), "http");
    assert_eq!(s(&c, "readinessProbe.initialDelaySeconds"), "5");
    assert_eq!(s(&c, "livenessProbe.periodSeconds"), "10");
    assert_eq!(
        env_value(d, "TRACECAT__LITELLM_PORT").as_deref(),
        Some("4100")
    );
    assert_eq!(
        env_value(d, "TRACECAT__LITELLM_BASE_URL").as_deref(),
        Some("http://tracecat-litellm:4100")
    );
    assert_eq!(
        env_value(d, "TRACECAT__API_URL").as_deref(),
        Some("http://tracecat-api:8000")
    );
    for name in [
        "TRACECAT__DB_ENDPOINT",
        "REDIS_URL",
        "TRACECAT__SERVICE_KEY",
        "TRACECAT__APP_ENV",
    ] {
        assert!(env(d, 0).iter().any(|(n, _)| n == name), "{name}");
    }
    let svc = r.get("Service", "tracecat-litellm");
    assert_eq!(s(svc, "spec.type"), "ClusterIP");
    for agent in ["tracecat-agent-executor", "tracecat-agent-worker"] {
        assert_eq!(
            env_value(r.get("Deployment", agent), "TRACECAT__LITELLM_BASE_URL").as_deref(),
            Some("http://tracecat-litellm:4100")
        );
    }
}

#[test]
fn dedicated_service_accounts_and_fallbacks() {
    let r = render_with(
        "executor:\n  serviceAccount:\n    create: true\n    annotations:\n      eks.amazonaws.com/role-arn: arn:aws:iam::1:role/exec\nlitellm:\n  enabled: true\n  serviceAccount:\n    create: true\n",
    );
    let sa = r.get("ServiceAccount", "tracecat-executor");
    assert_eq!(
        at(
            sa,
            &["metadata", "annotations", "eks.amazonaws.com/role-arn"]
        ),
        &Value::String("arn:aws:iam::1:role/exec".into())
    );
    assert!(r.has("ServiceAccount", "tracecat-litellm"));
    assert_eq!(
        s(
            r.get("Deployment", "tracecat-executor"),
            "spec.template.spec.serviceAccountName"
        ),
        "tracecat-executor"
    );
    // The agent executor falls back to the executor's account.
    assert_eq!(
        s(
            r.get("Deployment", "tracecat-agent-executor"),
            "spec.template.spec.serviceAccountName"
        ),
        "tracecat-executor"
    );
    assert_eq!(
        s(
            r.get("Deployment", "tracecat-litellm"),
            "spec.template.spec.serviceAccountName"
        ),
        "tracecat-litellm"
    );
    let r = render_with("agentExecutor:\n  serviceAccount:\n    create: true\n");
    assert!(r.has("ServiceAccount", "tracecat-agent-executor"));
    assert_eq!(
        s(
            r.get("Deployment", "tracecat-executor"),
            "spec.template.spec.serviceAccountName"
        ),
        "tracecat-app"
    );
}

#[test]
fn keda_scaled_objects_on_temporal_queues() {
    let r = render_with("worker:\n  autoscaling:\n    enabled: true\n    maxReplicas: 20\nexecutor:\n  autoscaling:\n    enabled: true\n");
    let so = r.get("ScaledObject", "tracecat-worker");
    assert_eq!(s(so, "spec.scaleTargetRef.name"), "tracecat-worker");
    assert_eq!(s(so, "spec.maxReplicaCount"), "20");
    assert_eq!(s(so, "spec.minReplicaCount"), "1");
    let trig = match so.path("spec.triggers") {
        Some(Value::List(l)) => l[0].clone(),
        _ => panic!(),
    };
    assert_eq!(s(&trig, "type"), "temporal");
    let md = trig.path("metadata").unwrap().as_map().unwrap();
    for (k, v) in [
        ("namespace", "default"),
        ("endpoint", "tracecat-temporal-frontend:7233"),
        ("taskQueue", "tracecat-task-queue"),
        ("targetQueueSize", "5"),
        ("activationTargetQueueSize", "0"),
        ("queueTypes", "workflow,activity"),
    ] {
        assert_eq!(
            md.get(k),
            Some(&Value::String(v.into())),
            "{k} must be a string"
        );
    }
    assert!(
        trig.path("authenticationRef").is_none(),
        "no auth for the bundled Temporal"
    );
    let exec = r.get("ScaledObject", "tracecat-executor");
    assert!(s(exec, "spec.triggers").contains("shared-action-queue"));
    // The scaled Deployments have no replicas; others keep theirs.
    assert!(r
        .get("Deployment", "tracecat-worker")
        .path("spec.replicas")
        .is_none());
    assert!(r
        .get("Deployment", "tracecat-api")
        .path("spec.replicas")
        .is_some());
    assert!(!r.has("TriggerAuthentication", "tracecat-temporal-keda-auth"));
}

#[test]
fn keda_with_temporal_cloud_authenticates() {
    let cloud = "temporal:\n  enabled: false\nexternalTemporal:\n  enabled: true\n  clusterUrl: ns.abc.tmprl.cloud:7233\n  clusterNamespace: ns.abc\n";
    let r = render_with(&format!("{cloud}  auth:\n    existingSecret: temporal-key\nworker:\n  autoscaling:\n    enabled: true\n"));
    let ta = r.get("TriggerAuthentication", "tracecat-temporal-keda-auth");
    assert!(s(ta, "spec.secretTargetRef").contains("temporal-key"));
    let so = r.get("ScaledObject", "tracecat-worker");
    assert!(s(so, "spec.triggers").contains("tracecat-temporal-keda-auth"));
    assert!(s(so, "spec.triggers").contains("ns.abc.tmprl.cloud:7233"));
    let r = render_with(&format!(
        "{cloud}  auth:\n    secretArn: arn:aws:secretsmanager:us-east-1:1:secret:tk\n    kedaAwsSecretManager:\n      region: us-east-1\n      secretKey: apiKey\nagentExecutor:\n  autoscaling:\n    enabled: true\n"
    ));
    let ta = r.get("TriggerAuthentication", "tracecat-temporal-keda-auth");
    assert_eq!(s(ta, "spec.awsSecretManager.podIdentity.provider"), "aws");
    assert_eq!(s(ta, "spec.awsSecretManager.region"), "us-east-1");
    assert!(s(ta, "spec.awsSecretManager.secrets")
        .contains("arn:aws:secretsmanager:us-east-1:1:secret:tk"));
    assert!(s(
        r.get("ScaledObject", "tracecat-agent-executor"),
        "spec.triggers"
    )
    .contains("shared-agent-executor-queue"));
}

#[test]
fn hpa_for_ui_and_api() {
    let r = render_with(
        "ui:\n  autoscaling:\n    enabled: true\n    maxReplicas: 6\napi:\n  autoscaling:\n    enabled: true\n    targetMemoryUtilizationPercentage: 75\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 300\n",
    );
    let ui = r.get("HorizontalPodAutoscaler", "tracecat-ui");
    assert_eq!(s(ui, "apiVersion"), "autoscaling/v2");
    assert_eq!(s(ui, "spec.scaleTargetRef.name"), "tracecat-ui");
    assert_eq!(s(ui, "spec.maxReplicas"), "6");
    let api = r.get("HorizontalPodAutoscaler", "tracecat-api");
    assert!(s(api, "spec.metrics").contains("memory"));
    assert_eq!(
        s(api, "spec.behavior.scaleDown.stabilizationWindowSeconds"),
        "300"
    );
    assert!(r
        .get("Deployment", "tracecat-ui")
        .path("spec.replicas")
        .is_none());
}

#[test]
fn monitoring_and_grafana_never_leak_the_admin_password() {
    let d = TempDir::new("mon");
    let base = d.write("base.yaml", BASE);
    let extra = d.write(
        "extra.yaml",
        "tracecat:\n  temporal:\n    metrics:\n      enabled: true\nmonitoring:\n  enabled: true\ngrafana:\n  enabled: true\n  adminPassword: hunter2-very-secret\n",
    );
    let out = run(&[
        "template",
        "-f",
        &base.display().to_string(),
        "-f",
        &extra.display().to_string(),
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains("hunter2-very-secret"));
    assert!(!stderr(&out).contains("hunter2-very-secret"));
    let objs = objects(&text);
    let monitors: Vec<_> = objs
        .iter()
        .filter(|(k, _)| k.1 == "ServiceMonitor")
        .map(|(k, _)| k.3.clone())
        .collect();
    assert_eq!(monitors.len(), 5, "{monitors:?}");
    let cm = objs
        .iter()
        .find(|(k, _)| k.1 == "ConfigMap" && k.3 == "tracecat-grafana-dashboard")
        .unwrap();
    assert_eq!(s(&cm.1, "metadata.labels.grafana_dashboard"), "1");
    let json: serde_json::Value =
        serde_json::from_str(at(&cm.1, &["data", "tracecat.json"]).as_str().unwrap()).unwrap();
    assert!(json["panels"].as_array().unwrap().len() >= 4);
}

#[test]
fn operators_are_announced_on_stderr() {
    let r = render_with(
        "keda:\n  enabled: true\nmetricsserver:\n  enabled: true\ngrafana:\n  enabled: true\n",
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(lines
        .iter()
        .any(|l| l.starts_with("keda.enabled:") && l.contains("helm install keda")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("metricsserver.enabled:") && l.contains("--version")));
    assert!(lines.iter().any(|l| l.starts_with("grafana.enabled:")));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("keda.enabled:"))
            .count(),
        1
    );
}
