package skyc

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// archive reads the members of a .skyc file within the Options' bounds:
// each member once, through a limit, whatever its header claims.
type archive struct {
	opt   Options
	files map[string]*zip.File
	cache map[string][]byte
	read  int64 // decompressed bytes read so far, all members
	// used counts the JSON bytes the importer decodes, each member as
	// often as a $ref names it, so that a member named many times over
	// (the drones of a show all naming one big trajectory) costs what it
	// would inline, within Options.MaxBytes.
	used int64
}

// use counts n more bytes of JSON decoded.
func (a *archive) use(n int, ref string) error {
	if a.used += int64(n); a.used > a.opt.MaxBytes {
		return fmt.Errorf("%w: $ref %q: the $refs expand the show beyond %d bytes of JSON (Options.MaxBytes)", ErrTooLarge, ref, a.opt.MaxBytes)
	}
	return nil
}

func openArchive(r io.ReaderAt, size int64, opt Options) (*archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: not a ZIP archive: %w", ErrFormat, err)
	}
	if len(zr.File) > opt.MaxMembers {
		return nil, fmt.Errorf("%w: %d members in the archive, at most %d", ErrFormat, len(zr.File), opt.MaxMembers)
	}
	a := &archive{opt: opt, files: make(map[string]*zip.File, len(zr.File)), cache: make(map[string][]byte)}
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, "./")
		if _, dup := a.files[name]; dup {
			return nil, fmt.Errorf("%w: member %s appears twice in the archive", ErrFormat, name)
		}
		a.files[name] = f
	}
	return a, nil
}

// member returns the decompressed bytes of a member. It reads through an
// io.LimitReader set to the smaller of the member cap and what is left of
// the total cap, so that a member that decompresses to more (a zip bomb,
// a header that lies) is refused after at most that many bytes.
func (a *archive) member(name string) ([]byte, error) {
	if b, ok := a.cache[name]; ok {
		return b, nil
	}
	f, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("%w: no member %s in the archive", ErrFormat, name)
	}
	limit := min(a.opt.MaxMemberBytes, a.opt.MaxBytes-a.read)
	if limit < 0 {
		limit = 0
	}
	if f.UncompressedSize64 > uint64(limit) {
		// Refused before reading; a header that declares less than the
		// member holds is caught by the limit below (and by archive/zip,
		// which stops at the declared size).
		return nil, fmt.Errorf("%w: member %s declares %d bytes, more than the %d left of Options.MaxBytes and Options.MaxMemberBytes", ErrTooLarge, name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %w", ErrFormat, name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	// Grow from the header's size only as far as the limit: the header
	// is a hint, not a bound.
	buf.Grow(int(min(int64(f.UncompressedSize64&(1<<62-1)), limit, 1<<20)))
	n, err := buf.ReadFrom(io.LimitReader(rc, limit+1))
	a.read += n
	if n > limit {
		if limit == a.opt.MaxMemberBytes {
			return nil, fmt.Errorf("%w: member %s decompresses to more than %d bytes (Options.MaxMemberBytes)", ErrTooLarge, name, a.opt.MaxMemberBytes)
		}
		return nil, fmt.Errorf("%w: member %s: the archive decompresses to more than %d bytes (Options.MaxBytes)", ErrTooLarge, name, a.opt.MaxBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %w", ErrFormat, name, err)
	}
	a.cache[name] = buf.Bytes()
	return buf.Bytes(), nil
}

// refPath returns the member a $ref names: a path inside the archive,
// relative to its root ("./" optional), with an empty fragment at most.
// It refuses what could leave the archive: an absolute path, "..", a
// URL, a backslash.
func refPath(ref string) (string, error) {
	p, frag, _ := strings.Cut(ref, "#")
	switch {
	case frag != "":
		return "", fmt.Errorf("fragment #%s is not supported: a $ref names a whole member", frag)
	case p == "":
		return "", errors.New("empty path")
	case strings.HasPrefix(p, "/"):
		return "", errors.New("absolute path: a $ref names a member of the archive")
	case strings.Contains(p, ":") || strings.Contains(p, "\\"):
		return "", errors.New("not a path inside the archive (URL, drive or backslash)")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", errors.New("\"..\" leaves the archive's root")
		}
	}
	clean := path.Clean(p)
	if clean == "." {
		return "", errors.New("names no member")
	}
	return clean, nil
}

// Bounds on $ref resolution.
const (
	maxRefChain = 16 // a $ref whose member is itself a $ref, and so on
	maxNesting  = 64 // JSON nesting searched for $refs below a value
)

// at is where a JSON value was found, for errors: the member it came
// from and the field's path, its last index kept apart so that naming
// every element of a long array costs nothing until an error needs it.
type at struct {
	member, field string
	idx           int
	indexed       bool
}

// path returns the field's path.
func (w at) path() string {
	if w.indexed {
		return fmt.Sprintf("%s[%d]", w.field, w.idx)
	}
	return w.field
}

// errorf returns an error of kind about the value at w.
func (w at) errorf(kind error, format string, a ...any) error {
	return &valueError{kind: kind, at: w, msg: fmt.Sprintf(format, a...)}
}

// wrap returns err about the value at w, of kind too if not nil.
func (w at) wrap(kind, err error) error { return &valueError{kind: kind, at: w, err: err} }

