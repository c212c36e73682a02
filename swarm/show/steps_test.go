package show

import (
	"testing"
	"time"
)

func TestProgramSteps(t *testing.T) {
	red, blue := RGB{R: 255}, RGB{B: 255}
	p := Program(nil).Sleep(1*sec).Set(red, 500*time.Millisecond).Fade(blue, 1*sec).WaitUntil(4*sec).Set(RGB{}, 0)
	got, err := p.Steps(10*sec, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []LightStep{
		{0, 1 * sec, RGB{}, RGB{}},
		{1 * sec, 1500 * time.Millisecond, red, red},
		{1500 * time.Millisecond, 2500 * time.Millisecond, red, blue},
		{2500 * time.Millisecond, 4 * sec, blue, blue},
		{4 * sec, 4 * sec, RGB{}, RGB{}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d steps %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := p.Steps(10*sec, 3); err == nil {
		t.Error("more than 3 steps: want an error")
	}
	forever := Program(nil).Loop(0, Program(nil).Set(red, 100*time.Millisecond).Set(blue, 100*time.Millisecond))
	got, err = forever.Steps(1*sec, 0)
	if err != nil || len(got) != 11 {
		t.Errorf("a loop for ever up to 1 s: %d steps, %v; want 11 (the last starts at 1 s)", len(got), err)
	}
}
