#!/usr/bin/env bash
# Builds the local Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl), etcd and helm from Go modules through the Go module proxy.
#
# Binaries land in $VIDEODL_CACHE/bin/<key>, where <key> names every pinned version, and
# are built only when missing. Prints the directory on its last line of stdout.
# kube-score (the chart's static checks) has a cache key of its own and is linked in there.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
HELM_VERSION=${HELM_VERSION:-v3.19.5}

CACHE=${VIDEODL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/videodl}
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_helm-${HELM_VERSION}"
BIN="$CACHE/bin/$KEY"
WANT=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd helm)

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

say() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- kstatus: hack/kstatus, sigs.k8s.io/cli-utils's status.Compute as a command ------------
# Built from the project's own source (its go.mod pins cli-utils), into $BIN/kstatus, and
# again whenever that source changes: $BIN/kstatus.key holds the hash it was built from.
KSTATUS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kstatus"
kstatus_key() { cat "$KSTATUS_SRC/go.mod" "$KSTATUS_SRC/go.sum" "$KSTATUS_SRC"/*.go | sha256sum | cut -c1-16; }
build_kstatus() {
  local key; key=$(kstatus_key)
  [[ -x "$BIN/kstatus" && "$(cat "$BIN/kstatus.key" 2>/dev/null)" == "$key" ]] && return 0
  command -v go >/dev/null || { say "no 'go' on PATH: install Go 1.24 or newer"; exit 1; }
  say "building kstatus (sigs.k8s.io/cli-utils, $KSTATUS_SRC) into $BIN"
  mkdir -p "$BIN"
  (cd "$KSTATUS_SRC" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$BIN/kstatus" . >&2) || {
    say "build of kstatus failed: its modules come from the Go module proxy ($(go env GOPROXY))"
    exit 1
  }
  echo "$key" > "$BIN/kstatus.key"
}

build_kstatus  # cheap when current; see above

# --- kube-score: github.com/zegl/kube-score, a static checker of Kubernetes objects ---------
# `go install` of its module at KUBE_SCORE_VERSION into a directory of its own, keyed by that
# version (a new version builds nothing else); $BIN/kube-score links to it.
KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}
build_kube_score() {
  local dir="$CACHE/bin/kube-score-$KUBE_SCORE_VERSION"
  if [[ ! -x "$dir/kube-score" ]]; then
    command -v go >/dev/null || { say "no 'go' on PATH: install Go 1.24 or newer"; exit 1; }
    say "building kube-score $KUBE_SCORE_VERSION into $dir"
    mkdir -p "$dir"
    GOBIN="$dir" go install -trimpath -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION" \
        "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2 || {
      say "build of kube-score failed: its modules come from the Go module proxy ($(go env GOPROXY))"
      exit 1
    }
  fi
  mkdir -p "$BIN"
  [[ "$BIN/kube-score" -ef "$dir/kube-score" ]] || ln -sfn "../kube-score-$KUBE_SCORE_VERSION/kube-score" "$BIN/kube-score"
}

build_kube_score  # cheap when built; see above

# --- versitygw: github.com/versity/versitygw, an S3 gateway (posix backend) for tests and the demo
# Same pattern as kube-score: `go install` at VERSITYGW_VERSION into a directory of its own.
VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
build_versitygw() {
  local dir="$CACHE/bin/versitygw-$VERSITYGW_VERSION"
  if [[ ! -x "$dir/versitygw" ]]; then
    command -v go >/dev/null || { say "no 'go' on PATH: install Go 1.24 or newer"; exit 1; }
    say "building versitygw $VERSITYGW_VERSION into $dir"
    mkdir -p "$dir"
    GOBIN="$dir" go install -trimpath -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION" \
        "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2 || {
      say "build of versitygw failed: its modules come from the Go module proxy ($(go env GOPROXY))"
      exit 1
    }
  fi
  mkdir -p "$BIN"
  [[ "$BIN/versitygw" -ef "$dir/versitygw" ]] || ln -sfn "../versitygw-$VERSITYGW_VERSION/versitygw" "$BIN/versitygw"
}

build_versitygw  # cheap when built; see above

missing=()
for b in "${WANT[@]}"; do [[ -x "$BIN/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { say "no 'go' on PATH: install Go 1.24 or newer"; exit 1; }
say "building ${missing[*]} into $BIN (first run only; expect 20-40 minutes on 2 cores)"
started=$(date +%s)
mkdir -p "$BIN" "$CACHE/src"

# Counts compiled packages from `go build -v` so a long build shows it is moving.
progress() {
  awk -v what="$1" '{ n++; if (n % 100 == 0) { printf "[build] %s: %d packages compiled\n", what, n > "/dev/stderr"; fflush("/dev/stderr") } }
                    END { printf "[build] %s: %d packages compiled\n", what, n > "/dev/stderr" }'
}

proxy_fail() {
  say "cannot fetch $1 from the Go module proxy ($(go env GOPROXY))."
  say "check network access to the proxy, or set GOPROXY to a reachable mirror."
  exit 1
}

fetch_mod() {  # prints the path of the downloaded go.mod of module@version
  local json
  json=$(cd "$CACHE/src" && go mod download -json "$1" 2>&1) || { echo "$json" >&2; proxy_fail "$1"; }
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}

wrapper() {  # a throwaway main module that pins one upstream module
  local dir="$CACHE/src/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  printf 'module local/%s\n\ngo %s\n' "$1" "$2" > "$dir/go.mod"
  echo "$dir"
}

needs() { local b; for b in "$@"; do [[ " ${missing[*]} " == *" $b "* ]] && return 0; done; return 1; }

if needs kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  say "resolving k8s.io/kubernetes@$K8S_VERSION"
  kmod=$(fetch_mod "k8s.io/kubernetes@$K8S_VERSION")
  gov=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod")
  dir=$(wrapper k8s "$gov")
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$kmod")
  say "routing $(wc -w <<<"$staging") staging modules to v0.${K8S_VERSION#v1.}"
  for m in $staging; do (cd "$dir" && go mod edit -replace="$m=$m@v0.${K8S_VERSION#v1.}"); done
  say "downloading modules"
  (cd "$dir" && go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null 2>"$dir/get.log") || { cat "$dir/get.log" >&2; proxy_fail "k8s.io/kubernetes dependencies"; }
  minor=$(cut -d. -f2 <<<"$K8S_VERSION")
  v="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  say "compiling kube-apiserver kube-controller-manager kube-scheduler kubectl"
  (cd "$dir" && go build -v -trimpath -tags selinux,notest \
      -ldflags "-s -w $v ${v//component-base\/version/client-go\/pkg\/version}" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl 2>&1) | progress kubernetes
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$BIN/$b" ]] || { say "build of $b failed"; exit 1; }
  done
fi

if needs etcd; then
  say "resolving go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  emod=$(fetch_mod "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  dir=$(wrapper etcd "$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$emod")")
  (cd "$dir" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>"$dir/get.log") || { cat "$dir/get.log" >&2; proxy_fail etcd; }
  say "compiling etcd"
  (cd "$dir" && go build -v -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
      -o "$BIN/etcd" go.etcd.io/etcd/server/v3 2>&1) | progress etcd
  [[ -x "$BIN/etcd" ]] || { say "build of etcd failed"; exit 1; }
fi

if needs helm; then
  say "resolving helm.sh/helm/v3@$HELM_VERSION"
  hmod=$(fetch_mod "helm.sh/helm/v3@$HELM_VERSION")
  dir=$(wrapper helm "$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$hmod")")
  (cd "$dir" && go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null 2>"$dir/get.log") || { cat "$dir/get.log" >&2; proxy_fail helm; }
  # Offline `helm template` and `helm lint` take the Kubernetes version from these symbols.
  minor=$(cut -d. -f2 <<<"$K8S_VERSION")
  hv="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in pkg/chartutil pkg/lint/rules; do hv+=" -X helm.sh/helm/v3/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/$p.k8sVersionMinor=$minor"; done
  say "compiling helm"
  (cd "$dir" && go build -v -trimpath -ldflags "-s -w $hv" -o "$BIN/helm" helm.sh/helm/v3/cmd/helm 2>&1) | progress helm
  [[ -x "$BIN/helm" ]] || { say "build of helm failed"; exit 1; }
fi


say "done in $(( $(date +%s) - started )) s; cache uses $(du -sh "$CACHE" | cut -f1) (plus Go's module and build caches)"
echo "$BIN"
