#!/usr/bin/env bash
# The Pulumi CLI version the project pins (@pulumi/pulumi in package-lock.json), as the step output
# `version`, for pulumi/actions to install.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
version=$(jq -r '.packages["node_modules/@pulumi/pulumi"].version' package-lock.json)
echo "pulumi $version"
step_output version "$version"
