package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/options"
	"freezer.dev/freezer/freezer_scheduler/scheduler"
)

// agentCapabilities makes the node advertise what its agent runs: the
// agent's own modes, engines and storages where the operator did not set
// supported_*, and the operator's lists minus what the agent cannot do
// where they did. An agent that cannot tell (the Python one) leaves the
// configured lists as they are.
func agentCapabilities(ctx context.Context, r *agentrun.Runner, p *options.Parsed, c scheduler.Capabilities, log *logrus.Entry) scheduler.Capabilities {
	ac, err := r.Capabilities(ctx)
	if err != nil {
		log.WithError(err).Warn("could not ask the agent what it supports; advertising the configured supported_* lists")
		return c
	}
	explicit := func(name string) bool { return p.Values.IsSet(options.GroupCapabilities, name) }
	return mergeCapabilities(c, ac, explicit, log)
}

func mergeCapabilities(c scheduler.Capabilities, ac agentrun.AgentCapabilities, explicit func(string) bool, log *logrus.Entry) scheduler.Capabilities {
	pick := func(name string, configured, agent []string) []string {
		if !explicit(name) {
			return append([]string(nil), agent...)
		}
		var out []string
		for _, v := range configured {
			if contains(agent, v) {
				out = append(out, v)
			} else {
				log.WithField("option", name).WithField("value", v).Warn("the agent does not support this; not advertised")
			}
		}
		return out
	}
	c.Modes = pick("supported_modes", c.Modes, ac.Modes)
	c.Engines = pick("supported_engines", c.Engines, ac.Engines)
	c.Storages = pick("supported_storages", c.Storages, ac.Storages)
	log.WithFields(logrus.Fields{"modes": c.Modes, "engines": c.Engines, "storages": c.Storages}).Info("advertising the agent's capabilities")
	return c
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
