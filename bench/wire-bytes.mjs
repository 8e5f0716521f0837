/**
 * Issue 2 benchmark: bytes on the wire for one live single-field edit between two peers.
 *
 * Two clones with the 10 KB Rhema todos file, `ctxsync watch` in each (child processes on 127.0.0.1); B dials
 * A *through a TCP proxy* on 127.0.0.1 that counts every byte each way and parses the WebSocket frames, so
 * heartbeats (ping/pong) can be told apart from sync traffic. After the initial sync has gone quiet, each
 * edit is saved on A; the window closes 250 ms after B's file holds it (the receiver acknowledges within
 * 50 ms). The figure is every TCP payload byte in the window, both directions (the Update A→B and the Ack
 * B→A), heartbeats excluded; TCP/IP headers are not counted.
 *
 * For the breakdown, the same edits are ingested in process to get the bare Yjs update sizes.
 *
 *   node bench/wire-bytes.mjs [--quick] [--edits N]
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { FileModel } from '../dist/crdt/model.js'
import { DOC, FieldEditor, QUICK, TODOS_10K, arg, author, ctxChild, median, mulberry32, report, run, sleep, twoClones, waitOutput } from './lib.mjs'

/** Per-direction WebSocket frame parser (RFC 6455) over a byte stream, after the HTTP upgrade. */
class WsMeter {
  constructor(dir, sink) {
    this.dir = dir
    this.sink = sink
    this.buf = Buffer.alloc(0)
    this.http = true
  }

  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk])
    if (this.http) {
      const end = this.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      this.sink({ dir: this.dir, kind: 'http', wire: end + 4, payload: 0 })
      this.buf = this.buf.subarray(end + 4)
      this.http = false
    }
    for (;;) {
      const b = this.buf
      if (b.length < 2) return
      const opcode = b[0] & 0x0f
      const masked = (b[1] & 0x80) !== 0
      let len = b[1] & 0x7f
      let off = 2
      if (len === 126) {
        if (b.length < 4) return
        len = b.readUInt16BE(2)
        off = 4
      } else if (len === 127) {
        if (b.length < 10) return
        len = Number(b.readBigUInt64BE(2))
        off = 10
      }
      if (masked) off += 4
      if (b.length < off + len) return
      const kind = opcode === 9 ? 'ping' : opcode === 10 ? 'pong' : opcode === 8 ? 'close' : 'data'
      this.sink({ dir: this.dir, kind, wire: off + len, payload: len, header: off })
      this.buf = b.subarray(off + len)
    }
  }
}

function proxy(targetPort, sink) {
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    const up = new WsMeter('B→A', sink)
    const down = new WsMeter('A→B', sink)
    client.on('data', (d) => {
      up.push(d)
      upstream.write(d)
    })
    upstream.on('data', (d) => {
      down.push(d)
      client.write(d)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

run(async () => {
  const edits = Number(arg('edits', QUICK ? 4 : 40))
  const NAME = DOC
  const text0 = fs.readFileSync(TODOS_10K, 'utf8')
  const clones = await twoClones({ [NAME]: text0 }, 'wire')
  const fileA = path.join(clones.a, NAME)
  const fileB = path.join(clones.b, NAME)

  let frames = []
  const all = []
  const sink = (f) => {
    frames.push(f)
    all.push(f)
  }
  const pa = ctxChild(['watch', '--port', '0'], { cwd: clones.a })
  const aPort = Number((await waitOutput(pa, /listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1])
  const server = await proxy(aPort, sink)
  const pb = ctxChild(['watch', '--port', '0', '--peer', `ws://127.0.0.1:${server.address().port}`], { cwd: clones.b })
  try {
    await waitOutput(pb, /connected to /)
    await sleep(QUICK ? 400 : 800) // initial sync and its acknowledgements
    const setup = all.filter((f) => f.kind !== 'ping' && f.kind !== 'pong').reduce((n, f) => n + f.wire, 0)
    console.log(`wire-bytes: ${edits} single-field edits saved on A, 10 KB todos file; connection setup + initial sync: ${setup} bytes`)

    // The same edits in process, for the bare Yjs update sizes.
    const m = new FileModel({ name: NAME, author: author('x') })
    m.enroll(text0)
    const ed = new FieldEditor(text0)
    const ed2 = new FieldEditor(text0)
    const rng = mulberry32(9)
    let text = text0
    let mirror = text0
    const per = []
    for (let i = 0; i < edits; i++) {
      const k = Math.floor(rng() * ed.count)
      text = ed.edit(text, k)
      mirror = ed2.edit(mirror, k)
      // The transaction's own update (what the daemon sends), not encodeStateAsUpdate(doc, sv), which
      // carries the document's whole delete set.
      let yjs = 0
      const onUpdate = (u) => (yjs += u.length)
      m.doc.on('update', onUpdate)
      m.ingest(mirror)
      m.doc.off('update', onUpdate)

      frames = []
      fs.writeFileSync(fileA, text)
      const deadline = Date.now() + 5000
      while (fs.readFileSync(fileB, 'utf8') !== text) {
        if (Date.now() > deadline) throw new Error(`edit ${i} did not reach B`)
        await sleep(2)
      }
      await sleep(250)
      const win = frames.filter((f) => f.kind === 'data')
      const hb = frames.filter((f) => f.kind === 'ping' || f.kind === 'pong')
      const sum = (dir) => win.filter((f) => f.dir === dir).reduce((n, f) => n + f.wire, 0)
      per.push({
        total: sum('A→B') + sum('B→A'),
        ab: sum('A→B'),
        ba: sum('B→A'),
        frames: win.length,
        wsHeaders: win.reduce((n, f) => n + f.header, 0),
        yjs,
        heartbeat: hb.reduce((n, f) => n + f.wire, 0),
      })
      if (process.env.BENCH_DEBUG) console.log(JSON.stringify({ i, k, ...per.at(-1) }))
      await sleep(100 + Math.floor(rng() * 100))
    }
    const med = (k) => median(per.map((p) => p[k]))
    const max = (k) => Math.max(...per.map((p) => p[k]))
    report('bytes on the wire for one live single-field edit', [
      { figure: 'total, both directions (median)', value: med('total'), unit: 'B', digits: 0, target: { op: '<=', value: 200 }, note: `max ${max('total')} B, ${med('frames')} frames per edit` },
      { figure: '  A→B (Update)', value: med('ab'), unit: 'B', digits: 0, note: `max ${max('ab')} B` },
      { figure: '  B→A (Ack)', value: med('ba'), unit: 'B', digits: 0, note: `max ${max('ba')} B` },
      { figure: '  of which WebSocket frame headers', value: med('wsHeaders'), unit: 'B', digits: 0, note: 'client→server frames carry a 4-byte mask' },
      { figure: '  of which AES-GCM tags', value: 16 * med('frames'), unit: 'B', digits: 0, note: '16 B per sealed frame' },
      { figure: '  bare Yjs update of the edit (in process)', value: med('yjs'), unit: 'B', digits: 0, note: `max ${max('yjs')} B` },
    ], { heartbeats: `ping/pong excluded (${per.reduce((n, p) => n + p.heartbeat, 0)} B seen during the windows)` })
  } finally {
    server.close()
  }
})
