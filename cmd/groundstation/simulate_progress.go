package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"

	"github.com/skyquorum/skyquorum/sitl/sim"
)

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// simProgress returns a progress callback for a long run, drawing a bar of
// simulated seconds done on w, and the function that ends the bar. There
// is none with --json or when w is not a terminal. The bar is drawn at
// most once per simulated second, which is seldom enough for any run.
func simProgress(w io.Writer, c *commonFlags) (report func(done, total sim.Time), finish func()) {
	if c.json || !isTerminal(w) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	report = func(done, total sim.Time) {
		if bar == nil {
			bar = progressbar.NewOptions64(int64(total/sim.Second),
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("simulated seconds"),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionClearOnFinish(),
			)
		}
		_ = bar.Set64(int64(done / sim.Second))
	}
	finish = func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
	return report, finish
}
