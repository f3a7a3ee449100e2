package systemdunits

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// directives parses a unit file into "Section.Key" -> values (in order).
func directives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not a directive: %q", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func requireDirectives(t *testing.T, unit string, want map[string]string) {
	t.Helper()
	d := directives(t, unit)
	for k, v := range want {
		// Some directives accumulate (SystemCallFilter): any line may match.
		if got := d[k]; !slices.Contains(got, v) {
			t.Errorf("%s: %s = %q, want a line %q", filepath.Base(unit), k, got, v)
		}
	}
}

// common is the hardening both units promise (docs/operators.rst,
// "Service units").
func common() map[string]string {
	return map[string]string{
		"Service.User":                  "freezer",
		"Service.Group":                 "freezer",
		"Service.NoNewPrivileges":       "yes",
		"Service.ProtectSystem":         "strict",
		"Service.PrivateTmp":            "yes",
		"Service.PrivateDevices":        "yes",
		"Service.ProtectKernelTunables": "yes",
		"Service.ProtectKernelModules":  "yes",
		"Service.ProtectControlGroups":  "yes",
		"Service.RestrictSUIDSGID":      "yes",
		"Service.SystemCallFilter":      "@system-service",
		"Service.StateDirectory":        "freezer",
	}
}

func TestAPIUnitHardening(t *testing.T) {
	requireDirectives(t, "freezer-api.service", common())
	requireDirectives(t, "freezer-api.service", map[string]string{
		"Service.ProtectHome":             "yes",
		"Service.CapabilityBoundingSet":   "",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	})
	if d := directives(t, "freezer-api.service"); len(d["Service.ExecStartPre"]) > 0 {
		t.Error("freezer-api.service must not run migrations on start (ExecStartPre)")
	}
}

func TestSchedulerUnitHardening(t *testing.T) {
	requireDirectives(t, "freezer-scheduler.service", common())
	requireDirectives(t, "freezer-scheduler.service", map[string]string{
		// Reads everything it backs up, writes nothing else.
		"Service.ProtectHome":           "read-only",
		"Service.AmbientCapabilities":   "CAP_DAC_READ_SEARCH",
		"Service.CapabilityBoundingSet": "CAP_DAC_READ_SEARCH",
		"Service.KillMode":              "mixed",
	})
	requireDirectives(t, "freezer-scheduler-root.conf", map[string]string{
		"Service.User":          "root",
		"Service.ProtectSystem": "full",
		"Service.ProtectHome":   "no",
	})
}

// TestUnitsVerify runs systemd-analyze: the units parse, and their offline
// exposure score stays where docs/operators.rst says.
func TestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze (Debian package systemd) is needed: %v", err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no",
		"./freezer-api.service", "./freezer-scheduler.service").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	score := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)
	for unit, limit := range map[string]float64{"freezer-api.service": 1.5, "freezer-scheduler.service": 2.5} {
		out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "./"+unit).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v\n%s", unit, err, out)
			continue
		}
		m := score.FindSubmatch(out)
		if m == nil {
			t.Errorf("no exposure level in systemd-analyze output for %s:\n%s", unit, out)
			continue
		}
		got, _ := strconv.ParseFloat(string(m[1]), 64)
		if got > limit {
			t.Errorf("%s: exposure %.1f, above %.1f", unit, got, limit)
		}
	}
}