// valueError is an error about a value of the file: it names the member
// and the field, and wraps its kind (ErrFormat, ErrRef, ErrTooLarge) and
// its cause.
type valueError struct {
	kind error
	at   at
	msg  string
	err  error
}

func (e *valueError) Error() string {
	what := e.msg
	if e.err != nil {
		what = e.err.Error()
	}
	if e.at.path() == "" {
		return fmt.Sprintf("skyc: %s: %s", e.at.member, what)
	}
	return fmt.Sprintf("skyc: %s: %s: %s", e.at.member, e.at.path(), what)
}

func (e *valueError) Unwrap() []error {
	var out []error
	if e.kind != nil {
		out = append(out, e.kind)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}

func (w at) in(field string) at {
	p := w.path()
	if p == "" {
		return at{member: w.member, field: field}
	}
	return at{member: w.member, field: p + "." + field}
}

func (w at) index(i int) at { return at{member: w.member, field: w.path(), idx: i, indexed: true} }

// refOf returns the target of raw if raw is a {"$ref": ...} object.
func refOf(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"$ref"`)) {
		return "", false, nil
	}
	var obj struct {
		Ref *string `json:"$ref"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", false, err
	}
	if obj.Ref == nil {
		return "", false, nil
	}
	return *obj.Ref, true, nil
}

// resolve follows raw's $ref, and the $ref of its member, and so on,
// to a value that is not a $ref; it returns where that value lives.
func (a *archive) resolve(raw json.RawMessage, w at) (json.RawMessage, at, error) {
	var chain []string
	for {
		ref, ok, err := refOf(raw)
		if err != nil {
			return nil, w, w.wrap(ErrFormat, err)
		}
		if !ok {
			return raw, w, nil
		}
		name, err := refPath(ref)
		if err != nil {
			return nil, w, w.wrap(ErrRef, fmt.Errorf("$ref %q: %w", ref, err))
		}
		for _, c := range chain {
			if c == name {
				return nil, w, w.wrap(ErrRef, fmt.Errorf("$ref %q: a cycle (%s → %s)", ref, strings.Join(chain, " → "), name))
			}
		}
		if len(chain) == maxRefChain {
			return nil, w, w.wrap(ErrRef, fmt.Errorf("$ref %q: more than %d $refs in a chain", ref, maxRefChain))
		}
		chain = append(chain, name)
		b, err := a.member(name)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, w, w.wrap(nil, err)
			}
			return nil, w, w.wrap(ErrRef, fmt.Errorf("$ref %q: %w", ref, err))
		}
		if err := a.use(len(b), ref); err != nil {
			return nil, w, w.wrap(nil, err)
		}
		w.member = name
		raw = b
	}
}

// expand returns raw with every $ref below it replaced by its member,
// for the small values the importer decodes in one piece (a point, a
// vector). It refuses cycles, nesting deeper than maxNesting, and an
// expansion beyond limit bytes.
func (a *archive) expand(raw json.RawMessage, w at, limit int) (json.RawMessage, error) {
	x := expander{a: a, limit: limit, budget: limit}
	return x.value(raw, w, nil, 0)
}

type expander struct {
	a             *archive
	limit, budget int
}

func (x *expander) value(raw json.RawMessage, w at, stack []string, depth int) (json.RawMessage, error) {
	if !bytes.Contains(raw, []byte(`"$ref"`)) {
		return raw, nil
	}
	if depth > maxNesting {
		return nil, w.wrap(ErrRef, fmt.Errorf("$ref nested deeper than %d levels", maxNesting))
	}
	if ref, ok, err := refOf(raw); err != nil {
		return nil, w.wrap(ErrFormat, err)
	} else if ok {
		name, err := refPath(ref)
		if err != nil {
			return nil, w.wrap(ErrRef, fmt.Errorf("$ref %q: %w", ref, err))
		}
		for _, s := range stack {
			if s == name {
				return nil, w.wrap(ErrRef, fmt.Errorf("$ref %q: a cycle through %s", ref, name))
			}
		}
		b, err := x.a.member(name)
		if err != nil {
			return nil, w.wrap(ErrRef, fmt.Errorf("$ref %q: %w", ref, err))
		}
		if err := x.a.use(len(b), ref); err != nil {
			return nil, w.wrap(nil, err)
		}
		if x.budget -= len(b); x.budget < 0 {
			return nil, w.wrap(ErrTooLarge, fmt.Errorf("$ref %q: the value expands beyond %d bytes", ref, x.limit))
		}
		w.member = name
		return x.value(b, w, append(stack[:len(stack):len(stack)], name), depth+1)
	}
	t := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '[':
		var els []json.RawMessage
		if err := json.Unmarshal(t, &els); err != nil {
			return nil, w.wrap(ErrFormat, err)
		}
		for i := range els {
			e, err := x.value(els[i], w, stack, depth+1)
			if err != nil {
				return nil, err
			}
			els[i] = e
		}
		return json.Marshal(els)
	case len(t) > 0 && t[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(t, &obj); err != nil {
			return nil, w.wrap(ErrFormat, err)
		}
		for k, v := range obj {
			e, err := x.value(v, w, stack, depth+1)
			if err != nil {
				return nil, err
			}
			obj[k] = e
		}
		return json.Marshal(obj)
	}
	return raw, nil // a string that mentions "$ref"
}
