package scheduler

import (
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// A verify action (a scheduled restore drill) is run by a node with the
// default capabilities; an action no agent knows is still ignored.
func TestDefaultCapabilitiesRunVerify(t *testing.T) {
	job := func(action string) apiv2.Job {
		return apiv2.Job{JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": action, "mode": "fs", "storage": "swift"}}}}
	}
	c := DefaultCapabilities()
	if why := c.unsupported(job("verify")); why != "" {
		t.Errorf("verify job ignored: %s", why)
	}
	if why := c.unsupported(job("no-such-action")); why == "" {
		t.Error("unknown action accepted")
	}
}
