package main

import "freezer.dev/freezer/freezer/agent/cli"

// deps wires the engines, codecs and storages of this build into the agent.
func deps() cli.Deps { return cli.DefaultDeps() }
