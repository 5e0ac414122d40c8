//! Command-line definitions and dispatch. Each command lives in its own
//! file; this one holds the shared flags.

mod completion;
mod diff;
mod explain;
mod lint;
mod oci_cmds;
mod post_render;
mod secrets;
mod show;
mod template;
mod values_cmd;

use crate::error::{Error, Result};
use crate::render::RenderOptions;
use crate::values::Sources;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "tracecat-chart",
    version,
    about = "Render, check and ship the Tracecat Kubernetes chart; a fast, Helm-compatible `helm template`",
    // As in Helm, a repeated flag's last value wins.
    args_override_self = true
)]
pub struct Cli {
    /// Show extra detail on errors (the rendered output of a failing template).
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render the chart's manifests (like `helm template`).
    Template(Lazy<template::TemplateArgs>),
    /// Print the computed values (chart defaults merged with yours).
    Values(Lazy<values_cmd::ValuesArgs>),
    /// Show the chart's Chart.yaml or default values.
    Show(Lazy<show::ShowArgs>),
    /// Package a chart folder as NAME-VERSION.tgz (Helm's format, reproducible).
    Package(Lazy<oci_cmds::PackageArgs>),
    /// Push a chart to an OCI registry, as Helm does.
    Push(Lazy<oci_cmds::PushArgs>),
    /// Pull a chart from an OCI registry (version, range or digest).
    Pull(Lazy<oci_cmds::PullArgs>),
    /// Log in to or out of a registry.
    Registry(Lazy<oci_cmds::RegistryArgs>),
    /// Check values and rendered objects offline (schemas, names, deployment checks).
    Lint(Lazy<lint::LintArgs>),
    /// Helm post-renderer: apply the platform overlay to a manifest stream on stdin.
    PostRender(Lazy<post_render::PostRenderArgs>),
    /// Show what an upgrade changes, object by object (secret data hidden).
    Diff(Lazy<diff::DiffArgs>),
    /// Describe a values key: type, default, allowed values, child keys.
    Explain(Lazy<explain::ExplainArgs>),
    /// Generate or check the four core secrets.
    Secrets(Lazy<secrets::SecretsArgs>),
    /// Print a shell completion script.
    Completion(Lazy<completion::CompletionArgs>),
}

/// A subcommand's arguments, defined only when that subcommand runs or its
/// help is shown (clap's `Command::defer`): a `template` run then builds
/// none of the other commands' flags, which was most of clap's start-up.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T: clap::FromArgMatches> clap::FromArgMatches for Lazy<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        T::from_arg_matches(m).map(Lazy)
    }

    fn update_from_arg_matches(
        &mut self,
        m: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
}

