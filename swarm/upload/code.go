package upload

import (
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// encoders caches one Reed–Solomon code per number of source chunks: a
// code is a pure function of it, and building one inverts a matrix.
var encoders sync.Map // int → reedsolomon.Encoder

// code returns the Reed–Solomon code of k source shards and
// MaxSymbols−k repair shards.
func code(k int) (reedsolomon.Encoder, error) {
	if e, ok := encoders.Load(k); ok {
		return e.(reedsolomon.Encoder), nil
	}
	e, err := reedsolomon.New(k, MaxSymbols-k, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		return nil, fmt.Errorf("upload: code of %d chunks: %w", k, err)
	}
	actual, _ := encoders.LoadOrStore(k, e)
	return actual.(reedsolomon.Encoder), nil
}
