//! Values of the wrong shape: a list or a single value where the chart
//! expects a section (or a single value where it expects a list).
//!
//! Helm renders such a value wherever the chart only prints it or tests
//! it, and fails where a template reads a field of it or ranges over it
//! (Go: "can't evaluate field"). Minijinja reads a missing field of a list
//! or a string as undefined instead, so the same question is answered by a
//! second render in which each such value is a [`Probe`]: it behaves like
//! the value, and a field read or a range over it fails as Go's does and is
//! recorded.

use super::convert::{go_print, to_jinja};
use crate::values::{Map, Step, Value};
use minijinja::value::{Enumerator, Object, ObjectRepr, Value as JValue};
use minijinja::{Error as JError, ErrorKind};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the probes of one render saw: the first field read or range over
/// a wrong-shaped value, described as Go words it.
#[derive(Debug, Default, Clone)]
pub struct Reads(Arc<Mutex<Option<String>>>);

impl Reads {
    fn record(&self, what: &str) {
        if let Ok(mut first) = self.0.lock() {
            first.get_or_insert_with(|| what.to_string());
        }
    }

    /// The first read recorded, if any.
    pub fn first(&self) -> Option<String> {
        self.0.lock().ok().and_then(|f| f.clone())
    }
}

/// A wrong-shaped value standing in for itself in a probe render.
#[derive(Debug)]
pub struct Probe {
    value: Value,
    /// The dotted values path, for the message.
    path: String,
    reads: Reads,
}

impl Probe {
    /// The value the probe stands for (conversions back to the value model
    /// see through it).
    pub fn value(&self) -> &Value {
        &self.value
    }

    fn fail(&self, what: String) -> JValue {
        self.reads.record(&what);
        JValue::from(JError::new(ErrorKind::InvalidOperation, what))
    }
}

impl Object for Probe {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.value {
            Value::List(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Plain,
        }
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        if let (Value::List(items), Some(i)) = (&self.value, key.as_usize()) {
            return items.get(i).map(to_jinja);
        }
        let go_type = crate::values::set::go_type(&self.value);
        Some(self.fail(match key.as_str() {
            Some(field) => format!(
                "can't evaluate field {field} in type {go_type} ({} is not a section)",
                self.path
            ),
            None => format!(
                "can't index item of type {go_type} ({} is not a list)",
                self.path
            ),
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match &self.value {
            Value::List(items) => Enumerator::Values(items.iter().map(to_jinja).collect()),
            // Go ranges over an integer (0..n); nothing else single.
            Value::Int(n) => Enumerator::Values((0..(*n).max(0)).map(JValue::from).collect()),
            other => {
                self.fail(format!(
                    "range can't iterate over {} ({} is not a list)",
                    other, self.path
                ));
                Enumerator::NonEnumerable
            }
        }
    }

    fn is_true(self: &Arc<Self>) -> bool {
        to_jinja(&self.value).is_true()
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&go_print(&to_jinja(&self.value)))
    }
}

/// A wrong-shaped value's place: its steps, and its dotted path for messages.
pub type Place = (Vec<Step>, String);

/// `values` for the engine, with a [`Probe`] at each of `places` that
/// leads to a value (places that lead nowhere are left out).
pub fn with_probes(values: &Map, places: &[Place], reads: &Reads) -> JValue {
    fn convert(v: &Value, at: &mut Vec<Step>, places: &[Place], reads: &Reads) -> JValue {
        if let Some((_, path)) = places.iter().find(|(p, _)| p == at) {
            return JValue::from_object(Probe {
                value: v.clone(),
                path: path.clone(),
                reads: reads.clone(),
            });
        }
        match v {
            Value::Map(m) => map(m, at, places, reads),
            Value::List(l) if leads_on(at, places) => JValue::from(
                l.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        at.push(Step::Index(i));
                        let j = convert(x, at, places, reads);
                        at.pop();
                        j
                    })
                    .collect::<Vec<_>>(),
            ),
            other => to_jinja(other),
        }
    }
    // Only the branches leading to a probe need converting step by step.
    fn leads_on(at: &[Step], places: &[Place]) -> bool {
        places.iter().any(|(p, _)| p.starts_with(at))
    }
    fn map(m: &Map, at: &mut Vec<Step>, places: &[Place], reads: &Reads) -> JValue {
        if !leads_on(at, places) {
            return super::convert::map_to_jinja(m);
        }
        JValue::from(
            m.iter()
                .map(|(k, x)| {
                    at.push(Step::Key(k.clone()));
                    let j = convert(x, at, places, reads);
                    at.pop();
                    (k.clone(), j)
                })
                .collect::<BTreeMap<String, JValue>>(),
        )
    }
    map(values, &mut Vec::new(), places, reads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;
    use minijinja::Environment;

    fn run(src: &str, values: &str, path: &[&str]) -> (Result<String, JError>, Option<String>) {
        let vals = parse_values(values, None).unwrap();
        let reads = Reads::default();
        let steps: Vec<Step> = path.iter().map(|k| Step::Key(k.to_string())).collect();
        let v = with_probes(&vals, &[(steps, path.join("."))], &reads);
        let mut env = Environment::new();
        env.add_template("t", src).unwrap();
        let out = env
            .get_template("t")
            .unwrap()
            .render(minijinja::context! { Values => v });
        (out, reads.first())
    }

    #[test]
    fn a_field_read_of_a_list_fails_and_is_recorded() {
        let (out, read) = run("{{ Values.a.b }}", "a: [p, q]\n", &["a"]);
        assert!(out
            .unwrap_err()
            .to_string()
            .contains("can't evaluate field b"));
        assert!(read.unwrap().contains("a is not a section"));
    }

    #[test]
    fn printing_testing_and_ranging_a_list_are_not_reads() {
        let (out, read) = run(
            "{% if Values.a %}{% for x in Values.a %}{{ x }}{% endfor %} {{ Values.a[1] }}{% endif %}",
            "a: [p, q]\n",
            &["a"],
        );
        assert_eq!(out.unwrap(), "pq q");
        assert_eq!(read, None);
    }

    #[test]
    fn ranging_over_a_single_value_fails_and_is_recorded() {
        let (out, read) = run(
            "{% for x in Values.a %}{{ x }}{% endfor %}",
            "a: yes\n",
            &["a"],
        );
        assert!(out.is_err());
        assert!(read.unwrap().contains("range can't iterate over true"));
        let (out, read) = run(
            "{{ Values.a }}|{{ Values.b.c }}",
            "a: yes\nb: {c: z}\n",
            &["a"],
        );
        assert_eq!(out.unwrap(), "true|z");
        assert_eq!(read, None);
    }

    #[test]
    fn paths_that_lead_nowhere_change_nothing() {
        let (out, read) = run("{{ Values.a.b }}", "a: {b: z}\n", &["x", "y"]);
        assert_eq!(out.unwrap(), "z");
        assert_eq!(read, None);
    }
}
