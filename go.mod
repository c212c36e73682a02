module github.com/skyquorum/skyquorum

go 1.26

require (
	github.com/bluenviron/gomavlib/v3 v3.3.5
	github.com/creack/pty v1.1.24
	github.com/klauspost/reedsolomon v1.14.2
	github.com/pion/transport/v2 v2.2.10
	github.com/stretchr/testify v1.12.1
	go.bug.st/serial v1.7.1
	go.uber.org/goleak v1.3.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.43.0
)

require (
	github.com/alecthomas/kong v1.15.0 // indirect
	github.com/klauspost/cpuid/v2 v2.3.0 // indirect
	github.com/pion/logging v0.2.2 // indirect
	golang.org/x/net v0.38.0 // indirect
)

tool github.com/bluenviron/gomavlib/v3/cmd/dialect-import
