// Package skyc imports Skybrush .skyc shows into show.Show, and exports
// shows in that format.
//
// A .skyc file is a ZIP archive whose root document, show.json, holds the
// whole show; anywhere in it an object {"$ref": "./path#"} stands for the
// JSON document at that path inside the archive, which is how exporters
// split each drone's trajectory and light program into members of their
// own. docs/show-import.md describes the format as this package reads it;
// in short:
//
//   - version 1 only;
//   - meta: the title; the takeoff, show and landing segments become cues
//     at their starts; a timestampOffset is ignored with a warning;
//   - environment.location: the origin [lat, lon, alt?] (integers in
//     1e-7 degrees and millimetres are recognised, with a warning) and
//     the orientation, normalised to [0, 360);
//   - settings: the cues; the geofence's inclusion polygon (exclusion
//     polygons are dropped with a warning, a second inclusion polygon is
//     refused); the validation limits in camelCase or snake_case;
//   - swarm.drones[].settings: name, home, landAt, the trajectory and the
//     light program. A trajectory's point times count from its
//     takeoffTime when given; takeoffTime and landingTime give the
//     drone's takeoff and landing, else they are derived from the path:
//     the start of the first segment that rises more than 10 cm above
//     home, the end of the last one above the landing altitude. The
//     light program's clock starts with the show, not with the drone's
//     takeoff. Pyrotechnic light instructions become
//     nops of the same length, with a warning; instructions that need
//     input channels are refused. yawControl, pyro and media.audio are
//     not flown: a warning each.
//
// # Hostile files
//
// Import reads every member through an io.LimitReader, whatever the ZIP
// header says, within Options.MaxMemberBytes and Options.MaxBytes for
// all members together (256 MiB by default), and refuses an archive that
// lists more than Options.MaxMembers. A $ref must name a member: an
// absolute path, "..", a URL, a missing member, a cycle or a chain of
// more than 16 is refused; the JSON decoded counts a member as often as
// a $ref names it, within Options.MaxBytes too. Arrays are counted
// before they are decoded, then read one element at a time, and
// refused past the show format's bounds (show.MaxDrones drones,
// show.MaxKeyframes points); numbers must be finite (1e400 overflows and
// is refused); point times must increase to the millisecond. Memory
// stays within a small multiple of the bytes read. Errors wrap
// ErrFormat, ErrRef or ErrTooLarge and name the member, the drone and
// the field.
package skyc
