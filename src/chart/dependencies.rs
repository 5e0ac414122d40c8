//! Subcharts: which are enabled (conditions and tags), aliases, and the
//! final coalesced values of the whole chart tree, as Helm computes them.

use super::Chart;
use crate::error::{Error, Kind, Result};
use crate::values::merge::{self, Warnings};
use crate::values::{map_path, Map, Value};

fn concat(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Go's `%t` verb applied to a non-table value (Helm's type-mismatch message).
fn go_t(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => format!("%!t(int64={i})"),
        Value::Float(f) => format!("%!t(float64={})", crate::values::numfmt::go_float_g(*f)),
        Value::String(s) => format!("%!t(string={s})"),
        Value::Null => "%!t(<nil>)".into(),
        Value::List(_) => format!("%!t([]interface {{}}={v})"),
        Value::Map(_) => v.to_string(),
    }
}

/// Helm's `coalesce`: chart defaults under user values, recursively into
/// subcharts with globals copied down.
pub fn coalesce(chart: &Chart, mut v: Map, prefix: &str, warn: &mut Warnings) -> Result<Map> {
    let name = chart.name();
    let subs: Vec<String> = chart.dependencies.iter().map(Chart::name).collect();
    merge::coalesce_values(
        &mut v,
        &chart.values,
        &concat(prefix, &name),
        &subs,
        false,
        warn,
    );
    for sub in &chart.dependencies {
        let sname = sub.name();
        let dv = match v.remove(&sname) {
            None => Map::new(),
            Some(Value::Map(m)) => m,
            Some(other) => {
                let msg = format!("type mismatch on {sname}: {}", go_t(&other));
                return Err(Error::new(Kind::Values, msg)
                    .with_path(sname.clone())
                    .with_hint(format!(
                        "`{sname}` holds the values of the {sname} subchart and must be a map"
                    )));
            }
        };
        let mut dv = dv;
        let sub_prefix = concat(prefix, &name);
        merge::coalesce_globals(&mut dv, &v, &sub_prefix, warn);
        let res = coalesce(sub, dv, &sub_prefix, warn)?;
        v.insert(sname, Value::Map(res));
    }
    Ok(v)
}

/// Applies aliases and removes subcharts disabled by `condition` or `tags`,
/// recursively, as Helm's `ProcessDependencies` does.
pub fn process_enabled(
    chart: &mut Chart,
    parent_vals: &Map,
    path: &str,
    warn: &mut Warnings,
) -> Result<()> {
    let declared = chart.declared_dependencies();
    if declared.is_empty() {
        return Ok(());
    }
    // Subcharts matched to their declarations (aliases copy and rename).
    let mut kept: Vec<(Chart, Option<super::Dependency>)> = Vec::new();
    for existing in &chart.dependencies {
        if !declared.iter().any(|d| d.name == existing.name()) {
            kept.push((existing.clone(), None));
        }
    }
    for d in &declared {
        if let Some(c) = chart.dependencies.iter().find(|c| c.name() == d.name) {
            let mut c = c.clone();
            if !d.alias.is_empty() {
                c.set_name(&d.alias);
            }
            kept.push((c, Some(d.clone())));
        }
    }
    chart.dependencies = kept.iter().map(|(c, _)| c.clone()).collect();
    let cvals = coalesce(chart, parent_vals.clone(), "", warn)?;
    let tags = cvals.get("tags").and_then(Value::as_map);
    let mut enabled_deps = Vec::new();
    for (c, decl) in kept {
        let mut enabled = true;
        if let Some(d) = &decl {
            // tags
            if let Some(t) = &tags {
                let (mut has_true, mut has_false) = (false, false);
                for k in &d.tags {
                    match t.get(k) {
                        Some(Value::Bool(true)) => has_true = true,
                        Some(Value::Bool(false)) => has_false = true,
                        Some(_) => warn.0.push(format!(
                            "Warning: Tag '{k}' for chart {} returned non-bool value",
                            c.name()
                        )),
                        None => {}
                    }
                }
                enabled = has_true || !has_false;
            }
            // conditions: the first one that resolves to a bool decides
            for cond in d.condition.trim().split(',') {
                let cond = cond.trim();
                if cond.is_empty() {
                    continue;
                }
                let full = format!("{path}{cond}");
                match map_path(&cvals, &full) {
                    Some(Value::Bool(b)) => {
                        enabled = *b;
                        break;
                    }
                    Some(_) => warn.0.push(format!(
                        "Warning: Condition path '{cond}' for chart {} returned non-bool value",
                        c.name()
                    )),
                    None => {}
                }
            }
        }
        if enabled {
            enabled_deps.push(c);
        }
    }
    for c in enabled_deps.iter_mut() {
        let sub_path = format!("{path}{}.", c.name());
        process_enabled(c, &cvals, &sub_path, warn)?;
    }
    chart.dependencies = enabled_deps;
    Ok(())
}

/// The final `.Values` of a chart for the given user values.
pub fn compute_values(chart: &mut Chart, user: Map, warn: &mut Warnings) -> Result<Map> {
    process_enabled(chart, &user, "", warn)?;
    coalesce(chart, user, "", warn)
}
