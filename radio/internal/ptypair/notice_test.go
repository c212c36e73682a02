package ptypair

import (
	"bytes"
	"testing"
)

func TestNoticeNamesSkippedTests(t *testing.T) {
	missing := Program("TestSerial", "skyquorum-no-such-program", "apt-get install nothing")
	present := Need{Tests: "TestOther", Missing: func() string { return "" }}
	var out bytes.Buffer
	if n := Notice(&out, false, missing, present); n != 1 {
		t.Fatalf("%d notices, want 1: %q", n, out.String())
	}
	want := "notice: TestSerial is skipped: skyquorum-no-such-program is not installed (apt-get install nothing); CI runs it\n"
	if out.String() != want {
		t.Fatalf("notice %q, want %q", out.String(), want)
	}
	out.Reset()
	if n := Notice(&out, true, missing); n != 0 || out.Len() != 0 {
		t.Fatalf("under CI the tests fail instead: no notice, got %q", out.String())
	}
}
