package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/scheduler"
)

func TestMergeCapabilities(t *testing.T) {
	l := logrus.New()
	l.SetOutput(io.Discard)
	log := logrus.NewEntry(l)
	ac := agentrun.AgentCapabilities{Modes: []string{"fs", "mysql"}, Engines: []string{"tar", "stream"}, Storages: []string{"local", "swift"}}
	conf := scheduler.DefaultCapabilities()
	// Nothing set by the operator: exactly the agent's lists.
	got := mergeCapabilities(conf, ac, func(string) bool { return false }, log)
	if !reflect.DeepEqual(got.Modes, ac.Modes) || !reflect.DeepEqual(got.Engines, ac.Engines) || !reflect.DeepEqual(got.Storages, ac.Storages) {
		t.Errorf("got %+v", got)
	}
	if !reflect.DeepEqual(got.Actions, conf.Actions) {
		t.Errorf("actions changed: %v", got.Actions)
	}
	// Set by the operator: their list, without what the agent cannot do.
	conf.Modes = []string{"mysql", "nova"}
	got = mergeCapabilities(conf, ac, func(n string) bool { return n == "supported_modes" }, log)
	if !reflect.DeepEqual(got.Modes, []string{"mysql"}) || !reflect.DeepEqual(got.Engines, ac.Engines) {
		t.Errorf("got %+v", got)
	}
}