thread_local! {
    /// Set while the whole command tree is wanted at once: shell completion
    /// scripts list every command's flags, and clap lists the nested
    /// commands of `help` (`help registry login`) only for commands defined
    /// up front.
    static DEFINE_ALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The whole command tree, every command's arguments defined.
pub fn full_command() -> clap::Command {
    use clap::CommandFactory;
    DEFINE_ALL.with(|d| d.set(true));
    let cmd = Cli::command();
    DEFINE_ALL.with(|d| d.set(false));
    cmd
}

fn define_all() -> bool {
    DEFINE_ALL.with(|d| d.get())
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        if define_all() {
            return T::augment_args(cmd);
        }
        cmd.defer(define::<T>)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        if define_all() {
            return T::augment_args_for_update(cmd);
        }
        cmd.defer(define_for_update::<T>)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// `T`'s arguments, added late. That must not change the command's
/// description: a flattened group's doc comment would otherwise replace the
/// one the subcommand set first.
fn define<T: Args>(cmd: clap::Command) -> clap::Command {
    keep_about(cmd, T::augment_args)
}

fn define_for_update<T: Args>(cmd: clap::Command) -> clap::Command {
    keep_about(cmd, T::augment_args_for_update)
}

fn keep_about(cmd: clap::Command, add: fn(clap::Command) -> clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let mut cmd = add(cmd);
    if let Some(a) = about {
        cmd = cmd.about(a);
    }
    if let Some(a) = long_about {
        cmd = cmd.long_about(a);
    }
    cmd
}

/// The `-f` / `--set*` flags, shared by every command that computes values.
#[derive(Args, Debug, Clone, Default)]
pub struct ValuesFlags {
    /// Values file(s) or http(s) URLs, in order; `-` reads stdin. Comma-separated lists allowed.
    #[arg(short = 'f', long = "values", value_name = "FILE", value_parser = csv_list)]
    pub values: Vec<CsvList>,
    /// Set values: key=value[,key=value] (typed like Helm: ints, bools, null).
    #[arg(long = "set", value_name = "KEY=VAL")]
    pub set: Vec<String>,
    /// Set string values: key=value.
    #[arg(long = "set-string", value_name = "KEY=VAL")]
    pub set_string: Vec<String>,
    /// Set JSON values: key=<json>, or a whole JSON object.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a value from a file's contents: key=path.
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set one literal string value: key=value (no escaping or splitting).
    #[arg(long = "set-literal", value_name = "KEY=VAL")]
    pub set_literal: Vec<String>,
}

impl ValuesFlags {
    pub fn sources(&self) -> Sources {
        Sources {
            files: self
                .values
                .iter()
                .flat_map(|l| l.0.iter().cloned())
                .collect(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_json: self.set_json.clone(),
            set_file: self.set_file.clone(),
            set_literal: self.set_literal.clone(),
            fetch: Some(crate::http::values_reader()),
        }
    }
}

/// One `-f` value, split as Helm's flag library splits a list: one CSV
/// record, so a field may be quoted to hold a comma, and an empty value
/// names no file at all (`-f "$EXTRA"` with nothing in it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvList(pub Vec<String>);

fn csv_list(s: &str) -> std::result::Result<CsvList, String> {
    let s = s.trim_start_matches(['\r', '\n']);
    if s.is_empty() {
        return Ok(CsvList::default());
    }
    let mut fields = Vec::new();
    let mut rest = s;
    let mut col = 1;
    loop {
        let mut field = String::new();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' if quoted[i + 1..].starts_with('"') => {
                        field.push('"');
                        chars.next();
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => field.push(c),
                }
            }
            let Some(end) = end else {
                return Err(format!(
                    "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                    col + rest.len()
                ));
            };
            rest = &quoted[end..];
            if !(rest.is_empty() || rest.starts_with([',', '\n', '\r'])) {
                // Go names the column of the closing quote.
                return Err(format!(
                    "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                    col + end
                ));
            }
            col += end + 1;
        } else {
            let end = rest.find([',', '\n', '\r']).unwrap_or(rest.len());
            field.push_str(&rest[..end]);
            if let Some(q) = field.find('"') {
                return Err(format!(
                    "parse error on line 1, column {}: bare \" in non-quoted-field",
                    col + q
                ));
            }
            col += end;
            rest = &rest[end..];
        }
        fields.push(field);
        match rest.strip_prefix(',') {
            Some(r) => {
                rest = r;
                col += 1;
            }
            // A list is one record: a line break ends it, as in Helm.
            None => return Ok(CsvList(fields)),
        }
    }
}

/// How to reach an OCI registry (Helm's flag names).
#[derive(Args, Debug, Clone, Default)]
pub struct RegistryFlags {
    /// Use plain HTTP instead of HTTPS.
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// Skip TLS certificate checks.
    #[arg(long = "insecure-skip-tls-verify")]
    pub insecure_skip_tls_verify: bool,
    /// CA bundle to verify the registry with.
    #[arg(long = "ca-file")]
    pub ca_file: Option<String>,
    /// Client certificate (with --key-file).
    #[arg(long = "cert-file")]
    pub cert_file: Option<String>,
    /// Client key (with --cert-file).
    #[arg(long = "key-file")]
    pub key_file: Option<String>,
    /// Registry user name.
    #[arg(short = 'u', long = "username")]
    pub username: Option<String>,
    /// Registry password (insecure: prefer --password-stdin).
    #[arg(short = 'p', long = "password")]
    pub password: Option<String>,
    /// Read the registry password from stdin.
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// Helm's registry config file.
    #[arg(long = "registry-config")]
    pub registry_config: Option<String>,
}

impl RegistryFlags {
    pub fn options(&self) -> Result<crate::oci::client::Options> {
        let mut password = self.password.clone();
        if password.is_some() {
            eprintln!("WARNING: using --password via the CLI is insecure. Use --password-stdin.");
        }
        if self.password_stdin {
            use std::io::Read;
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("<stdin>", &e))?;
            password = Some(s.trim_end_matches(['\n', '\r']).to_string());
        }
        if password.is_some() && self.username.is_none() {
            return Err(Error::usage("a password needs --username"));
        }
        Ok(crate::oci::client::Options {
            plain_http: self.plain_http,
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            username: self.username.clone(),
            password,
            registry_config: self.registry_config.clone(),
        })
    }
}

