package operate

import "github.com/skyquorum/skyquorum/firmware/config"

// ParseMembers reads a list of vehicle IDs and ranges, "1-10,12", into
// sorted IDs without repeats (config.ParseMembers).
func ParseMembers(s string) ([]uint16, error) { return config.ParseMembers(s) }
