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
        Value::Float(f) => format!("%!t(float64={})", crate::values::gofmt::go_float_g(*f)),
        Value::String(s) => format!("%!t(string={s})"),
        Value::Null => "%!t(<nil>)".into(),
        Value::List(_) => format!("%!t([]interface {{}}={v})"),
        Value::Map(_) => v.to_string(),
    }
}

/// Helm's `coalesce`: chart defaults under user values, recursively into
/// subcharts with globals copied down. `merge` keeps nulls (Helm's
/// `MergeValues`) instead of letting them delete defaults.
pub fn coalesce(
    chart: &Chart,
    mut v: Map,
    prefix: &str,
    merge: bool,
    warn: &mut Warnings,
) -> Result<Map> {
    let name = chart.name();
    let subs: Vec<String> = chart.dependencies.iter().map(Chart::name).collect();
    merge::coalesce_values(
        &mut v,
        &chart.values,
        &concat(prefix, &name),
        &subs,
        merge,
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
        let res = coalesce(sub, dv, &sub_prefix, merge, warn)?;
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
    // Subcharts matched to their declarations (aliases copy and rename):
    // undeclared ones first, then one per declaration. A chart is copied
    // only when a second declaration (another alias) names it.
    let existing = std::mem::take(&mut chart.dependencies);
    let mut picks: Vec<(usize, Option<super::Dependency>)> = (0..existing.len())
        .filter(|&i| !declared.iter().any(|d| d.name == existing[i].name()))
        .map(|i| (i, None))
        .collect();
    for d in &declared {
        if let Some(i) = existing.iter().position(|c| c.name() == d.name) {
            picks.push((i, Some(d.clone())));
        }
    }
    let mut uses = vec![0usize; existing.len()];
    for (i, _) in &picks {
        uses[*i] += 1;
    }
    let mut slots: Vec<Option<Chart>> = existing.into_iter().map(Some).collect();
    let mut decls = Vec::with_capacity(picks.len());
    for (i, decl) in picks {
        uses[i] -= 1;
        let mut c = if uses[i] == 0 {
            slots[i]
                .take()
                .expect("each chart is moved on its last use")
        } else {
            slots[i]
                .clone()
                .expect("a chart is copied before its last use")
        };
        if let Some(d) = &decl {
            if !d.alias.is_empty() {
                c.set_name(&d.alias);
            }
        }
        chart.dependencies.push(c);
        decls.push(decl);
    }
    let cvals = coalesce(chart, parent_vals.clone(), "", false, warn)?;
    let tags = cvals.get("tags").and_then(Value::as_map);
    let mut enabled_deps = Vec::new();
    for (c, decl) in std::mem::take(&mut chart.dependencies)
        .into_iter()
        .zip(decls)
    {
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
    process_imports(chart, warn)?;
    coalesce(chart, user, "", false, warn)
}

/// Helm's `processDependencyImportValues`, children first. A chart that still
/// declares an enabled dependency gets new defaults: its values merged with
/// its subcharts' (nulls kept), under which the imported tables are laid.
/// The chart's own values win over imported ones. User values are applied
/// later, over all of this.
fn process_imports(chart: &mut Chart, warn: &mut Warnings) -> Result<()> {
    for sub in chart.dependencies.iter_mut() {
        process_imports(sub, warn)?;
    }
    // Only dependencies left after `condition`/`tags`, under their alias.
    let enabled: Vec<(String, Vec<Value>)> = chart
        .declared_dependencies()
        .into_iter()
        .map(|d| {
            let name = if d.alias.is_empty() { d.name } else { d.alias };
            (name, d.import_values)
        })
        .filter(|(name, _)| chart.dependencies.iter().any(|c| &c.name() == name))
        .collect();
    if enabled.is_empty() {
        return Ok(());
    }
    let mut cvals = coalesce(chart, Map::new(), "", true, warn)?;
    let mut imported = Map::new();
    for (name, entries) in &enabled {
        for entry in entries {
            let (child, parent) = match entry {
                Value::Map(m) => (go_field(m, "child"), Some(go_field(m, "parent"))),
                Value::String(s) => (format!("exports.{s}"), None),
                // Helm skips entries of any other shape.
                _ => continue,
            };
            let table = match table_at(&cvals, &format!("{name}.{child}")) {
                Ok(t) => t.clone(),
                Err(missing) => {
                    warn.0.push(format!(
                        "Warning: ImportValues missing table from chart {name}: \"{missing}\" is not a table"
                    ));
                    continue;
                }
            };
            let src = match parent.as_deref() {
                None | Some(".") => table,
                Some(p) => nest(p, table),
            };
            merge::coalesce_tables(&mut imported, &src, "", true, warn);
        }
    }
    merge::coalesce_tables(&mut cvals, &imported, "", true, warn);
    // The defaults they replace are freed for the values computed next.
    chart.values = cvals;
    Ok(())
}

/// Go's `%v` of a field of an `import-values` map (`<nil>` when absent).
fn go_field(m: &Map, key: &str) -> String {
    m.get(key).map_or_else(|| "<nil>".into(), Value::to_string)
}

/// Helm's `Values.Table`: walks a dotted path of tables. On failure, the
/// segment that was missing or not a table.
fn table_at<'a>(vals: &'a Map, path: &str) -> std::result::Result<&'a Map, String> {
    let mut cur = vals;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(Value::Map(m)) => cur = m,
            _ => return Err(seg.to_string()),
        }
    }
    Ok(cur)
}

/// `a.b.c` and a table: `{a: {b: {c: table}}}` (Helm's `pathToMap`).
fn nest(path: &str, table: Map) -> Map {
    let mut cur = table;
    for seg in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(seg.to_string(), Value::Map(cur));
        cur = m;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    fn m(s: &str) -> Map {
        parse_values(s, None).unwrap()
    }

    #[test]
    fn table_paths_name_the_failing_segment() {
        let v = m("a:\n  b:\n    c: 1\n  s: x\n");
        assert_eq!(table_at(&v, "a.b").unwrap(), &m("c: 1\n"));
        assert_eq!(table_at(&v, "a.s").unwrap_err(), "s");
        assert_eq!(table_at(&v, "a.zz.c").unwrap_err(), "zz");
        assert_eq!(table_at(&v, "a.").unwrap_err(), "");
    }

    #[test]
    fn parent_paths_nest_the_imported_table() {
        assert_eq!(nest("x.sub", m("k: 1\n")), m("x:\n  sub:\n    k: 1\n"));
        assert_eq!(nest("x", Map::new()), m("x: {}\n"));
    }
}
