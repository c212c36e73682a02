package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error about the file's content (as
// opposed to reading it).
var ErrInvalid = errors.New("config: invalid")

// Error is one problem in a config file.
type Error struct {
	// File is the file's name; Line and Column locate the value at fault
	// (1-based; 0 when the problem is not at one place, or the Config did
	// not come from a file).
	File         string
	Line, Column int
	// Field is the field's path, such as "radio.baud" or "members[2]".
	Field string
	// Msg says what is wrong and what to write instead.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// Errors are all the problems found in one file, in the order of the file.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns every Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
