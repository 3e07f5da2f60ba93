// The `pulumi-language-nodejs` the engine starts: the pinned Node.js language host (built beside this file's
// binary as pulumi-language-nodejs-host), given the project's `runtime.options` as the flags it reads them from.
// That host (SDK v3.68.0) takes typescript, nodeargs and tsconfig only as flags; today's CLI sends them over
// gRPC instead, which the old host ignores, so without this Pulumi.yaml's options would silently do nothing
// (a `typescript: false` project would still be run through ts-node).
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"gopkg.in/yaml.v3"
)

// The options the pinned host knows, in the order it documents them.
var hostOptions = []string{"typescript", "nodeargs", "tsconfig"}

func main() {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	host := filepath.Join(filepath.Dir(self), "pulumi-language-nodejs-host")
	flags, err := optionFlags()
	if err != nil {
		fail(err)
	}
	argv := append(append([]string{host}, flags...), os.Args[1:]...)
	fail(syscall.Exec(host, argv, os.Environ()))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}

// optionFlags reads runtime.options from the Pulumi.yaml of the project the engine started the host in (its
// working directory, or the nearest directory above with one) and returns them as the host's flags.
func optionFlags() ([]string, error) {
	path, err := projectFile()
	if err != nil || path == "" {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var project struct {
		Runtime yaml.Node `yaml:"runtime"`
	}
	if err := yaml.Unmarshal(data, &project); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// `runtime: nodejs` has no options; only the long form `runtime: {name, options}` does.
	if project.Runtime.Kind != yaml.MappingNode {
		return nil, nil
	}
	var runtime struct {
		Options map[string]any `yaml:"options"`
	}
	if err := project.Runtime.Decode(&runtime); err != nil {
		return nil, fmt.Errorf("%s: runtime: %w", path, err)
	}
	var flags []string
	for _, name := range hostOptions {
		if value, ok := runtime.Options[name]; ok {
			flags = append(flags, fmt.Sprintf("-%s=%v", name, value))
		}
	}
	return flags, nil
}

// projectFile is the Pulumi.yaml (or Pulumi.yml) of the working directory or of the nearest directory above.
func projectFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, name := range []string{"Pulumi.yaml", "Pulumi.yml"} {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}
