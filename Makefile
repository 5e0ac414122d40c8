# Build, test, lint and bench tracecat-chart.
CARGO ?= cargo

.PHONY: build peers test test-release lint bench micro-bench fuzz clean schema k8s-schemas install-helm-plugin

# The release binary. On Linux with glibc it links the C runtime statically
# (a static-pie executable: no dynamic loader work at start, and the image
# still has address randomisation). The target is named explicitly so that
# the flags do not reach build scripts and proc-macros. Elsewhere, or without
# glibc's static libraries (libc.a: Debian's libc6-dev, Fedora's
# glibc-static), it is the plain `cargo build --release`, also PIE.
HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_LIBC := $(shell cc -print-file-name=libc.a 2>/dev/null)
ifneq ($(and $(findstring -linux-gnu,$(HOST)),$(findstring /,$(STATIC_LIBC))),)
RELEASE_FLAGS := -C target-feature=+crt-static
BIN := target/$(HOST)/release/tracecat-chart
build:
	RUSTFLAGS="$$RUSTFLAGS $(RELEASE_FLAGS)" $(CARGO) build --release --target $(HOST)
else
BIN := target/release/tracecat-chart
build:
	$(CARGO) build --release
endif

# The interop tests' peers (Helm 3 and 4, kubectl, a registry, htpasswd,
# openssl; the API server where ../shared/kube has it), installed if missing.
peers:
	bash scripts/install-test-peers.sh

test: peers
	$(CARGO) test --all-targets
	$(CARGO) clippy --all-targets -- -D warnings
	$(MAKE) test-release

# The end-to-end tests again, against the release binary when it is linked
# differently from the one `cargo test` builds.
test-release:
ifneq ($(BIN),target/release/tracecat-chart)
	$(MAKE) build
	TRACECAT_CHART_TEST_BIN=$(abspath $(BIN)) $(CARGO) test --test '*'
endif

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

# Whole-process figures side by side with Helm, kubectl and the floor (installs nothing).
bench: build
	TRACECAT_CHART_BIN=$(abspath $(BIN)) python3 scripts/bench.py

# Criterion micro-benchmarks: values YAML, merge, --set, render.
micro-bench:
	$(CARGO) bench --bench core

# Each fuzz target for FUZZ_SECONDS (needs the nightly toolchain and
# `cargo install cargo-fuzz`). Seeds are in fuzz/seeds/TARGET; the growing
# corpus in fuzz/corpus/TARGET; crashes in fuzz/artifacts/TARGET.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= set_parser values_yaml chart_archive render_values post_render schema_fast manifest_head template_gate
fuzz:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && \
		echo "== $$t ($(FUZZ_SECONDS) s)" && \
		$(CARGO) +nightly fuzz run -O $$t corpus/$$t seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=20 || exit 1; \
	done

clean:
	$(CARGO) clean

# Regenerate values/values.schema.json after changing values/values.yaml.
schema:
	python3 scripts/gen-schema.py

# Regenerate the Kubernetes/CRD schemas lint embeds (needs kubernetes-validate).
k8s-schemas:
	python3 scripts/gen-k8s-schemas.py

# Install the Helm 4 post-renderer plugin (needs tracecat-chart on PATH).
install-helm-plugin:
	helm plugin install ./integrations/helm-plugin
