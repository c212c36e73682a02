package hub

import "time"

// Counters are the hub's running totals since Start.
type Counters struct {
	Networks []NetworkCounters `json:"networks"`
}

// NetworkCounters are one network's totals.
type NetworkCounters struct {
	// Network is the network's number, from 1.
	Network int `json:"network"`
	// Frames and Bytes went on air.
	Frames int `json:"frames"`
	Bytes  int `json:"bytes"`
	// Airtime is the channel time of those frames (bytes × 10 / baud).
	Airtime time.Duration `json:"airtime_ns"`
	// AirtimeShare is Airtime over the time since Start.
	AirtimeShare float64 `json:"airtime_share"`
	// BusiestShare is the largest share of one window of AirtimeWindow
	// (10 s) that the channel was busy.
	BusiestShare float64 `json:"busiest_10s_share"`
	// Delivered counts frames handed to receivers (a duplicate counts
	// twice); Lost, Duplicated and PartitionDrops count per-receiver
	// outcomes.
	Delivered      int `json:"delivered"`
	Lost           int `json:"lost"`
	Duplicated     int `json:"duplicated"`
	PartitionDrops int `json:"partition_drops"`
	// QueueDrops counts frames refused because their sender's transmit
	// queue was full.
	QueueDrops int `json:"queue_drops"`
	// Queued is the bytes waiting in transmit queues or on air now.
	Queued int `json:"queued"`
	// Endpoints are the network's radios, in the order they joined.
	Endpoints []EndpointCounters `json:"endpoints"`
}

// EndpointCounters are one endpoint's totals.
type EndpointCounters struct {
	// Endpoint is "udp:HOST:PORT" or "pty:DEVICE".
	Endpoint string `json:"endpoint"`
	// SystemID is the MAVLink system ID of its latest frame (0 before its
	// first).
	SystemID uint8 `json:"system_id"`
	// Frames, Bytes and Airtime it put on air; AirtimeShare is Airtime
	// over the time since Start.
	Frames       int           `json:"frames"`
	Bytes        int           `json:"bytes"`
	Airtime      time.Duration `json:"airtime_ns"`
	AirtimeShare float64       `json:"airtime_share"`
	// QueueDrops are its frames refused for a full transmit queue.
	QueueDrops int `json:"queue_drops"`
	// Queued is the bytes in its transmit queue now; TxBuf the free
	// percentage that its RADIO_STATUS reports.
	Queued int   `json:"queued"`
	TxBuf  uint8 `json:"txbuf"`
	// Received counts frames handed to it; Lost, Duplicated and
	// PartitionDrops what the channel did to frames meant for it.
	Received       int `json:"received"`
	Lost           int `json:"lost"`
	Duplicated     int `json:"duplicated"`
	PartitionDrops int `json:"partition_drops"`
	// Overruns are frames for it dropped because it did not read its pty
	// in time.
	Overruns int `json:"overruns"`
	// Status counts the RADIO_STATUS frames sent to it.
	Status int `json:"radio_status"`
	// Garbage is the bytes it sent that were no frame.
	Garbage int `json:"garbage_bytes"`
}

// counters reads the channel's totals at now.
func (c *channel) counters(network int, now time.Time) NetworkCounters {
	elapsed := now.Sub(c.start)
	share := func(d time.Duration) float64 {
		if elapsed <= 0 {
			return 0
		}
		return float64(d) / float64(elapsed)
	}
	nc := NetworkCounters{
		Network: network, Frames: c.frames, Bytes: c.bytes, Airtime: c.airtime,
		AirtimeShare: share(c.airtime), BusiestShare: c.busiest(now),
		Delivered: c.delivered, Lost: c.lost, Duplicated: c.duplicated, PartitionDrops: c.cutDrops,
		QueueDrops: c.queueDrops, Endpoints: []EndpointCounters{},
	}
	for _, ep := range c.eps {
		nc.Queued += ep.queued
		nc.Endpoints = append(nc.Endpoints, EndpointCounters{
			Endpoint: ep.name, SystemID: ep.sysid,
			Frames: ep.frames, Bytes: ep.bytes, Airtime: ep.airtime, AirtimeShare: share(ep.airtime),
			QueueDrops: ep.queueDrops, Queued: ep.queued, TxBuf: c.free(ep),
			Received: ep.received, Lost: ep.lost, Duplicated: ep.duplicated, PartitionDrops: ep.partitionDrops,
			Overruns: ep.overruns, Status: ep.status, Garbage: ep.garbage,
		})
	}
	return nc
}