/// Release and cluster flags shared by rendering commands.
#[derive(Args, Debug, Clone, Default)]
pub struct ReleaseFlags {
    /// Namespace of the release (default: $HELM_NAMESPACE, the kubeconfig's, or "default").
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Kubernetes version for .Capabilities (default v1.35.0, as Helm 4).
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    /// Extra API versions for .Capabilities.APIVersions (repeatable, comma-separated).
    #[arg(short = 'a', long = "api-versions", value_parser = csv_list)]
    pub api_versions: Vec<CsvList>,
    /// Render as an upgrade (.Release.IsUpgrade true, IsInstall false).
    #[arg(long = "is-upgrade")]
    pub is_upgrade: bool,
    /// Do not validate values against values.schema.json.
    #[arg(long = "skip-schema-validation")]
    pub skip_schema_validation: bool,
}

fn kubeconfig_namespace() -> Option<String> {
    let path = std::env::var("KUBECONFIG")
        .ok()
        .and_then(|p| p.split(':').next().map(str::to_string))
        .filter(|p| !p.is_empty())
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| format!("{h}/.kube/config"))
        })?;
    let text = std::fs::read_to_string(path).ok()?;
    let doc = crate::values::yaml::parse_one(&text).ok()?;
    let current = doc.path("current-context")?.as_str()?.to_string();
    let ctxs = match doc.as_map()?.get("contexts")? {
        crate::values::Value::List(l) => l.clone(),
        _ => return None,
    };
    for c in ctxs {
        if c.path("name").and_then(|n| n.as_str()) == Some(current.as_str()) {
            return c
                .path("context.namespace")
                .and_then(|n| n.as_str())
                .map(str::to_string);
        }
    }
    None
}

