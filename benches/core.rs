//! Micro-benchmarks of the render pipeline's stages: reading values YAML,
//! merging values into the chart's defaults, the `--set` parser, and the
//! render of the embedded chart. Run with `cargo bench` (figures only; no
//! test asserts on time).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tracecat_chart::chart::{self, dependencies};
use tracecat_chart::release::{self, Request};
use tracecat_chart::values::{self, merge::Warnings, set, Sources};

const QUICKSTART: &str = include_str!("../values/examples/quickstart.yaml");
const DEFAULTS: &str = include_str!("../values/values.yaml");

fn quickstart_request() -> Request {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/values/examples/quickstart.yaml"
    );
    Request {
        values: Sources {
            files: vec![path.to_string()],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn yaml(c: &mut Criterion) {
    c.bench_function("yaml: parse the chart's values.yaml", |b| {
        b.iter(|| values::parse_values_text(black_box(DEFAULTS), "values.yaml").unwrap())
    });
}

fn merge(c: &mut Criterion) {
    let base = chart::embedded().unwrap();
    let user = values::parse_values_text(QUICKSTART, "quickstart.yaml").unwrap();
    c.bench_function(
        "merge: quickstart values into the chart tree's defaults",
        |b| {
            b.iter_batched(
                || (base.clone(), user.clone()),
                |(mut ch, u)| {
                    dependencies::compute_values(&mut ch, u, &mut Warnings::default()).unwrap()
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
}

fn set_parser(c: &mut Criterion) {
    let flags = [
        "tracecat.auth.superadminEmail=admin@example.com",
        "api.replicas=3,worker.replicas=4,executor.replicas=2",
        "ingress.hosts[0].host=tracecat.example.com,ingress.hosts[0].paths[0]=/",
        "podAnnotations.team\\.example\\.com/owner=platform",
        "a.b.c.d.e.f=1,list={x,y,z},n=null",
    ];
    c.bench_function("--set: five flags typical of a CI job", |b| {
        b.iter(|| {
            let mut m = values::Map::new();
            for f in flags {
                set::parse_set(black_box(f), &mut m).unwrap();
            }
            m
        })
    });
}

fn render(c: &mut Criterion) {
    let req = quickstart_request();
    let mut g = c.benchmark_group("render");
    g.sample_size(30);
    g.bench_function(
        "embedded chart, quickstart values (load, validate, render, sort)",
        |b| b.iter(|| release::template(black_box(&req)).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, yaml, merge, set_parser, render);
criterion_main!(benches);
