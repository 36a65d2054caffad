#!/usr/bin/env bash
# Installs the tools `make vet` and `make test` run into bin/tools, from the Go
# module proxy, at pinned versions (a no-op when they are there already).
#   workflowcheck: the Temporal SDK's determinism analyzer for workflow code.
#   golangci-lint: the linters of .golangci.yml (errcheck, govet, staticcheck,
#                  revive, funlen, ...). Built from source through the module
#                  proxy (a few minutes, once): no release download is reachable.
#   helm:          lints and renders deploy/helm/hookd for deploy/helm's test
#                  (offline). Built from source too: ~20 minutes on 2 cores, once.
# With arguments, only the tools named: `bash scripts/tools.sh helm`.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/bin/tools
WORKFLOWCHECK_VERSION=v0.6.0
GOLANGCI_LINT_VERSION=v2.15.0
HELM_VERSION=v4.3.2

mkdir -p "$TOOLS"
want() { [ $# -eq 0 ] || [[ " $* " == *" $WANT "* ]]; }
have() { [ -x "$TOOLS/$1" ] && go version -m "$TOOLS/$1" 2>/dev/null | grep -q "$2"; }
WANT=workflowcheck
if want "$@" && ! have workflowcheck "go.temporal.io/sdk/contrib/tools/workflowcheck[[:space:]]*$WORKFLOWCHECK_VERSION"; then
  echo "tools: installing workflowcheck $WORKFLOWCHECK_VERSION"
  GOBIN=$TOOLS go install "go.temporal.io/sdk/contrib/tools/workflowcheck@$WORKFLOWCHECK_VERSION"
fi
WANT=golangci-lint
if want "$@" && ! have golangci-lint "github.com/golangci/golangci-lint/v2[[:space:]]*$GOLANGCI_LINT_VERSION"; then
  echo "tools: installing golangci-lint $GOLANGCI_LINT_VERSION (builds from source; a few minutes the first time)"
  GOBIN=$TOOLS go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
WANT=helm
if want "$@" && ! have helm "helm.sh/helm/v4[[:space:]]*$HELM_VERSION"; then
  echo "tools: installing helm $HELM_VERSION (builds from source; ~20 minutes the first time)"
  GOBIN=$TOOLS go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
fi
