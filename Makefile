# Build, test, lint and bench tracecat-chart.
CARGO ?= cargo

.PHONY: build test lint bench clean schema k8s-schemas install-helm-plugin

build:
	$(CARGO) build --release

test:
	$(CARGO) test --all-targets
	$(CARGO) clippy --all-targets -- -D warnings

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

# Whole-process figures side by side with Helm, kubectl and the floor (installs nothing).
bench: build
	python3 scripts/bench.py

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
