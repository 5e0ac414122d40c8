//! The post-renderer's input parser and patcher on an arbitrary stream, with
//! an overlay that touches every kind of document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::post_render::{self, overlay::Overlay};
use tracecat_chart::values;

fuzz_target!(|data: &[u8]| {
    let overlay_yaml = "scheduling:\n  architecture: arm64\n  tolerations: [{key: k, operator: Exists}]\npodAnnotations: {a: b}\npostRender:\n  commonLabels: {team: fuzz}\n  defaultResources: true\n  imagePullSecrets: [{name: regcred}]\n  imageRegistryRewrite: {docker.io: mirror.example.com}\n";
    let v = values::parse_values_text(overlay_yaml, "overlay.yaml").expect("overlay");
    let (overlay, _) = Overlay::from_values(&v).expect("overlay");
    let _ = post_render::run(data, std::io::sink(), &overlay);
});
