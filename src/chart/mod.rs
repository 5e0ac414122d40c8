//! Charts: Chart.yaml, default values, schema, templates, other files and
//! subcharts, loaded from the embedded chart, a directory or a `.tgz`.

pub mod archive;
pub mod dependencies;
pub mod ignore;
pub mod text;

use crate::error::{Error, Kind, Result};
use crate::values::{yaml, Map, Value};
use std::collections::BTreeMap;
pub use text::Text;

/// A chart's files, by chart-relative path with `/` separators. Cloning a
/// file's contents shares them (see [`Text`]).
pub type Files = BTreeMap<String, bytes::Bytes>;

#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub alias: String,
    /// `import-values` entries as written: a string (`exports.<name>`) or a
    /// `{child, parent}` map.
    pub import_values: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// Chart.yaml as parsed.
    pub metadata: Map,
    pub chart_yaml_text: Text,
    pub values: Map,
    pub values_text: Text,
    pub schema: Option<Text>,
    /// `templates/...` files, sorted by path (shared with the render's loader).
    pub templates: Vec<(String, Text)>,
    /// `crds/...` files.
    pub crds: Vec<(String, String)>,
    /// Every file of the chart except subcharts (for `.Files`).
    pub files: Files,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
    /// Every template is known to compile (the embedded chart: a test
    /// compiles each one), so a render need not compile templates it does
    /// not run just to look for syntax errors.
    pub templates_checked: bool,
}

