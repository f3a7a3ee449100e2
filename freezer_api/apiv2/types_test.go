package apiv2

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFreezerActionKeepsUnknownKeys(t *testing.T) {
	in := `{"action_id":"a1","freezer_action":{"action":"backup","mode":"fs","storage":"swift","engine_name":"tar","x_custom":{"k":[1,2]},"max_level":"3","no_incremental":"True"},"max_retries":2}`
	var a Action
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if a.FreezerAction.Action() != "backup" || a.FreezerAction.Mode() != "fs" || a.FreezerAction.Storage() != "swift" || a.FreezerAction.Engine() != "tar" {
		t.Fatalf("accessors: %+v", a.FreezerAction)
	}
	if v, ok := a.FreezerAction.Int("max_level"); !ok || v != 3 {
		t.Fatalf("Int(max_level) = %d %v", v, ok)
	}
	if v, ok := a.FreezerAction.Bool("no_incremental"); !ok || !v {
		t.Fatalf("Bool(no_incremental) = %v %v", v, ok)
	}
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back, orig map[string]any
	_ = json.Unmarshal(out, &back)
	_ = json.Unmarshal([]byte(in), &orig)
	if !reflect.DeepEqual(back, orig) {
		t.Fatalf("round trip changed the document:\n in %v\nout %v", orig, back)
	}
}

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int64{`3`: 3, `"7"`: 7, `null`: 0, `""`: 0, `-1`: -1, `2.0`: 2} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err != nil || int64(n) != want {
			t.Errorf("%s -> %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{`"x"`, `1.5`, `true`, `{}`} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("%s accepted as %d", in, n)
		}
	}
}

func TestSessionStartFromCLI(t *testing.T) {
	var a SessionAction
	if err := json.Unmarshal([]byte(`{"start":{"job_id":"j","current_tag":"4"}}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.Start == nil || a.Start.JobID != "j" || a.Start.CurrentTag != 4 || a.End != nil {
		t.Fatalf("%+v", a)
	}
}

func TestJobEventBody(t *testing.T) {
	b, _ := json.Marshal(NewJobEvent(EventStop))
	if string(b) != `{"stop":null}` {
		t.Fatalf("%s", b)
	}
}
