package main

import (
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/skyc"
)

// importSkyc reads a Skybrush compiled show, with the importer's
// warnings.
func importSkyc(path string) (*show.Show, []string, error) {
	s, warns, err := skyc.ImportFile(path)
	lines := make([]string, len(warns))
	for i, w := range warns {
		lines[i] = w.String()
	}
	return s, lines, err
}
