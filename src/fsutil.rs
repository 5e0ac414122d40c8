//! File writes that never leave a half-written file or tree behind.

use crate::error::{Error, Result};
use std::path::Path;

/// Writes a file atomically: a temporary file in the same folder, then rename.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(&dir.display().to_string(), &e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let res = (|| -> std::io::Result<()> {
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create(true).truncate(true);
        // Created with the final mode, so a secret is never readable by others.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, mode);
        let mut f = open.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&path.display().to_string(), &e));
    }
    Ok(())
}

/// Creates `dir` and any missing parents with mode 0700. Returns the
/// outermost folder it created, for [`write_tree`] to remove on failure.
fn create_private_dirs(dir: &Path) -> std::io::Result<Option<std::path::PathBuf>> {
    let mut missing = None;
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing = Some(d.to_path_buf());
        at = d.parent();
    }
    if missing.is_some() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    Ok(missing)
}

/// Writes a set of files under `root` (relative path, content, mode) as one
/// step: every file goes to a temporary name first, and only once all are
/// written are they renamed into place. A failure (a full disk) removes the
/// temporary files and the folders this call created, so no partial tree
/// is left. Folders it creates are 0700: the files may hold secrets.
pub fn write_tree(root: &Path, files: &[(String, Vec<u8>, u32)]) -> Result<()> {
    use std::io::Write;
    let mut created: Vec<std::path::PathBuf> = Vec::new();
    let mut staged: Vec<(std::path::PathBuf, std::path::PathBuf)> = Vec::new();
    let res = (|| -> std::result::Result<(), (std::path::PathBuf, std::io::Error)> {
        for (rel, data, mode) in files {
            let path = root.join(rel);
            let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            if let Some(top) = create_private_dirs(&dir).map_err(|e| (dir.clone(), e))? {
                created.push(top);
            }
            let name = path.file_name().map(|f| f.to_string_lossy().into_owned());
            let tmp = dir.join(format!(
                ".{}.tmp-{}",
                name.unwrap_or_default(),
                std::process::id()
            ));
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, *mode);
            let mut f = open.open(&tmp).map_err(|e| (path.clone(), e))?;
            staged.push((tmp, path.clone()));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(*mode))
                    .map_err(|e| (path.clone(), e))?;
            }
            f.write_all(data)
                .and_then(|()| f.sync_all())
                .map_err(|e| (path.clone(), e))?;
        }
        for (tmp, path) in &staged {
            std::fs::rename(tmp, path).map_err(|e| (path.clone(), e))?;
        }
        Ok(())
    })();
    if let Err((path, e)) = res {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        for d in created.iter().rev() {
            let _ = std::fs::remove_dir_all(d);
        }
        return Err(Error::io(&path.display().to_string(), &e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_tree_is_private_and_whole_or_absent() {
        let base = std::env::temp_dir().join(format!("fsutil-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("out");
        let files = vec![
            ("a/x.yaml".to_string(), b"x".to_vec(), 0o600),
            ("b/c/y.yaml".to_string(), b"y".to_vec(), 0o600),
            ("run.sh".to_string(), b"#!/bin/sh\n".to_vec(), 0o700),
        ];
        write_tree(&root, &files).unwrap();
        let mode = |p: &str| {
            std::fs::metadata(root.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("a/x.yaml"), 0o600);
        assert_eq!(mode("run.sh"), 0o700);
        assert_eq!(
            std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(mode("b/c"), 0o700);
        // A file that cannot be written (its folder's place is taken by a
        // file) undoes the folders made and the files staged before it.
        let root2 = base.join("out2");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("blocker"), "").unwrap();
        let bad = vec![
            ("a/x.yaml".to_string(), b"x".to_vec(), 0o600),
            ("../blocker/y.yaml".to_string(), b"y".to_vec(), 0o600),
        ];
        assert!(write_tree(&root2, &bad).is_err());
        assert!(!root2.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
