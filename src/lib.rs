//! tracecat-chart: a Helm-compatible renderer for the Tracecat chart.
//!
//! The pipeline, in the order a value travels: [`values`] builds `.Values`
//! from chart defaults and user input, [`chart`] loads charts and resolves
//! subcharts, [`render`] runs the templates and [`output`] frames the
//! manifests the way `helm template` prints them (and writes apply phases).
//! [`cli`] wires commands.

#![forbid(unsafe_code)]

pub mod chart;
pub mod cli;
pub mod diff;
pub mod error;
pub mod explain;
pub mod fsutil;
pub mod http;
pub mod kube;
pub mod lint;
pub mod names;
pub mod oci;
pub mod output;
pub mod post_render;
pub mod release;
pub mod render;
pub mod secrets;
pub mod values;
pub mod version;

pub use error::{Error, Result};

/// The chart files compiled into the binary.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
