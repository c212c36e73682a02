package main

import (
	"errors"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// importSkyc reads a Skybrush compiled show, with the importer's
// warnings.
func importSkyc(path string) (*show.Show, []string, error) {
	return nil, nil, errors.New(path + ": reading .skyc files is not in this build yet")
}
