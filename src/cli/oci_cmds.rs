//! `package`, `push`, `pull` and `registry login|logout`.

use super::RegistryFlags;
use crate::error::{Error, Kind, Result};
use crate::oci;
use clap::{Args, Subcommand};
use std::path::Path;

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Chart folder (default: the embedded Tracecat chart).
    pub chart: Option<String>,
    /// Folder to write NAME-VERSION.tgz into.
    #[arg(short = 'd', long = "destination", default_value = ".")]
    pub destination: String,
}

pub fn package(a: PackageArgs) -> Result<i32> {
    let mut chart = crate::chart::load(a.chart.as_deref())?;
    oci::package::mark_for_this_tool(&mut chart);
    let (name, bytes) = oci::package::archive(&chart)?;
    let path = Path::new(&a.destination).join(&name);
    if !Path::new(&a.destination).is_dir() {
        return Err(Error::new(
            Kind::Io,
            format!("{}: no such folder", a.destination),
        ));
    }
    crate::fsutil::write_atomic(&path, &bytes, 0o644)?;
    super::write_stdout(&format!(
        "Successfully packaged chart and saved it to: {}\n",
        path.display()
    ))?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// A chart archive (.tgz) or a chart folder (packaged on the fly).
    pub chart: String,
    /// oci://HOST/PATH to push to (the chart name is appended, as Helm does).
    pub remote: String,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

fn mtime_secs(p: &Path) -> Option<u64> {
    std::fs::metadata(p)
        .ok()?
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

pub fn push(a: PushArgs) -> Result<i32> {
    let p = Path::new(&a.chart);
    let (bytes, created) = if p.is_dir() {
        let mut chart = crate::chart::load_dir(p)?;
        oci::package::mark_for_this_tool(&mut chart);
        let (_, bytes) = oci::package::archive(&chart)?;
        let now = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            });
        (bytes, now)
    } else {
        let bytes = std::fs::read(p).map_err(|e| Error::io(&a.chart, &e))?;
        // Helm stamps `created` with the archive's modification time.
        (bytes, mtime_secs(p).unwrap_or(0))
    };
    let opts = a.registry.options()?;
    let (reference, digest) = oci::push(&bytes, &oci::package::rfc3339(created), &a.remote, &opts)?;
    super::write_stdout(&format!("Pushed: {reference}\nDigest: {digest}\n"))?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// oci://HOST/PATH/NAME[:TAG|@sha256:DIGEST]. A pinned version or a
    /// digest already in the local cache is used without contacting the
    /// registry (nor checking credentials).
    pub chart: String,
    /// Folder to write into.
    #[arg(short = 'd', long = "destination", default_value = ".")]
    pub destination: String,
    /// Unpack the chart instead of keeping the archive.
    #[arg(long)]
    pub untar: bool,
    /// With --untar: a sub-folder of the destination to unpack into.
    #[arg(long = "untardir", default_value = ".")]
    pub untardir: String,
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// Chart version or semver range (oci:// charts).
    #[arg(long = "version")]
    pub version: Option<String>,
}

pub fn pull(a: PullArgs) -> Result<i32> {
    let opts = a.registry.options()?;
    let pulled = oci::pull(&a.chart, a.version.as_deref(), &opts)?;
    let dest = Path::new(&a.destination);
    if a.untar {
        let files = crate::chart::archive::read_tgz(&pulled.archive, &a.chart)?;
        let chart = crate::chart::Chart::from_files(files.clone(), &a.chart)?;
        let target = dest.join(&a.untardir).join(chart.name());
        if target.exists() {
            return Err(
                Error::new(Kind::Io, format!("{}: already exists", target.display()))
                    .with_hint("remove it, or pick another --untardir"),
            );
        }
        // Unpack beside the target, then rename: no half-written chart folder.
        let parent = target.parent().unwrap_or(dest);
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(&parent.display().to_string(), &e))?;
        let tmp = parent.join(format!(".{}.tmp-{}", chart.name(), std::process::id()));
        let res = (|| -> Result<()> {
            for (rel, data) in &files {
                let p = tmp.join(rel);
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d)
                        .map_err(|e| Error::io(&d.display().to_string(), &e))?;
                }
                std::fs::write(&p, data).map_err(|e| Error::io(&p.display().to_string(), &e))?;
            }
            std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target.display().to_string(), &e))
        })();
        if res.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        res?;
    } else {
        if !dest.is_dir() {
            return Err(
                Error::new(Kind::Io, format!("{}: no such folder", dest.display()))
                    .with_hint("create it first, or use --untar"),
            );
        }
        let path = dest.join(oci::archive_file_name(&pulled));
        crate::fsutil::write_atomic(&path, &pulled.archive, 0o644)?;
    }
    for line in pulled.report() {
        eprintln!("{line}");
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Log in to a registry (writes Helm's registry config, which Helm reads too).
    Login(LoginArgs),
    /// Remove a registry login.
    Logout(LogoutArgs),
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// HOST[:PORT]
    pub host: String,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// HOST[:PORT] whose login to remove from Helm's registry config.
    pub host: String,
    /// Path to Helm's registry config.
    #[arg(long = "registry-config")]
    pub registry_config: Option<String>,
}

pub fn registry(a: RegistryArgs) -> Result<i32> {
    match a.command {
        RegistryCommand::Login(l) => {
            let opts = l.registry.options()?;
            let (Some(user), Some(pass)) = (opts.username.clone(), opts.password.clone()) else {
                return Err(Error::usage(
                    "registry login needs --username and --password-stdin (or --password)",
                ));
            };
            oci::login_check(&l.host, &opts)?;
            oci::creds::store(&l.host, &user, &pass, opts.registry_config.as_deref())?;
            eprintln!("Login Succeeded");
            Ok(0)
        }
        RegistryCommand::Logout(l) => {
            if oci::creds::remove(&l.host, l.registry_config.as_deref())? {
                eprintln!("Removing login credentials for {}", l.host);
                Ok(0)
            } else {
                Err(Error::new(
                    Kind::Usage,
                    format!("not logged in to {}", l.host),
                ))
            }
        }
    }
}
