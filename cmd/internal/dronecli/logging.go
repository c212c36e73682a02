package dronecli

import (
	"io"
	"log/slog"
	"os"

	"github.com/skyquorum/skyquorum/firmware/config"
)

// newLogger logs to w: as text for a person at a terminal, as JSON (one
// object a line) for journald and log collectors. format is config.LogAuto,
// LogText or LogJSON; auto picks text when w is a terminal.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == config.LogText || (format != config.LogJSON && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// isTerminal reports whether w is a character device (a terminal), without
// a dependency for it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
