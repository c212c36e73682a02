package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseMembers reads a command line's list of vehicle IDs and ranges,
// "1-10,12", into sorted IDs without repeats.
func ParseMembers(s string) ([]uint16, error) {
	var out []uint16
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 1 || b > MaxID || a > b {
			return nil, fmt.Errorf("%q is not an ID or a range of IDs (1–%d) such as 1-10", part, MaxID)
		}
		for id := a; id <= b; id++ {
			out = append(out, uint16(id))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
