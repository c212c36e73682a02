package skyc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzImport feeds the importer archives (raw) or a show.json and one
// more member, m.json, zipped by the test, so that the fuzzer's
// mutations reach the JSON rather than die on the ZIP's checksums. An
// import never panics, stays within its bounds, and what it accepts is
// well formed and exports and imports back equal.
func FuzzImport(f *testing.F) {
	var buf bytes.Buffer
	if err := Export(&buf, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), []byte(nil), true)
	f.Add(handWritten(f), []byte(nil), true)
	f.Add([]byte(oneDrone(`{"name": "d", "trajectory": {"$ref": "./m.json#"}, "lights": {"data": "BP8AADIUgRUABAAA/zI="}}`)),
		[]byte(`{"version": 1, "takeoffTime": 2, "points": [[0, [0, 0, 0], []], [1, [0, 0, 1], [[0, 1, 1]]], [2, [1, 0, 1], [[1, 1, 1], [2, 2, 2]]]]}`), false)
	f.Add([]byte(`{"version": 1, "settings": {"validation": {"max_velocity_z": 2}, "geofence": {"polygons": [{"isInclusion": true, "points": [[0,0],[9,0],[9,9]]}]}},
		"swarm": {"drones": [{"settings": {"trajectory": {"$ref": "m.json"}}}]}}`), []byte(`{"$ref": "m.json"}`), false)
	f.Add([]byte(oneDrone(`{"trajectory": {"points": {"$ref": "m.json"}}}`)), []byte(`[[0, [0, 0, 1e400]]]`), false)
	f.Fuzz(func(t *testing.T, data, m []byte, raw bool) {
		// The fast number path agrees with encoding/json.
		if v, ok := quickNumber(m); ok {
			var n float64
			if err := json.Unmarshal(m, &n); err != nil || n != v {
				t.Fatalf("quickNumber(%q) = %v, encoding/json: %v, %v", m, v, n, err)
			}
		}
		file := data
		if !raw {
			file = archiveOf(t, member{"show.json", string(data)}, member{"m.json", string(m)})
		}
		opt := Options{MaxBytes: 1 << 20, MaxMemberBytes: 1 << 20}
		s, _, err := importBytes(file, opt)
		if err != nil {
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("imported a show that is not well formed: %v", err)
		}
		var out bytes.Buffer
		if err := Export(&out, s); err != nil {
			t.Fatalf("export of an imported show: %v", err)
		}
		again, _, err := importBytes(out.Bytes(), Options{})
		if err != nil {
			t.Fatalf("import of an exported show: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("export and import changed the show:\n got %+v\nwant %+v", again, s)
		}
	})
}
