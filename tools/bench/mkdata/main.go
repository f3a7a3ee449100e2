// Command mkdata writes the deterministic benchmark tree used by `make
// bench`: many small source-like files, medium files of three kinds (text
// logs, half-compressible pages, random) and two large files, in the
// proportions of the reference measurements (2.18 GB, ~50k files at scale
// 1). `mkdata mutate` then changes about 1 % of the files the way the
// reference "mutate" step does: edits, appends, new files and deletions.
// `mkdata image`, `rewrite` and `append` write and change one
// VM-image-like file for the rsync section (image.go).
//
// Every byte depends only on the seed, the scale and the generation, so two
// runs of the same command produce identical trees.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"freezer.dev/freezer/internal/config"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkdata:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	mode := "full"
	if len(args) > 0 && (args[0] == "full" || args[0] == "mutate" || args[0] == "image" || args[0] == "rewrite" || args[0] == "append") {
		mode, args = args[0], args[1:]
	}
	v, rest, err := options().ParseCommandLine(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	if v.Bool("", "help") {
		return config.WriteHelp(os.Stdout, config.Help{Usage: "mkdata [full|mutate|image|rewrite|append] --out PATH [options]",
			Description: "Writes the benchmark tree (full), or changes a generation of its files (mutate); " +
				"writes a VM-image-like file (image), rewrites --percent of its 4 KiB blocks (rewrite) or appends --mib to it (append)."}, options())
	}
	out, seed := v.String("", "out"), uint64(v.Int("", "seed"))
	if out == "" {
		return fmt.Errorf("--out is required")
	}
	switch mode {
	case "mutate":
		return mutate(out, seed, v.Int("", "gen"))
	case "image":
		return image(out, seed, v.Float("", "mib"))
	case "rewrite":
		return rewrite(out, seed, v.Float("", "percent"))
	case "append":
		return appendRandom(out, seed, v.Float("", "mib"))
	}
	return full(out, seed, v.Float("", "scale"))
}

// options are mkdata's command line.
func options() config.Schema {
	return config.Schema{
		{Name: "out", CLIOnly: true, Metavar: "DIR", Help: "Directory to write (required)."},
		{Name: "scale", Type: config.Float, Default: "1", CLIOnly: true, Help: "Size factor; 1 gives ~2.18 GB and ~50k files."},
		{Name: "gen", Type: config.Int, Default: "1", CLIOnly: true, Help: "mutate: generation number (each one changes other files)."},
		{Name: "seed", Type: config.Int, Default: "42", CLIOnly: true, Help: "Random seed."},
		{Name: "mib", Type: config.Float, Default: "1024", CLIOnly: true, Help: "image: size of the file; append: bytes appended (MiB)."},
		{Name: "percent", Type: config.Float, Default: "1", CLIOnly: true, Help: "rewrite: share of the 4 KiB blocks rewritten."},
		config.HelpOpt(""),
	}
}

var words = []string{"func", "return", "if", "err", "nil", "for", "range", "struct", "type",
	"package", "import", "string", "int", "var", "const", "map", "chan", "go", "defer",
	"select", "case", "default", "switch", "else", "break", "continue", "interface",
	"backup", "restore", "level", "segment", "storage", "engine", "codec", "metadata"}

