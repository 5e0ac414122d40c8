//! Lint findings as text (like `helm lint`), JSON, or SARIF 2.1.0 for
//! GitHub code scanning.

use super::{Finding, Severity, RULES};
use serde_json::json;

pub fn text(findings: &[Finding], target: &str) -> String {
    let mut out = format!("==> Linting {target}\n");
    for f in findings {
        let tag = match f.severity {
            Severity::Error => "[ERROR]",
            Severity::Warning => "[WARNING]",
            Severity::Info => "[INFO]",
        };
        let loc = match (&f.file, f.line) {
            (Some(file), Some(l)) => format!("{} ({file}:{l})", f.location),
            (Some(file), None) if !f.location.contains('/') || f.location.is_empty() => {
                format!("{} ({file})", f.location)
            }
            _ => f.location.clone(),
        };
        out.push_str(&format!(
            "{tag} {}: {} [{}]\n",
            loc.trim(),
            f.message,
            f.rule
        ));
        if let Some(h) = &f.hint {
            out.push_str(&format!("        hint: {h}\n"));
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    out.push_str(&format!("\n{errors} error(s), {warnings} warning(s)\n"));
    out
}

pub fn json(findings: &[Finding]) -> String {
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "severity": f.severity.as_str(),
                "rule": f.rule,
                "location": f.location,
                "file": f.file,
                "line": f.line,
                "message": f.message,
                "hint": f.hint,
            })
        })
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({ "findings": items })).unwrap_or_default()
    )
}

/// A file as a SARIF artifact URI: relative paths stay relative (GitHub
/// resolves them against the repository), absolute ones become file URIs;
/// characters a URI cannot hold are percent-encoded.
fn artifact_uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(id, desc)| json!({ "id": id, "shortDescription": { "text": desc } }))
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let mut text = f.message.clone();
            if let Some(h) = &f.hint {
                text.push_str(&format!(" (hint: {h})"));
            }
            let mut location = json!({
                "logicalLocations": [ { "fullyQualifiedName": f.location } ]
            });
            if let Some(file) = &f.file {
                let mut phys = json!({ "artifactLocation": { "uri": artifact_uri(file) } });
                if let Some(l) = f.line {
                    phys["region"] = json!({ "startLine": l });
                }
                location["physicalLocation"] = phys;
            }
            let rule_index = RULES.iter().position(|(id, _)| *id == f.rule).unwrap_or(0);
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index,
                "level": level,
                "message": { "text": text },
                "locations": [location],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "tracecat-chart",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/tracecathq/tracecat",
                "rules": rules,
            }},
            "results": results,
        }]
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}
