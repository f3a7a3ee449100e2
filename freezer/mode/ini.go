package mode

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadSection reads section (case-sensitive, as Python's configparser:
// upstream reads "[default]") of a small INI file such as --mysql-conf:
// "key = value" or "key: value" lines, keys lower-cased, "#" and ";"
// comments. A missing section is an error naming the file.
func ReadSection(path, section string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	found, in := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' && strings.HasSuffix(l, "]") {
			in = strings.TrimSpace(l[1:len(l)-1]) == section
			found = found || in
			continue
		}
		if !in {
			continue
		}
		i := strings.IndexAny(l, "=:")
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: want key = value", path, n)
		}
		vals[strings.ToLower(strings.TrimSpace(l[:i]))] = strings.TrimSpace(l[i+1:])
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s has no [%s] section", path, section)
	}
	return vals, nil
}
