// Package showcsv reads and writes the CSV form of a show that Blender
// exports (the Skybrush Studio plugin's "CSV" export): a ZIP of one file
// per drone, "Drone 1.csv", "Drone 2.csv", …, each with the header
//
//	Time [msec],x [m],y [m],z [m],Red,Green,Blue
//
// and one row per sample: the show time in milliseconds, the position in
// metres and the light colour, each component an integer 0 to 255. An
// eighth column named "Yaw …" is accepted and ignored.
//
// # Import
//
// Import, ImportFS and ImportFile read a ZIP, a directory of CSV files or
// a single CSV file. Every file whose name ends in .csv is one drone;
// drones are ordered by the numbers in their file names (natural order:
// "Drone 2" before "Drone 10") and named after the file, without .csv.
//
// The CSV is a sampling of the animation, so the importer joins
// consecutive rows by straight segments flown at constant speed (linear
// keyframes), positions rounded to the millimetre. A row that lies within
// Tolerance (1 mm) of the straight segment between its neighbours kept, at
// its time, adds nothing and is dropped (Options.KeepRows keeps every
// row): a drone that hovers or flies straight for a minute costs two
// keyframes. Home is the first row's position and Land the last's;
// Takeoff is the time the drone first leaves Home, Landing the time it
// comes to rest at Land.
//
// The colour columns are the light colour sampled at each row's time, so
// the light program fades linearly from each row's colour to the next
// one's, which reproduces the samples; rows of equal colour make one hold,
// and rows that lie on one linear fade (within one step of 255 per
// component) make one fade. The program starts with the first row's
// colour at show time 0 and keeps the last row's colour after the last
// row. Fades start at the row's time to the millisecond (wait until) and
// last whole 20 ms units of the light byte-code, so a colour change is
// never more than 10 ms off and errors do not add up.
//
// Colours are integers 0 to 255 ("255.0" is accepted); fractions are
// refused rather than read as the 0-to-1 scale, since a file of 0s and 1s
// would mean two different things.
//
// A CSV carries no origin, orientation, geofence or limits: Options gives
// them. A show without an origin (Options.HasOrigin false) imports, but
// cannot be flown; the groundstation refuses to write it.
//
// Hostile or broken input fails with an error wrapping ErrFormat that
// names the file, the line and the column: a bad header, a number that is
// not one or not finite, a negative time, times that do not increase, a
// position beyond show.MaxCoordinate, a colour outside 0 to 255, more
// than show.MaxKeyframes rows in a file or show.MaxDrones files, a line
// longer than MaxLine bytes. The decompressed bytes are counted as they
// are read, whatever a ZIP's headers claim, and reading stops beyond
// Options.MaxBytes (DefaultMaxBytes), which bounds the memory an import
// takes to a small multiple of it.
//
// # Export
//
// Export writes a show as the same ZIP, sampling each drone's track from
// show time 0 to its last keyframe or light change, every 1/24 s and at
// every keyframe and every light change (a colour set at once is sampled
// 1 ms before it too), so that importing the export gives back a linear
// show and its lights.
package showcsv
