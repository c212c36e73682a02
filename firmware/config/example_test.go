package config_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/firmware/config"
)

// A drone of the second radio network: its system ID follows from its
// vehicle ID.
func ExampleParse() {
	c, err := config.Parse([]byte(`
id: 260
members: 251-300
radio: {serial: /dev/ttyUSB0}
flight_controller: {serial: /dev/serial0}
`), "drone.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("network", c.Network, "system ID", c.SystemID(), "members", len(c.Members))
	fmt.Println("radio", c.Radio.Serial, c.Radio.Baud, "flight controller", c.FlightController.Serial, c.FlightController.Baud)
	fmt.Println("on link loss", c.Failsafe.LinkLoss.Action, "on stop", c.Failsafe.OnStop)
	// Output:
	// network 1 system ID 10 members 50
	// radio /dev/ttyUSB0 57600 flight controller /dev/serial0 921600
	// on link loss continue on stop land
}

// Every problem of a file, each with its line and field.
func ExampleParse_errors() {
	_, err := config.Parse([]byte(`id: 7
members: [1-6, 8]
radio:
  serial: /dev/ttyUSB0
  baud: 57000
flight_controller: {serial: /dev/serial0}
failsafe: {on_stop: wait}
`), "drone.yaml")
	fmt.Println(err)
	// Output:
	// drone.yaml:2: members: does not include this drone's id 7: add it
	// drone.yaml:5: radio.baud: 57000 is not a standard serial rate: write one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1500000, 2000000 (SiK radios: 57600)
	// drone.yaml:7: failsafe.on_stop: "wait" is not an option: write one of land, hold
}

// A config written from code: every default is written out, members as
// ranges.
func ExampleMarshal() {
	b, err := config.Marshal(&config.Config{
		ID:               3,
		Members:          []uint16{1, 2, 3, 4, 5, 9},
		Radio:            config.Radio{Serial: "/dev/ttyUSB0"},
		FlightController: config.FlightController{Serial: "/dev/serial0"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(b))
	// Output:
	// # Skyquorum drone configuration: docs/drone-config.md describes every field.
	// id: 3
	// network: 0
	// members: [1-5, 9]
	// radio:
	//   serial: /dev/ttyUSB0
	//   baud: 57600
	// flight_controller:
	//   serial: /dev/serial0
	//   baud: 921600
	// key_file: /etc/skyquorum/swarm.key
	// state_dir: /var/lib/skyquorum
	// failsafe:
	//   link_loss:
	//     action: continue
	//     after: 10s
	//   low_battery: return
	//   geofence: land
	//   on_stop: land
	// log:
	//   format: auto
	//   level: info
}
