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

// A schedule is encoded with the keys it was decoded with: event, status
// and result only when set or sent (even empty), never added empty.
func TestJobScheduleKeepsItsKeys(t *testing.T) {
	for in, want := range map[string]string{
		`{"schedule_interval":"1 days"}`:                    `{"schedule_interval":"1 days"}`,
		`{"event":"","status":"<s>"}`:                       `{"event":"","status":"<s>"}`,
		`{"result":"","time_created":5}`:                    `{"time_created":5,"result":""}`,
		`{"event":"start","status":"running","result":"x"}`: `{"event":"start","status":"running","result":"x"}`,
		`{}`: `{}`,
	} {
		var js JobSchedule
		if err := json.Unmarshal([]byte(in), &js); err != nil {
			t.Fatal(err)
		}
		out, err := Marshal(js)
		if err != nil || string(out) != want {
			t.Errorf("%s -> %s, %v; want %s", in, out, err, want)
		}
	}
	// Set in code: encoded when not empty; KeepStateKeys adds the empty ones.
	js := JobSchedule{Status: "scheduled"}
	if out, _ := Marshal(js); string(out) != `{"status":"scheduled"}` {
		t.Errorf("set status: %s", out)
	}
	if out, _ := Marshal(js.KeepStateKeys()); string(out) != `{"event":"","status":"scheduled","result":""}` {
		t.Errorf("kept: %s", out)
	}
	var sent JobSchedule
	_ = json.Unmarshal([]byte(`{"event":"stop"}`), &sent)
	if out, _ := Marshal(JobSchedule{ScheduleInterval: "1 days"}.WithStateOf(sent)); string(out) != `{"event":"stop","schedule_interval":"1 days"}` {
		t.Errorf("WithStateOf: %s", out)
	}
}

// scheduleJSON is JobSchedule's encoding: the same fields, names and
// JSON keys in the same order, so a field added to one and not the other
// is caught here rather than silently dropped.
func TestScheduleJSONMirrorsJobSchedule(t *testing.T) {
	a, b := reflect.TypeFor[JobSchedule](), reflect.TypeFor[scheduleJSON]()
	var exported []reflect.StructField
	for i := range a.NumField() {
		if f := a.Field(i); f.IsExported() {
			exported = append(exported, f)
		}
	}
	if len(exported) != b.NumField() {
		t.Fatalf("JobSchedule has %d exported fields, scheduleJSON %d", len(exported), b.NumField())
	}
	for i, f := range exported {
		g := b.Field(i)
		if f.Name != g.Name || f.Tag.Get("json") != g.Tag.Get("json") {
			t.Errorf("field %d: %s %q vs %s %q", i, f.Name, f.Tag.Get("json"), g.Name, g.Tag.Get("json"))
		}
	}
}
