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
    clap_complete::generate(a.shell, &mut cmd, BIN, &mut buf);
    let mut script = String::from_utf8_lossy(&buf).into_owned();
    if a.shell == clap_complete::Shell::Bash {
        script = bash_states_agree(&script);
    }
    super::write_stdout(&script)?;
    Ok(0)
}

const BIN: &str = "tracecat-chart";

/// clap_complete's bash script spells a subcommand's state one way where it
/// walks the words (`tracecat__chart__subcmd__template`) and another in the
/// `case` arms (`tracecat__subcmd__chart__subcmd__template`) when the binary
/// name has a hyphen (clap-rs/clap#6421), so nothing past the command name
/// ever completed. The arms are respelt the way the walk spells them.
fn bash_states_agree(script: &str) -> String {
    let walk = BIN.replace('-', "__");
    let arms = BIN.replace('-', "__subcmd__");
    script.replace(&format!("{arms}__subcmd__"), &format!("{walk}__subcmd__"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bash_state_the_walk_reaches_has_an_arm() {
        let mut cmd = super::super::full_command();
        let mut buf = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, BIN, &mut buf);
        let script = bash_states_agree(&String::from_utf8(buf).unwrap());
        let reached: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\""))
            .map(|l| l.trim_end_matches('"'))
            .filter(|l| !l.is_empty())
            .collect();
        assert!(
            reached.contains(&"tracecat__chart__subcmd__template"),
            "{reached:?}"
        );
        for state in reached {
            assert!(
                script.contains(&format!("\n        {state})")),
                "no arm for {state}"
            );
        }
    }
}
