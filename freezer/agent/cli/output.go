package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"freezer.dev/freezer/freezer/agent"
)

// table renders rows as an ASCII table in the style of upstream's
// prettytable output.
func table(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if n := utf8.RuneCountInString(c); n > width[i] {
				width[i] = n
			}
		}
	}
	sep := "+"
	for _, n := range width {
		sep += strings.Repeat("-", n+2) + "+"
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, sep)
	line(header)
	fmt.Fprintln(w, sep)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w, sep)
}

// writePropertyTable prints a backup's result as upstream does: a
// "Property | Value" table, underscores in keys shown as spaces.
func writePropertyTable(w io.Writer, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []string{strings.ReplaceAll(k, "_", " "), fmt.Sprint(m[k])})
	}
	table(w, []string{"Property", "Value"}, rows)
}

// writeBackupsTable prints info's (or admin's removed) backups.
func writeBackupsTable(w io.Writer, bs []agent.BackupInfo) {
	if len(bs) == 0 {
		fmt.Fprintln(w, "No backups found.")
		return
	}
	rows := make([][]string, 0, len(bs))
	for _, b := range bs {
		size := "-"
		if b.Size >= 0 {
			size = humanSize(b.Size)
		}
		enc := "none"
		if b.Encrypted {
			enc = b.EncryptionFormat
		}
		comp := b.Compression
		if b.Error != "" {
			comp, enc = "?", "?"
		}
		rows = append(rows, []string{b.HostBackupName, fmt.Sprint(b.Level), b.Time, fmt.Sprint(b.LevelZero), size, comp, enc})
	}
	table(w, []string{"Backup", "Level", "Time (UTC)", "Chain", "Size", "Compression", "Encryption"}, rows)
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
