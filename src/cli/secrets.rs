//! `tracecat-chart secrets generate|check`.

use crate::error::{Error, Kind, Result};
use crate::secrets::{self, Format};
use clap::{Args, Subcommand};
use std::path::Path;

#[derive(Args, Debug)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Generate the four core secrets from the OS random source.
    Generate(GenerateArgs),
    /// Check a Secret manifest, env file or JSON document (values never printed).
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Secret name (manifest and values formats).
    #[arg(long, default_value = "tracecat-secrets")]
    pub name: String,
    /// Namespace of the Secret manifest.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Write to FILE (mode 0600) instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// File to check; `-` or nothing reads stdin.
    pub file: Option<String>,
}

pub fn run(a: SecretsArgs) -> Result<i32> {
    match a.command {
        SecretsCommand::Generate(g) => generate(g),
        SecretsCommand::Check(c) => check(c),
    }
}

fn generate(g: GenerateArgs) -> Result<i32> {
    let s = secrets::generate()?;
    let text = secrets::format(&s, g.format, &g.name, g.namespace.as_deref());
    match g.output {
        None => super::write_stdout(&text)?,
        Some(path) => {
            let p = Path::new(&path);
            if p.exists() && !g.force {
                return Err(Error::new(Kind::Io, format!("{path} already exists"))
                    .with_hint("pass --force to replace it (the old secrets are lost)"));
            }
            crate::fsutil::write_atomic(p, text.as_bytes(), 0o600)?;
            eprintln!("wrote {path} (mode 0600)");
        }
    }
    Ok(0)
}

fn check(c: CheckArgs) -> Result<i32> {
    use std::io::Read;
    let name = c.file.clone().unwrap_or_else(|| "-".into());
    let text = if name == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::io("<stdin>", &e))?;
        s
    } else {
        std::fs::read_to_string(&name).map_err(|e| Error::io(&name, &e))?
    };
    let entries = secrets::parse_any(&text).map_err(|e| {
        let m = format!("{name}: {}", e.message);
        Error::new(Kind::Parse, m)
            .with_hint("give a Secret manifest, an env file (KEY=value) or the JSON document")
    })?;
    let reports = secrets::check(&entries);
    let mut bad = 0;
    for r in &reports {
        match &r.problem {
            None => println!("ok      {}", r.key),
            Some(p) => {
                bad += 1;
                println!("invalid {} {p}", r.key);
            }
        }
    }
    if bad > 0 {
        // Findings, not a failure: exit 1 (see `cli::run`).
        let e = Error::new(Kind::Values, format!("{name}: {bad} of 4 core secrets are missing or malformed"))
            .with_hint("regenerate with `tracecat-chart secrets generate` (rotating dbEncryptionKey makes stored credentials unreadable)");
        eprintln!("{e}");
        return Ok(1);
    }
    Ok(0)
}
