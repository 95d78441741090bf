// Package flagfile reads a daemon's configuration file into flag
// arguments, so that hagsd and hagsrmd take the same settings from
// /etc/hags/*.conf as from their command lines (docs/operations.md).
//
// The file holds one setting per line, "name value" or "name = value",
// with the flag's name without dashes; blank lines and lines starting with
// # are ignored. Settings on the command line override the file's:
//
//	# /etc/hags/hagsd.conf
//	domain  prod
//	node    2
//	voters  1=10.1.0.1:7100,2=10.1.0.2:7100,3=10.1.0.3:7100
package flagfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNested is returned for a file that names another configuration file.
var ErrNested = errors.New("a configuration file cannot name another")

// Expand returns args with the settings of the file that a --config flag
// in args names (if any) put before them, so that a flag parser applies
// the command line's after the file's. Only the first --config counts.
func Expand(args []string) ([]string, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("--config needs a file name")
			}
			value = args[i+1]
		}
		fileArgs, err := Read(value)
		if err != nil {
			return nil, err
		}
		return append(fileArgs, args...), nil
	}
	return args, nil
}

// Read returns the settings of the file at path as flag arguments
// ("--name=value").
func Read(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	var args []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '='); i >= 0 { // name=value
			name, value = name[:i], name[i+1:]+" "+value
		}
		value = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(value), "="))
		if name == "config" {
			return nil, fmt.Errorf("%s:%d: %w", path, n, ErrNested)
		}
		args = append(args, "--"+name+"="+value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return args, nil
}
