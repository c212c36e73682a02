package link_test

import (
	"testing"

	"github.com/skyquorum/skyquorum/radio/internal/ptypair"
)

func TestMain(m *testing.M) {
	ptypair.Main(m, ptypair.Program("radio/link TestSerialOverPtyPair", "socat", "apt-get install socat"))
}
