package mutex

import (
	"errors"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Resource names one lock (an airspace cell).
type Resource uint16

// Mutex is the contract of every mutual exclusion core.
type Mutex interface {
	algorithms.Core
	// Request asks to enter the critical section of r. Granted is emitted
	// when the drone may enter. Requesting a resource that is already
	// requested or held returns ErrBusy.
	Request(r Resource) error
	// Release leaves the critical section of r. Releasing a resource that
	// is not held returns ErrNotHeld.
	Release(r Resource) error
}

// Granted is emitted when the drone enters the critical section of Resource.
type Granted struct {
	Resource Resource
}

// Sentinel errors of the local calls.
var (
	ErrBusy    = errors.New("mutex: resource already requested or held")
	ErrNotHeld = errors.New("mutex: resource not held")
)

// resourceBytes is the encoded size of a Resource.
const resourceBytes = 2

// kindBytes is the encoded size of a message kind tag.
const kindBytes = 1
