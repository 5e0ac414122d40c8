//! Coalescing values the way Helm does: user maps win over chart defaults,
//! maps merge deeply, lists and scalars are replaced, and a user `null`
//! deletes a default. Conflicts are warnings, never errors.

use super::model::{Map, Value};

/// Deep merge of two user value maps (later `-f` files over earlier ones).
pub fn merge_maps(mut a: Map, b: Map) -> Map {
    for (k, v) in b {
        match v {
            Value::Map(bm) => match a.remove(&k) {
                Some(Value::Map(am)) => {
                    a.insert(k, Value::Map(merge_maps(am, bm)));
                }
                _ => {
                    a.insert(k, Value::Map(bm));
                }
            },
            other => {
                a.insert(k, other);
            }
        }
    }
    a
}

fn concat(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Go's `%v` of a value inside a warning (maps print as `map[k:v]`).
fn go_v(v: &Value) -> String {
    v.to_string()
}

/// Collects Helm's coalescing warnings.
#[derive(Default, Debug)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    fn push(&mut self, s: String) {
        self.0.push(s);
    }
}

/// Helm's `coalesceValues`: merges chart defaults `defaults` under the user
/// values `v` (which win). `subcharts` names keys that hold subchart values:
/// those are merged without deleting nulls, which the subchart's own pass does.
pub fn coalesce_values(
    v: &mut Map,
    defaults: &Map,
    chart_name_prefix: &str,
    subcharts: &[String],
    merge: bool,
    warn: &mut Warnings,
) {
    for (key, val) in defaults {
        match v.get_mut(key) {
            Some(Value::Null) if !merge => {
                v.remove(key);
            }
            Some(Value::Map(dest)) => match val {
                Value::Map(src) => {
                    let merge = merge || subcharts.iter().any(|s| s == key);
                    coalesce_tables(dest, src, &concat(chart_name_prefix, key), merge, warn);
                }
                Value::Null => {}
                _ => warn.push(format!(
                    "warning: skipped value for {}: Not a table.",
                    concat(chart_name_prefix, key)
                )),
            },
            Some(_) => {}
            None => {
                v.insert(key.clone(), val.clone());
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `dst` is authoritative, `src` fills gaps.
pub fn coalesce_tables(dst: &mut Map, src: &Map, prefix: &str, merge: bool, warn: &mut Warnings) {
    // The full key is only for recursion and warnings: not made per key.
    let full = |key: &str| concat(prefix, key);
    for (key, val) in src {
        match dst.get_mut(key) {
            // Helm 4 deletes only when a non-null default is being nulled;
            // a null over a null stays (Helm 3 deleted it).
            Some(Value::Null) if !merge && !matches!(val, Value::Null) => {
                dst.remove(key);
            }
            None => {
                dst.insert(key.clone(), val.clone());
            }
            Some(dv) => {
                if let Value::Map(sm) = val {
                    if let Value::Map(dm) = dv {
                        coalesce_tables(dm, sm, &full(key), merge, warn);
                    } else {
                        warn.push(format!(
                            "warning: cannot overwrite table with non table for {} ({})",
                            full(key),
                            go_v(val)
                        ));
                    }
                } else if dv.is_map() && !matches!(val, Value::Null) {
                    warn.push(format!(
                        "warning: destination for {} is a table. Ignoring non-table value ({})",
                        full(key),
                        go_v(val)
                    ));
                }
            }
        }
    }
}

/// Helm's `coalesceGlobals`: copies the parent's `global` into a subchart's
/// values, the subchart's own globals keeping precedence for nested tables.
pub fn coalesce_globals(dest: &mut Map, parent: &Map, prefix: &str, warn: &mut Warnings) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m.clone(),
        Some(_) => {
            warn.push(
                "warning: skipping globals because destination global is not a table.".into(),
            );
            return;
        }
    };
    let sg = match parent.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m.clone(),
        Some(_) => {
            warn.push("warning: skipping globals because source global is not a table.".into());
            return;
        }
    };
    for (key, val) in sg {
        match val {
            Value::Map(vv) => {
                let mut vv = vv.clone();
                match dg.get_mut(&key) {
                    None => {
                        dg.insert(key, Value::Map(vv));
                    }
                    Some(Value::Map(destv)) => {
                        coalesce_tables(&mut vv, destv, &concat(prefix, &key), true, warn);
                        dg.insert(key, Value::Map(vv));
                    }
                    Some(_) => warn.push(format!(
                        "Conflict: cannot merge map onto non-map for \"{key}\". Skipping."
                    )),
                }
            }
            other => {
                if dg.get(&key).is_some_and(Value::is_map) {
                    warn.push(format!("key {key} is table. Skipping"));
                } else {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".into(), Value::Map(dg));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    fn m(s: &str) -> Map {
        parse_values(s, None).unwrap()
    }

    #[test]
    fn user_wins_and_maps_merge() {
        let mut v = m("a: {x: 2}\nl: [1]\n");
        let d = m("a: {x: 1, y: 1}\nl: [1, 2]\nz: 3\n");
        let mut w = Warnings::default();
        coalesce_values(&mut v, &d, "vt", &[], false, &mut w);
        assert_eq!(v, m("a: {x: 2, y: 1}\nl: [1]\nz: 3\n"));
    }

    #[test]
    fn null_deletes_a_default() {
        let mut v = m("a: {x: null}\nb: null\nc: null\n");
        let d = m("a: {x: 1, y: 1}\nb: 2\n");
        let mut w = Warnings::default();
        coalesce_values(&mut v, &d, "vt", &[], false, &mut w);
        assert_eq!(v, m("a: {y: 1}\nc: null\n"));
    }

    #[test]
    fn conflicts_warn() {
        let mut v = m("a: 1\nb: {c: 1}\n");
        let d = m("a: {x: 1}\nb: 5\n");
        let mut w = Warnings::default();
        coalesce_values(&mut v, &d, "vt", &[], false, &mut w);
        assert_eq!(
            w.0,
            vec!["warning: skipped value for vt.b: Not a table.".to_string()]
        );
    }
}
