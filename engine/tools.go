//go:build tools

// Package engine pins the Pulumi CLI that scripts/engine.sh builds when no
// fitting `pulumi` is on PATH. Its version must equal @pulumi/pulumi in
// package-lock.json; scripts/engine.sh refuses to build when they differ.
package engine

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
