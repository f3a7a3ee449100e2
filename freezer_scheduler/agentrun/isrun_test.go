//go:build unix

package agentrun

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Right after Start a new scheduler must already recognise the run: the
// kernel may show an empty cmdline for a moment after exec.
func TestFakeAgentIsRunRightAfterStart(t *testing.T) {
	for i := 0; i < 100; i++ {
		dir := t.TempDir()
		files := Files{Base: filepath.Join(dir, "job-0")}
		agent := writeScript(t, `sleep 0.2`)
		r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}}
		p, err := r.Start(context.Background(), files, map[string]any{"action": "backup"})
		if err != nil {
			t.Fatal(err)
		}
		if !IsRun(p.Pid(), files) {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/cmdline")
			st, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/stat")
			t.Fatalf("iteration %d: cmdline %q stat %q", i, b, st)
		}
		p.Abort()
		p.Wait()
	}
}
