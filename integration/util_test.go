package integration

import "regexp"

type regexpT = regexp.Regexp

func regexpCompile(s string) *regexp.Regexp { return regexp.MustCompile(s) }