impl ReleaseFlags {
    pub fn options(&self, release_name: &str) -> Result<RenderOptions> {
        let namespace = self
            .namespace
            .clone()
            .or_else(|| {
                std::env::var("HELM_NAMESPACE")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .or_else(kubeconfig_namespace)
            .unwrap_or_else(|| "default".into());
        // An empty --kube-version is Helm's unset flag.
        let kube_version = match self.kube_version.as_deref() {
            Some(v) if !v.is_empty() => crate::release::parse_kube_version(v)?,
            _ => crate::render::context::DEFAULT_KUBE_VERSION.into(),
        };
        Ok(RenderOptions {
            release_name: release_name.to_string(),
            namespace,
            is_upgrade: self.is_upgrade,
            revision: 1,
            kube_version,
            extra_api_versions: self
                .api_versions
                .iter()
                .flat_map(|l| l.0.iter().cloned())
                .collect(),
        })
    }
}

/// Helm flags this tool knows but does not support, with the reason.
const REFUSED_FLAGS: &[(&str, &str)] = &[
    ("--atomic", "it only affects `helm install`"),
    ("--rollback-on-failure", "it only affects `helm install`"),
    ("--wait", "it only affects `helm install`"),
    ("--wait-for-jobs", "it only affects `helm install`"),
    ("--timeout", "it only affects `helm install`"),
    ("--create-namespace", "it only affects `helm install`"),
    ("--force", "it only affects `helm install`"),
    ("--force-replace", "it only affects `helm install`"),
    ("--force-conflicts", "it only affects `helm install`"),
    ("--replace", "it only affects `helm install`"),
    ("--take-ownership", "it only affects `helm install`"),
    ("--server-side", "it only affects `helm install`"),
    ("--dry-run", "this tool never contacts a cluster"),
    (
        "--validate",
        "this tool never contacts a cluster; use `tracecat-chart lint` for offline validation",
    ),
    (
        "--disable-openapi-validation",
        "this tool never contacts a cluster",
    ),
    (
        "--repo",
        "chart repositories are not supported; pass a chart folder or .tgz",
    ),
    ("--verify", "provenance verification is not supported"),
    ("--keyring", "provenance verification is not supported"),
    (
        "--post-renderer",
        "run `tracecat-chart` itself as Helm's post-renderer instead",
    ),
    (
        "--post-renderer-args",
        "run `tracecat-chart` itself as Helm's post-renderer instead",
    ),
    (
        "--dependency-update",
        "dependencies are read from charts/; run `helm dependency build` first",
    ),
    ("--devel", "chart repositories are not supported"),
    (
        "--enable-dns",
        "DNS lookups from templates are not supported (output must be deterministic)",
    ),
    (
        "--generate-name",
        "give the release name as the first argument",
    ),
    ("-g", "give the release name as the first argument"),
    (
        "--description",
        "release metadata has no effect on rendering",
    ),
    ("--labels", "release metadata has no effect on rendering"),
    ("-l", "release metadata has no effect on rendering"),
    ("--hide-notes", "notes are never printed by template"),
    (
        "--render-subchart-notes",
        "notes are never printed by template",
    ),
    ("--kube-context", "this tool never contacts a cluster"),
    ("--kubeconfig", "this tool never contacts a cluster"),
    ("--kube-apiserver", "this tool never contacts a cluster"),
    ("--kube-token", "this tool never contacts a cluster"),
    ("--pass-credentials", "chart repositories are not supported"),
    (
        "--skip-crds",
        "it only affects `helm install`; `--include-crds` prints the CRDs",
    ),
    ("--kube-as-user", "this tool never contacts a cluster"),
    ("--kube-as-group", "this tool never contacts a cluster"),
    ("--kube-ca-file", "this tool never contacts a cluster"),
    (
        "--kube-insecure-skip-tls-verify",
        "this tool never contacts a cluster",
    ),
    (
        "--kube-tls-server-name",
        "this tool never contacts a cluster",
    ),
    ("--burst-limit", "this tool never contacts a cluster"),
    ("--qps", "this tool never contacts a cluster"),
    ("--repository-cache", "chart repositories are not supported"),
    (
        "--repository-config",
        "chart repositories are not supported",
    ),
    (
        "--content-cache",
        "`oci://` charts are cached in $TRACECAT_CHART_CACHE",
    ),
    ("--color", "this tool's output is never coloured"),
    ("--colour", "this tool's output is never coloured"),
];

fn refuse_helm_flags(args: &[String]) -> Result<()> {
    // These are `helm template` flags; other commands have their own.
    let command = args.iter().skip(1).find(|a| !a.starts_with('-'));
    if !matches!(
        command.map(String::as_str),
        Some("template") | Some("values")
    ) {
        return Ok(());
    }
    // Only flags before a `--` separator count.
    for a in args.iter().skip(1).take_while(|a| a.as_str() != "--") {
        let flag = a.split('=').next().unwrap_or(a);
        if let Some((f, why)) = REFUSED_FLAGS.iter().find(|(f, _)| *f == flag) {
            return Err(
                Error::usage(format!("the Helm flag {f} is not supported: {why}"))
                    .with_hint("see `tracecat-chart template --help` for the supported flags"),
            );
        }
    }
    Ok(())
}

/// Parses arguments and runs a command; returns the exit status.
pub fn run(args: Vec<String>) -> i32 {
    if let Err(e) = refuse_helm_flags(&args) {
        eprintln!("{e}");
        return e.exit_code();
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let debug = cli.debug;
    let reports_findings = reports_findings(&cli.command);
    let res = match cli.command {
        Command::Template(Lazy(a)) => template::run(a, debug),
        Command::Values(Lazy(a)) => values_cmd::run(a),
        Command::Show(Lazy(a)) => show::run(a),
        Command::Secrets(Lazy(a)) => secrets::run(a),
        Command::Explain(Lazy(a)) => explain::run(a),
        Command::Lint(Lazy(a)) => lint::run(a),
        Command::Diff(Lazy(a)) => diff::run(a),
        Command::PostRender(Lazy(a)) => post_render::run(a),
        Command::Package(Lazy(a)) => oci_cmds::package(a),
        Command::Push(Lazy(a)) => oci_cmds::push(a),
        Command::Pull(Lazy(a)) => oci_cmds::pull(a),
        Command::Registry(Lazy(a)) => oci_cmds::registry(a),
        Command::Completion(Lazy(a)) => completion::run(a),
    };
    match res {
        Ok(code) => code,
        Err(mut e) => {
            use crate::secrets::redact;
            if debug {
                if let Some(d) = &e.debug {
                    println!("{}", redact::rendered(d));
                }
                // The hint that suggests --debug is moot once it is given.
                let shown = e.debug.is_some();
                if let Some(h) = &mut e.hint {
                    if let Some(i) = h.find("; run with --debug") {
                        h.truncate(i);
                        if shown {
                            h.push_str("; the rendered output is on stdout above, secrets masked");
                        }
                    }
                }
            }
            for w in &e.warnings {
                eprintln!("{}", redact::text(w));
            }
            eprintln!("{}", redact::text(&e.to_string()));
            match e.exit_code() {
                FAILED if reports_findings => FAILED_TO_CHECK,
                code => code,
            }
        }
    }
}

/// Exit status of a command that failed (Helm's).
pub const FAILED: i32 = 1;
/// Exit status of `lint`, `diff` and `secrets check` when they could not
/// check at all: 1 is theirs for findings or differences, as in
/// `kubectl diff`, so a CI step can tell the two apart.
pub const FAILED_TO_CHECK: i32 = 3;

/// Whether the command reports findings with exit 1.
fn reports_findings(c: &Command) -> bool {
    match c {
        Command::Lint(_) | Command::Diff(_) => true,
        Command::Secrets(Lazy(a)) => matches!(a.command, secrets::SecretsCommand::Check(_)),
        _ => false,
    }
}

/// Writes `pieces` to stdout one after the other, with as few system calls
/// as the pipe allows and no copy into a buffer, treating a closed pipe as
/// success.
pub fn write_stdout_pieces(pieces: &[&str]) -> Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice> = pieces
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p.as_bytes()))
        .collect();
    let mut rest = &mut slices[..];
    let mut out = std::io::stdout().lock();
    // Stdout's line buffer holds nothing yet; what it would gather is sent
    // as is.
    let written = (|| {
        out.flush()?;
        while !rest.is_empty() {
            // At most IOV_MAX (1024) slices per call on Linux.
            let n = rest.len().min(1024);
            match out.write_vectored(&rest[..n]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(done) => IoSlice::advance_slices(&mut rest, done),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.flush()
    })();
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::stdout(&e)),
    }
}

