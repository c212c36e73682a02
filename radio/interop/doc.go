// Package interop checks that the swarm dialect and the frames the radio
// layer writes are standard MAVLink: npm's mavlink-mappings-gen generates
// a decoder from swarm.xml alone, and node-mavlink decodes the frames
// Skyquorum signed and verifies their signatures. The Node.js side lives
// in this folder (package.json, package-lock.json, decode.ts); install it
// with `npm ci` here. The package has no Go API.
package interop
