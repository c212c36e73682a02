package interop_test

import (
	"os"
	"testing"

	"github.com/skyquorum/skyquorum/radio/internal/ptypair"
)

func TestMain(m *testing.M) {
	const tests = "radio/interop TestNodeMavlinkDecodesOurFrames"
	ptypair.Main(m,
		ptypair.Program(tests, "node", "install Node.js"),
		ptypair.Need{Tests: tests, Missing: func() string {
			if _, err := os.Stat("node_modules/node-mavlink"); err != nil {
				return "node-mavlink is not installed (npm ci in radio/interop)"
			}
			return ""
		}})
}
