package scheduler

import (
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// An agent's modes and engines beyond upstream's schema (postgresql,
// stream) run jobs here but are left out of the registration, which
// upstream's API would refuse.
func TestCapabilitiesBeyondTheSchema(t *testing.T) {
	api := newFakeAPI()
	l := logrus.New()
	l.SetOutput(io.Discard)
	caps := Capabilities{Actions: apiv2.SupportedActions(), Modes: []string{"fs", "mysql", "postgresql"},
		Storages: []string{"local"}, Engines: []string{"tar", "stream"}}
	s := &Scheduler{cfg: Config{ClientID: "c", Hostname: "h", Capabilities: caps}, api: api, log: logrus.NewEntry(l)}
	s.register(context.Background())
	if !reflect.DeepEqual(api.registered.SupportedModes, []string{"fs", "mysql"}) ||
		!reflect.DeepEqual(api.registered.SupportedEngines, []string{"tar"}) {
		t.Errorf("registered %+v", api.registered)
	}
	job := apiv2.Job{JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "postgresql", "engine_name": "stream", "storage": "local"}}}}
	if why := caps.unsupported(job); why != "" {
		t.Errorf("a postgresql job is refused: %s", why)
	}
	job.JobActions[0].FreezerAction["mode"] = "nova"
	if why := caps.unsupported(job); why == "" {
		t.Error("a nova job is accepted")
	}
}
