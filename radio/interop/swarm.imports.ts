// Prepended by mavlink-mappings-gen to the code it generates from
// swarm.xml (it emits no imports of its own).
import {
  MavLinkData,
  MavLinkPacketField,
  MavLinkPacketRegistry,
  int16_t,
  int64_t,
  uint8_t,
  uint16_t,
  uint32_t,
  uint64_t,
  float,
} from 'node-mavlink'
