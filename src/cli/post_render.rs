//! `tracecat-chart post-render`: Helm post-renderer (Helm 3 `--post-renderer`
//! binary, or the Helm 4 plugin in integrations/helm-plugin).

use super::ValuesFlags;
use crate::error::{Error, Kind, Result};
use crate::post_render::{self, overlay::Overlay};
use clap::Args;

#[derive(Args, Debug)]
pub struct PostRenderArgs {
    #[command(flatten)]
    pub values: ValuesFlags,
}

pub fn run(a: PostRenderArgs) -> Result<i32> {
    let user = crate::release::user_values(&a.values.sources(), &mut Default::default())?;
    let (overlay, warnings) = Overlay::from_values(&user).map_err(|e| {
        Error::new(Kind::Values, e)
            .with_hint("the overlay's settings are under scheduling, podAnnotations and postRender (README: As a Helm post-renderer)")
    })?;
    for w in warnings {
        eprintln!("{w}");
    }
    let stdin = std::io::stdin().lock();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    post_render::run(stdin, stdout, &overlay)?;
    Ok(0)
}
