#!/usr/bin/env bash
# Installs the checkers `make vet` runs into bin/tools, from the Go module
# proxy, at pinned versions (a no-op when they are there already).
#   workflowcheck: the Temporal SDK's determinism analyzer for workflow code.
#   golangci-lint: the linters of .golangci.yml (errcheck, govet, staticcheck,
#                  revive, funlen, ...). Built from source through the module
#                  proxy (a few minutes, once): no release download is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/bin/tools
WORKFLOWCHECK_VERSION=v0.6.0
GOLANGCI_LINT_VERSION=v2.15.0

mkdir -p "$TOOLS"
have() { [ -x "$TOOLS/$1" ] && go version -m "$TOOLS/$1" 2>/dev/null | grep -q "$2"; }
if ! have workflowcheck "go.temporal.io/sdk/contrib/tools/workflowcheck[[:space:]]*$WORKFLOWCHECK_VERSION"; then
  echo "tools: installing workflowcheck $WORKFLOWCHECK_VERSION"
  GOBIN=$TOOLS go install "go.temporal.io/sdk/contrib/tools/workflowcheck@$WORKFLOWCHECK_VERSION"
fi
if ! have golangci-lint "github.com/golangci/golangci-lint/v2[[:space:]]*$GOLANGCI_LINT_VERSION"; then
  echo "tools: installing golangci-lint $GOLANGCI_LINT_VERSION (builds from source; a few minutes the first time)"
  GOBIN=$TOOLS go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
