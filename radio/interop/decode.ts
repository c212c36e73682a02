// decode.ts: read MAVLink 2 frames written by Skyquorum from a file,
// decode them with node-mavlink and the classes mavlink-mappings-gen
// generated from swarm.xml alone, check their signatures, and print one
// JSON object per frame on standard output.
//
// usage: node decode.js FRAMES_FILE KEY_HEX
import { readFileSync } from 'fs'
import { Readable } from 'stream'
import { MavLinkPacketSplitter, MavLinkPacketParser, MavLinkPacket } from 'node-mavlink'
import { REGISTRY } from './swarm'
import { MSG_ID_MAGIC_NUMBER } from './magic-numbers'

async function main() {
  const [file, keyHex] = process.argv.slice(2)
  const key = Buffer.from(keyHex, 'hex')
  if (key.length !== 32) throw new Error('the key must be 64 hexadecimal digits')
  const wrongKey = Buffer.from(key)
  wrongKey[0] ^= 0xff

  let crcErrors = 0
  const splitter = new MavLinkPacketSplitter({}, {
    magicNumbers: MSG_ID_MAGIC_NUMBER,
    onCrcError: () => { crcErrors++ },
  })
  const packets = Readable.from([readFileSync(file)]).pipe(splitter).pipe(new MavLinkPacketParser())
  for await (const packet of packets as AsyncIterable<MavLinkPacket>) {
    const clazz = REGISTRY[packet.header.msgid]
    if (!clazz) throw new Error(`message ${packet.header.msgid} is not in the generated registry`)
    const data = packet.protocol.data(packet.payload, clazz) as any
    const fields: Record<string, unknown> = {}
    for (const f of clazz.FIELDS) fields[f.source] = data[f.name]
    process.stdout.write(JSON.stringify({
      msgid: packet.header.msgid,
      name: clazz.MSG_NAME,
      sysid: packet.header.sysid,
      compid: packet.header.compid,
      seq: packet.header.seq,
      signed: packet.signature !== null,
      signatureValid: packet.signature?.matches(key) ?? false,
      signatureValidWithWrongKey: packet.signature?.matches(wrongKey) ?? false,
      linkId: packet.signature?.linkId,
      timestamp: packet.signature?.timestamp,
      fields,
    }, (_, v) => typeof v === 'bigint' ? v.toString() : v) + '\n')
  }
  process.stderr.write(`crc errors: ${crcErrors}\n`)
  if (crcErrors > 0) process.exit(1)
}

main().catch(err => {
  process.stderr.write(`${err.stack ?? err}\n`)
  process.exit(1)
})