// textFill writes n bytes of source-like text.
func textFill(w io.Writer, r *rand.Rand, n int64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var written int64
	for written < n {
		line := make([]byte, 0, 96)
		indent := r.IntN(4)
		for i := 0; i < indent; i++ {
			line = append(line, '\t')
		}
		for len(line) < 20+r.IntN(60) {
			line = append(line, words[r.IntN(len(words))]...)
			line = append(line, ' ')
		}
		line = append(line, '\n')
		if rem := n - written; int64(len(line)) > rem {
			line = line[:rem]
		}
		k, err := bw.Write(line)
		written += int64(k)
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// randomFill writes n incompressible bytes.
func randomFill(w io.Writer, r *rand.Rand, n int64) error {
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(int64(len(buf)), n)
		for i := 0; i+8 <= int(k); i += 8 {
			v := r.Uint64()
			buf[i], buf[i+1], buf[i+2], buf[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			buf[i+4], buf[i+5], buf[i+6], buf[i+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
		}
		if _, err := w.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// halfFill alternates 64 KiB of random bytes with 64 KiB of a repeated
// page, so about half of it compresses away.
func halfFill(w io.Writer, r *rand.Rand, n int64) error {
	page := make([]byte, 64<<10)
	for i := range page {
		page[i] = byte(i * 7)
	}
	for n > 0 {
		k := min(int64(len(page)), n)
		if r.IntN(2) == 0 {
			if err := randomFill(w, r, k); err != nil {
				return err
			}
		} else if _, err := w.Write(page[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func writeFile(p string, fill func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return f.Close()
}

func full(out string, seed uint64, scale float64) error {
	r := rand.New(rand.NewPCG(seed, 1))
	small := int(50000 * scale)
	for i := 0; i < small; i++ {
		// Log-normal-ish sizes around a 2.5 KiB median.
		size := int64(256 + r.ExpFloat64()*3500)
		p := filepath.Join(out, "src", fmt.Sprintf("pkg%03d", i%500), fmt.Sprintf("mod%02d", (i/500)%20), fmt.Sprintf("file%05d.go", i))
		if err := writeFile(p, func(w io.Writer) error { return textFill(w, r, size) }); err != nil {
			return err
		}
	}
	medium := int(160 * scale)
	for i := 0; i < medium; i++ {
		size := int64(6.5 * (1 << 20))
		var fill func(io.Writer) error
		var name string
		switch i % 3 {
		case 0:
			name = fmt.Sprintf("logs/app%03d.log", i)
			fill = func(w io.Writer) error { return textFill(w, r, size) }
		case 1:
			name = fmt.Sprintf("pages/page%03d.bin", i)
			fill = func(w io.Writer) error { return halfFill(w, r, size) }
		default:
			name = fmt.Sprintf("media/blob%03d.bin", i)
			fill = func(w io.Writer) error { return randomFill(w, r, size) }
		}
		if err := writeFile(filepath.Join(out, name), fill); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(out, "disk.img"), func(w io.Writer) error { return halfFill(w, r, int64(512*scale*(1<<20))) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(out, "blob.bin"), func(w io.Writer) error { return randomFill(w, r, int64(256*scale*(1<<20))) }); err != nil {
		return err
	}
	// Empty directories and a symlink, so the tree exercises more than files.
	if err := os.MkdirAll(filepath.Join(out, "empty", "nested"), 0o755); err != nil {
		return err
	}
	return os.Symlink("disk.img", filepath.Join(out, "disk.link"))
}

// mutate changes ~500 files per 50k: 200 edits, 150 appends, 100 new files
// and 50 deletions, chosen by the generation so that generations differ.
func mutate(out string, seed uint64, gen int) error {
	var files []string
	err := filepath.WalkDir(filepath.Join(out, "src"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", out, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("no files under %s/src: run mkdata full first", out)
	}
	sort.Strings(files)
	r := rand.New(rand.NewPCG(seed, uint64(1000+gen)))
	f := float64(len(files)) / 50000
	pick := func() string { return files[r.IntN(len(files))] }
	for i := 0; i < int(200*f)+1; i++ {
		p := pick()
		if err := writeFile(p, func(w io.Writer) error { return textFill(w, r, int64(512+r.IntN(4096))) }); err != nil {
			return err
		}
	}
	for i := 0; i < int(150*f)+1; i++ {
		fh, err := os.OpenFile(pick(), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		err = textFill(fh, r, int64(100+r.IntN(2000)))
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	for i := 0; i < int(100*f)+1; i++ {
		p := filepath.Join(out, "src", fmt.Sprintf("new%d", gen), fmt.Sprintf("n%04d.go", i))
		if err := writeFile(p, func(w io.Writer) error { return textFill(w, r, int64(256+r.IntN(4096))) }); err != nil {
			return err
		}
	}
	for i := 0; i < int(50*f)+1; i++ {
		if err := os.Remove(pick()); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	// One medium log grows, as logs do.
	fh, err := os.OpenFile(filepath.Join(out, "logs", "app000.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		err = textFill(fh, r, 1<<20)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
