//! Chart archives on arbitrary bytes: read as .tgz, then loaded as a chart.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::chart::{archive, Chart};

fuzz_target!(|data: &[u8]| {
    if let Ok(files) = archive::read_tgz(data, "fuzz.tgz") {
        let _ = Chart::from_files(files, "fuzz.tgz");
    }
});
