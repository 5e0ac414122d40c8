//! `tracecat-chart completion SHELL`.

use crate::error::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

pub fn run(a: CompletionArgs) -> Result<i32> {
    let mut cmd = super::full_command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "tracecat-chart", &mut buf);
    super::write_stdout(&String::from_utf8_lossy(&buf))?;
    Ok(0)
}