fn meta_str(m: &Map, key: &str) -> String {
    match m.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl Chart {
    pub fn name(&self) -> String {
        meta_str(&self.metadata, "name")
    }
    pub fn version(&self) -> String {
        meta_str(&self.metadata, "version")
    }
    pub fn app_version(&self) -> String {
        meta_str(&self.metadata, "appVersion")
    }
    pub fn kube_version(&self) -> String {
        meta_str(&self.metadata, "kubeVersion")
    }
    pub fn is_library(&self) -> bool {
        meta_str(&self.metadata, "type") == "library"
    }
    /// The `values.schema.json` texts of this chart and its subcharts
    /// (shared with the tree, not copied).
    pub fn schema_texts(&self) -> Vec<Text> {
        fn texts(c: &Chart, out: &mut Vec<Text>) {
            out.extend(c.schema.clone());
            c.dependencies.iter().for_each(|d| texts(d, out));
        }
        let mut all = Vec::new();
        texts(self, &mut all);
        all
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata
            .insert("name".into(), Value::String(name.into()));
    }

    pub fn declared_dependencies(&self) -> Vec<Dependency> {
        let Some(Value::List(deps)) = self.metadata.get("dependencies") else {
            return Vec::new();
        };
        deps.iter()
            .filter_map(Value::as_map)
            .map(|d| Dependency {
                name: meta_str(d, "name"),
                version: meta_str(d, "version"),
                repository: meta_str(d, "repository"),
                condition: meta_str(d, "condition"),
                tags: match d.get("tags") {
                    Some(Value::List(l)) => l.iter().map(|t| t.to_string()).collect(),
                    _ => Vec::new(),
                },
                alias: meta_str(d, "alias"),
                import_values: match d.get("import-values") {
                    Some(Value::List(l)) => l.clone(),
                    _ => Vec::new(),
                },
            })
            .collect()
    }

    /// Builds a chart from its files. `origin` names it in messages.
    pub fn from_files(files: Files, origin: &str) -> Result<Chart> {
        let read = Reading { ignore: true };
        Self::from_files_depth(files, origin, 0, read)
    }

    fn from_files_depth(
        mut files: Files,
        origin: &str,
        depth: usize,
        read: Reading,
    ) -> Result<Chart> {
        if depth > 16 {
            return Err(Error::new(
                Kind::Parse,
                format!("{origin}: subcharts nested more than 16 deep"),
            ));
        }
        if read.ignore {
            if let Some(ig) = files.get(".helmignore") {
                let rules = ignore::Rules::parse(&String::from_utf8_lossy(ig))
                    .map_err(|e| Error::new(Kind::Parse, format!("{origin}/.helmignore: {e}")))?;
                files.retain(|p, _| {
                    !rules.ignored(p, false) && !ancestors(p).any(|d| rules.ignored(d, true))
                });
            } else {
                let rules = ignore::Rules::default();
                files.retain(|p, _| !rules.ignored(p, false));
            }
        }
        let chart_yaml = files.get("Chart.yaml").ok_or_else(|| {
            Error::new(Kind::Parse, format!("{origin}: Chart.yaml file is missing")).with_hint(
                "a chart is a folder (or .tgz) holding Chart.yaml, values.yaml and templates/",
            )
        })?;
        let chart_yaml_text = text(chart_yaml, origin, "Chart.yaml")?;
        let metadata = match yaml::parse_one(&chart_yaml_text) {
            Ok(Value::Map(m)) => m,
            Ok(_) => {
                return Err(Error::new(
                    Kind::Parse,
                    format!("{origin}/Chart.yaml: not a mapping"),
                ))
            }
            Err(e) => {
                return Err(
                    Error::new(Kind::Parse, format!("{origin}/Chart.yaml: {}", e.message))
                        .with_file(format!("{origin}/Chart.yaml"))
                        .at(e.line, e.col),
                )
            }
        };
        for key in ["name", "version"] {
            if meta_str(&metadata, key).is_empty() {
                return Err(Error::new(
                    Kind::Parse,
                    format!("{origin}/Chart.yaml: validation: chart.metadata.{key} is required"),
                ));
            }
        }
        let version = meta_str(&metadata, "version");
        if !matches!(metadata.get("version"), Some(Value::Float(_)))
            && crate::version::Version::parse(&version).is_none()
        {
            return Err(Error::new(
                Kind::Parse,
                format!("{origin}/Chart.yaml: validation: chart.metadata.version {version:?} is invalid"),
            )
            .with_file(format!("{origin}/Chart.yaml"))
            .with_hint("give a SemVer 2 version, e.g. version: 0.1.0"));
        }
        if let Some(Value::Float(_)) = metadata.get("version") {
            return Err(Error::new(
                Kind::Parse,
                format!("{origin}/Chart.yaml: version should be of type string but it's of type float64"),
            )
            .with_hint("quote the version: version: \"1.0\""));
        }
        let values_text = match files.get("values.yaml") {
            Some(b) => text(b, origin, "values.yaml")?,
            None => Text::default(),
        };
        let values = yaml::parse_values(&values_text, None).map_err(|e| {
            Error::new(Kind::Parse, format!("{origin}/values.yaml: {}", e.message))
                .with_file(format!("{origin}/values.yaml"))
                .at(e.line, e.col)
        })?;
        let schema = match files.get("values.schema.json") {
            Some(b) => Some(text(b, origin, "values.schema.json")?),
            None => None,
        };
        let mut templates = Vec::new();
        let mut crds = Vec::new();
        let mut sub_files: BTreeMap<String, Files> = BTreeMap::new();
        let mut sub_archives = Vec::new();
        let mut own = Files::new();
        for (path, data) in files {
            if let Some(rest) = path.strip_prefix("charts/") {
                match rest.split_once('/') {
                    Some((name, inner)) => {
                        sub_files
                            .entry(name.to_string())
                            .or_default()
                            .insert(inner.to_string(), data);
                    }
                    None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                        sub_archives.push((path, data))
                    }
                    None => {}
                }
                continue;
            }
            if path.starts_with("templates/") {
                templates.push((path.clone(), text(&data, origin, &path)?));
            } else if path.starts_with("crds/") {
                crds.push((path.clone(), text(&data, origin, &path)?.to_string()));
            }
            own.insert(path, data);
        }
        let mut dependencies = Vec::new();
        for (name, f) in sub_files {
            dependencies.push(Self::from_files_depth(
                f,
                &format!("{origin}/charts/{name}"),
                depth + 1,
                read,
            )?);
        }
        for (path, data) in sub_archives {
            let f = archive::read_tgz(&data, &format!("{origin}/{path}"))?;
            dependencies.push(Self::from_files_depth(
                f,
                &format!("{origin}/{path}"),
                depth + 1,
                read,
            )?);
        }
        Ok(Chart {
            metadata,
            chart_yaml_text,
            values,
            values_text,
            schema,
            templates,
            crds,
            files: own,
            dependencies,
            templates_checked: false,
        })
    }

    /// Checks that every dependency declared in Chart.yaml is present.
    pub fn check_dependencies(&self) -> Result<()> {
        let missing: Vec<String> = self
            .declared_dependencies()
            .into_iter()
            .filter(|d| !self.dependencies.iter().any(|c| c.name() == d.name))
            .map(|d| d.name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::new(
                Kind::Parse,
                format!(
                    "an error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
                    missing.join(", ")
                ),
            ));
        }
        for d in &self.dependencies {
            d.check_dependencies()?;
        }
        Ok(())
    }
}

fn ancestors(p: &str) -> impl Iterator<Item = &str> {
    p.match_indices('/').map(move |(i, _)| &p[..i])
}

fn text(b: &bytes::Bytes, origin: &str, path: &str) -> Result<Text> {
    Text::new(b.clone()).ok_or_else(|| {
        Error::new(Kind::Parse, format!("{origin}/{path}: not valid UTF-8"))
            .with_file(format!("{origin}/{path}"))
    })
}

