package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The patterns are assembled from pieces so that this file does not cite
// what it forbids.
var (
	// outside names the places outside the repository that a citation must
	// never point to: a reference folder, a folder shared beside the
	// repository.
	outside = regexp.MustCompile(`(^|[^A-Za-z0-9_])(` + "reference" + `/|\.\./` + "shared" + `)`)
	// docsPath is a page of docs/ named anywhere in code or prose.
	docsPath = regexp.MustCompile(`(^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_.-]+\.md)(#[A-Za-z0-9_-]+)?`)
	// upperPage is a page named in capitals (README.md): it must be a file
	// of the repository.
	upperPage = regexp.MustCompile(`(^|[^A-Za-z0-9_./-])([A-Z][A-Z0-9_-]*\.md)\b`)
	// mdLink is a Markdown link's target.
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// heading is a Markdown heading.
	heading = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
)

// root is the module root: the folder above this package's.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", r, err)
	}
	return r
}

// sources lists the repository's .go, .md and .sh files, relative to the
// root, leaving out hidden folders and testdata.
func sources(t *testing.T, r string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != r && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".md", ".sh":
			rel, err := filepath.Rel(r, p)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// slug is the anchor GitHub gives a heading: lower case, punctuation
// dropped, spaces turned into hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the anchors of a Markdown file's headings, numbered as
// GitHub numbers repeated ones.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		h := strings.NewReplacer("`", "", "*", "").Replace(m[1])
		s := slug(h)
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// checker resolves citations against the repository.
type checker struct {
	root  string
	cache map[string]map[string]bool // file → its anchors
}

// target reports what is wrong with a citation of file rel (relative to
// the root) and anchor (without '#', may be empty), or "".
func (c *checker) target(rel, anchor string) string {
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "points outside the repository"
	}
	p := filepath.Join(c.root, rel)
	st, err := os.Stat(p)
	if err != nil {
		return "does not exist"
	}
	if anchor == "" || st.IsDir() || filepath.Ext(p) != ".md" {
		return ""
	}
	a, ok := c.cache[rel]
	if !ok {
		b, err := os.ReadFile(p)
		if err != nil {
			return err.Error()
		}
		a = anchors(string(b))
		c.cache[rel] = a
	}
	if !a[anchor] {
		return "has no heading #" + anchor
	}
	return ""
}

// problems lists the bad citations of one file's text, one line each.
func (c *checker) problems(file, text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		at := fmt.Sprintf("%s:%d", file, i+1)
		if m := outside.FindStringSubmatch(line); m != nil {
			out = append(out, fmt.Sprintf("%s: cites %q, a path outside the repository; say it in docs/ instead", at, m[2]))
		}
		for _, m := range docsPath.FindAllStringSubmatch(line, -1) {
			if why := c.target(filepath.FromSlash(m[2]), strings.TrimPrefix(m[3], "#")); why != "" {
				out = append(out, fmt.Sprintf("%s: %s%s %s", at, m[2], m[3], why))
			}
		}
		for _, m := range upperPage.FindAllStringSubmatch(line, -1) {
			if _, err := os.Stat(filepath.Join(c.root, filepath.Dir(file), m[2])); err == nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(c.root, m[2])); err == nil {
				continue
			}
			out = append(out, fmt.Sprintf("%s: %s is not a file of the repository", at, m[2]))
		}
		if filepath.Ext(file) != ".md" {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(link, "#")
			rel := file
			if path != "" {
				rel = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			if why := c.target(rel, anchor); why != "" {
				out = append(out, fmt.Sprintf("%s: link %s %s", at, link, why))
			}
		}
	}
	return out
}

// TestCitationsStayInTheRepository: no Go, Markdown or shell file of the
// repository cites a path outside it, and every docs/ page, capitalised
// page and Markdown link it cites exists, with the heading its anchor
// names.
func TestCitationsStayInTheRepository(t *testing.T) {
	r := root(t)
	c := &checker{root: r, cache: map[string]map[string]bool{}}
	files := sources(t, r)
	if len(files) < 100 {
		t.Fatalf("found %d source files under %s; expected the whole repository", len(files), r)
	}
	var bad []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(r, f))
		if err != nil {
			t.Fatal(err)
		}
		bad = append(bad, c.problems(f, string(b))...)
	}
	for _, b := range bad {
		t.Error(b)
	}
	t.Logf("%d files checked, %d bad citations", len(files), len(bad))
}

// TestCheckerCatchesBadCitations feeds the checker lines that must fail and
// lines that must pass.
func TestCheckerCatchesBadCitations(t *testing.T) {
	c := &checker{root: root(t), cache: map[string]map[string]bool{}}
	bad := []string{
		"// see " + "reference" + "/NOTES.md",
		"as ../" + "shared" + "/x says",
		"// (docs/" + "no-such-page.md)",
		"// docs/simulate.md" + "#no-such-heading",
		"// the figures of " + "ALGORITHMS" + ".md",
		"[x](no-such-page.md)",
		"[x](../../outside.md)",
		"[x](simulate.md#no-such-heading)",
	}
	for _, line := range bad {
		if p := c.problems(filepath.Join("docs", "x.md"), line); len(p) == 0 {
			t.Errorf("%q: no problem found", line)
		}
	}
	good := []string{
		"// docs/algorithms.md, Election",
		"see [the instrument](simulate.md#multicast) and README.md",
		"[Go](https://go.dev/ref/mod) [top](#the-textbook-figures)",
		"github.com/skyquorum/skyquorum/docs",
	}
	for _, line := range good {
		if p := c.problems("docs/algorithms.md", line); len(p) != 0 {
			t.Errorf("%q: %v", line, p)
		}
	}
}