/// Writes to stdout, treating a closed pipe as success.
pub fn write_stdout(s: &str) -> Result<()> {
    write_stdout_pieces(&[s])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_list_splits_as_helm_splits_it() {
        let ok = |s: &str| csv_list(s).unwrap().0;
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(ok("a.yaml,b.yaml"), ["a.yaml", "b.yaml"]);
        assert_eq!(ok("a.yaml,"), ["a.yaml", ""]);
        assert_eq!(ok("\"a,b.yaml\",\"x\"\"y\""), ["a,b.yaml", "x\"y"]);
        assert_eq!(ok(" a.yaml\nb.yaml"), [" a.yaml"]);
        let err = |s: &str| csv_list(s).unwrap_err();
        assert!(err("a\"b").contains("column 2: bare \""));
        assert!(err("x.yaml,a\"b").contains("column 9: bare \""));
        assert!(err("\"a,b").contains("column 5: extraneous or missing \""));
        assert!(err("\"a\"b").contains("column 3: extraneous"));
        assert!(err("x,\"a\"x").contains("column 5: extraneous"));
    }

    #[test]
    fn the_whole_command_tree_is_consistent() {
        full_command().debug_assert();
    }

    #[test]
    fn lazily_defined_commands_parse_and_keep_their_description() {
        let cli =
            Cli::try_parse_from(["tracecat-chart", "template", "-f", "a.yaml", "--set", "x=1"])
                .unwrap();
        let Command::Template(Lazy(a)) = cli.command else {
            panic!("not template: {:?}", cli.command)
        };
        assert_eq!(a.values.values, vec![CsvList(vec!["a.yaml".into()])]);
        assert_eq!(a.values.set, vec!["x=1"]);
        let mut cmd = <Cli as clap::CommandFactory>::command();
        // nothing defined until needed
        let undefined = cmd.find_subcommand("template").unwrap();
        assert_eq!(undefined.get_arguments().count(), 0);
        cmd.build();
        let template = cmd.find_subcommand("template").unwrap();
        assert_eq!(
            template.get_about().map(|a| a.to_string()),
            Some("Render the chart's manifests (like `helm template`)".to_string())
        );
        assert!(template.get_arguments().any(|a| a.get_id() == "values"));
    }
}