/// Reads a chart directory (following symlinks to files, as Helm does).
pub fn load_dir(dir: &std::path::Path) -> Result<Chart> {
    let mut files = Files::new();
    let origin = dir.display().to_string();
    fn walk(base: &std::path::Path, rel: &str, files: &mut Files, budget: &mut u64) -> Result<()> {
        let path = if rel.is_empty() {
            base.to_path_buf()
        } else {
            base.join(rel)
        };
        let mut entries: Vec<_> = std::fs::read_dir(&path)
            .map_err(|e| Error::io(&path.display().to_string(), &e))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::metadata(e.path())
                .map_err(|err| Error::io(&e.path().display().to_string(), &err))?;
            if meta.is_dir() {
                walk(base, &r, files, budget)?;
            } else if meta.is_file() {
                if meta.len() > *budget {
                    return Err(Error::new(
                        Kind::Parse,
                        format!("{}: chart is larger than the limit", base.display()),
                    )
                    .with_hint("raise TRACECAT_CHART_MAX_CHART_BYTES if this is intended"));
                }
                *budget -= meta.len();
                let data = std::fs::read(e.path())
                    .map_err(|err| Error::io(&e.path().display().to_string(), &err))?;
                files.insert(r, data.into());
            }
        }
        Ok(())
    }
    if !dir.join("Chart.yaml").is_file() {
        return Err(Error::new(Kind::Io, format!("{origin}: Chart.yaml file is missing"))
            .with_hint("CHART must be a chart folder, a .tgz archive, or omitted for the embedded Tracecat chart"));
    }
    let mut budget = archive::max_chart_bytes();
    walk(dir, "", &mut files, &mut budget)?;
    Chart::from_files(files, &origin)
}

/// The Tracecat chart compiled into this binary.
pub fn embedded() -> Result<Chart> {
    embedded_with()
}

fn embedded_files() -> Files {
    crate::embedded::FILES
        .iter()
        .map(|(p, d)| (p.to_string(), bytes::Bytes::from_static(d)))
        .collect()
}

/// How much of a chart's files [`Chart::from_files_depth`] reads.
#[derive(Clone, Copy)]
struct Reading {
    /// Apply `.helmignore` and the built-in ignore rules (false: the files
    /// are known to hold nothing they drop).
    ignore: bool,
}

fn embedded_with() -> Result<Chart> {
    // Its `.helmignore` files drop none of its files (a test checks it),
    // so they are not applied on every run.
    let read = Reading { ignore: false };
    let mut chart = Chart::from_files_depth(embedded_files(), "tracecat (embedded)", 0, read)?;
    fn checked(c: &mut Chart) {
        c.templates_checked = true;
        c.dependencies.iter_mut().for_each(checked);
    }
    checked(&mut chart);
    Ok(chart)
}

/// Loads CHART as given on the command line: a directory, a `.tgz`, or
/// nothing for the embedded chart.
pub fn load(reference: Option<&str>) -> Result<Chart> {
    match reference {
        None => embedded(),
        Some(r) => {
            let p = std::path::Path::new(r);
            if r.starts_with("oci://") {
                return Err(
                    Error::usage(format!("{r}: this command reads local charts only"))
                        .with_hint("pull it first with `tracecat-chart pull`"),
                );
            }
            if p.is_dir() {
                load_dir(p)
            } else if p.is_file() {
                let data = std::fs::read(p).map_err(|e| Error::io(r, &e))?;
                let files = archive::read_tgz(&data, r)?;
                Chart::from_files(files, r)
            } else {
                Err(Error::new(Kind::Io, format!("{r}: no such chart folder or archive"))
                    .with_hint("CHART is a chart folder, a .tgz archive, or omitted for the embedded Tracecat chart"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of a chart tree, and its templates, by path.
    fn paths(c: &Chart, prefix: &str, out: &mut Vec<String>) {
        out.extend(c.files.keys().map(|k| format!("{prefix}{k}")));
        out.extend(
            c.templates
                .iter()
                .map(|(k, _)| format!("{prefix}{k} (template)")),
        );
        for d in &c.dependencies {
            paths(d, &format!("{prefix}charts/{}/", d.name()), out);
        }
    }

    /// The embedded chart skips `.helmignore` on every run: that is only
    /// right while the rules would drop none of its files.
    #[test]
    fn the_embedded_chart_holds_nothing_its_ignore_rules_drop() {
        let (mut skipped, mut applied) = (Vec::new(), Vec::new());
        paths(&embedded().unwrap(), "", &mut skipped);
        let read = Chart::from_files(embedded_files(), "embedded, rules applied").unwrap();
        paths(&read, "", &mut applied);
        let dropped: Vec<_> = skipped.iter().filter(|p| !applied.contains(p)).collect();
        assert!(
            dropped.is_empty(),
            "files .helmignore drops are embedded (remove them from chart/, templates/ or values/): {dropped:?}"
        );
        assert_eq!(skipped, applied);
    }

    /// The embedded schemas are in the fast check's subset: a rewrite that
    /// leaves it would silently send every render to the full validator.
    #[test]
    fn embedded_schemas_are_in_the_fast_subset() {
        use crate::values::{json_doc, schema_fast::Checker};
        let mut n = 0;
        for (path, bytes) in crate::embedded::FILES {
            if path.ends_with("values.schema.json") {
                let text = std::str::from_utf8(bytes).unwrap();
                let doc = json_doc::parse(text).unwrap();
                assert!(Checker::new(doc.view(text)).is_supported(), "{path}");
                n += 1;
            }
        }
        assert_eq!(embedded().unwrap().schema_texts().len(), n);
    }
}
