package packaging

import (
	"fmt"
	"path"
	"strings"
)

// The service and its user.
const (
	// ServiceName is the systemd unit that runs the drone program.
	ServiceName = "skyquorum-drone.service"
	// User is the dedicated system user the service runs as.
	User = "skyquorum"
	// ArmedFile is the file the drone program keeps while its flight
	// controller reports itself armed or airborne (RuntimeDirectory=).
	ArmedFile = "/run/skyquorum/armed"
	// UID is the user's fixed ID (and its group's), the same on every
	// drone, so that files copied between drones keep their owner.
	UID = 722
	// CredentialName is the name the swarm key is loaded under.
	CredentialName = "swarm.key"
)

// Layout is where the files live on a drone.
type Layout struct {
	// Binary is the drone program; the one it replaced is kept beside it
	// with PrevSuffix.
	Binary string
	// Config is the drone's config file.
	Config string
	// Key is the swarm key at rest (root's, mode 0600); the service
	// reads it as a credential.
	Key string
	// Unit is the systemd unit.
	Unit string
	// Sysusers is the sysusers.d entry that creates the user.
	Sysusers string
	// StateDir is the service's state directory, which systemd creates
	// owned by the user (StateDirectory=).
	StateDir string
}

// PrevSuffix names the previous binary, kept for rollback.
const PrevSuffix = ".prev"

// DefaultLayout is where groundstation flash installs.
var DefaultLayout = Layout{
	Binary:   "/opt/skyquorum/drone",
	Config:   "/etc/skyquorum/drone.yaml",
	Key:      "/etc/skyquorum/swarm.key",
	Unit:     "/etc/systemd/system/" + ServiceName,
	Sysusers: "/etc/sysusers.d/skyquorum.conf",
	StateDir: "/var/lib/skyquorum",
}

// CredentialPath is where the service finds the swarm key: systemd
// copies it there at start, readable by the service's user only, in a
// directory no other user can read; the config's key_file names it.
func CredentialPath() string {
	return "/run/credentials/" + ServiceName + "/" + CredentialName
}

// Unit is the systemd unit running the drone program of layout l.
func Unit(l Layout) string {
	state := strings.TrimPrefix(l.StateDir, "/var/lib/")
	return fmt.Sprintf(`# Skyquorum swarm drone (installed by groundstation flash).
[Unit]
Description=Skyquorum swarm drone
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=60
StartLimitBurst=10

[Service]
Type=exec
User=%[1]s
Group=%[1]s
# Radios and flight controllers are serial devices, owned by dialout.
SupplementaryGroups=dialout
# The swarm key stays root's (mode 0600); systemd hands the service a copy
# that only it can read.
LoadCredential=%[2]s:%[3]s
StateDirectory=%[4]s
StateDirectoryMode=0700
# The drone program keeps /run/skyquorum/armed while its flight controller
# reports itself armed or airborne (groundstation flash checks it).
RuntimeDirectory=skyquorum
ExecStart=%[5]s run --config %[6]s
Restart=on-failure
RestartSec=2s
# The drone lands or holds on SIGTERM (failsafe.on_stop): give it time.
TimeoutStopSec=60s
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`, User, CredentialName, l.Key, state, l.Binary, l.Config)
}

// Sysusers is the sysusers.d entry that creates the service's user and
// group with the fixed UID, its home the state directory, no login shell.
func Sysusers(l Layout) string {
	return fmt.Sprintf("# Skyquorum swarm drone's user (installed by groundstation flash).\nu %s %d \"Skyquorum swarm drone\" %s -\n", User, UID, l.StateDir)
}

// PrevBinary is the path of the previous binary.
func (l Layout) PrevBinary() string { return l.Binary + PrevSuffix }

// Dirs are the directories the layout's files go in.
func (l Layout) Dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range []string{l.Binary, l.Config, l.Key, l.Unit, l.Sysusers} {
		if d := path.Dir(p); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
