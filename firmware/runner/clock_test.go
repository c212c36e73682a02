package runner

import (
	"testing"
	"time"
)

func TestFakeClock(t *testing.T) {
	c := NewFakeClock(testStart)
	tk := c.NewTicker(10 * time.Millisecond)
	after := c.After(25 * time.Millisecond)
	c.Advance(10 * time.Millisecond)
	select {
	case at := <-tk.C():
		if got := at.Sub(testStart); got != 10*time.Millisecond {
			t.Fatalf("tick at %v, want 10ms", got)
		}
	default:
		t.Fatal("no tick after 10 ms")
	}
	c.Advance(20 * time.Millisecond) // ticks at 20 and 30 ms: one is dropped, as time.Ticker does
	if at := <-tk.C(); at.Sub(testStart) != 20*time.Millisecond {
		t.Fatalf("tick at %v, want 20ms (the 30 ms one dropped)", at.Sub(testStart))
	}
	select {
	case at := <-after:
		if at.Sub(testStart) != 25*time.Millisecond {
			t.Fatalf("After fired at %v, want 25ms", at.Sub(testStart))
		}
	default:
		t.Fatal("After(25ms) did not fire by 30 ms")
	}
	if got := c.Now().Sub(testStart); got != 30*time.Millisecond {
		t.Fatalf("Now is %v after the start, want 30ms", got)
	}
	tk.Stop()
	c.Advance(time.Second)
	select {
	case <-tk.C():
		t.Fatal("a stopped ticker ticked")
	default:
	}
}
