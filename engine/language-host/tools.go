//go:build tools

// The Node.js language host and the policy-pack analyzer shim, from the newest version of Pulumi's Go SDK
// module that still contains them (later versions moved the host into a module the proxy does not serve).
// Kept apart from ../go.mod: the CLI's pkg/v3 v3.260.0 cannot share a module graph with sdk/v3 v3.68.0.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
