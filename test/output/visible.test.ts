/**
 * `visible` and the printers that use it: whatever a peer calls itself, its host, or the files it touched,
 * what reaches the terminal holds no control or bidi character and no line of the peer's making. The e2e
 * proof through the built CLI is test/e2e/names.test.ts; here every field of status and peers output,
 * including those the e2e cannot reach (a Hello's host, a relay's view, mDNS finds).
 */
import { describe, expect, it } from 'vitest'
import { formatPeers, formatStatus } from '../../src/output.js'
import { visible, visibleDeep, visibleLines } from '../../src/visible.js'

const EVIL = '\x1b[31mevil\nFAKE LOG LINE\r\u202e\u009b2J\x07'
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

describe('visible', () => {
  it('escapes C0, DEL, C1 and bidi controls visibly, keeps everything else (a backslash too), and is idempotent', () => {
    expect(visible(EVIL)).toBe('\\x1b[31mevil\\nFAKE LOG LINE\\r\\u202e\\x9b2J\\x07')
    expect(visible('plain é ✓ \\ path/to/file.yaml')).toBe('plain é ✓ \\ path/to/file.yaml')
    expect(visible(visible(EVIL))).toBe(visible(EVIL))
    expect(visible(null)).toBe(null)
    expect(visibleLines('a\x1b[2J\nb\u202e')).toBe('a\\x1b[2J\nb\\u202e')
    expect(visibleDeep({ [EVIL]: [EVIL, { x: EVIL, n: 1 }] })).toEqual({ [visible(EVIL)]: [visible(EVIL), { x: visible(EVIL), n: 1 }] })
  })

  it('status and peers output: no raw control character and no forged line, whichever field a peer fills', () => {
    const online = [{ id: 'p-x', name: EVIL, kind: 'agent', host: EVIL, via: 'direct', files: [{ path: `.rhema/${EVIL}.yaml`, at: new Date().toISOString() }] }]
    const status = formatStatus({
      space: 's-x', root: '/r', peer: { id: 'p-me', name: 'me', kind: 'human' }, daemon: { running: true, pid: 1, url: `ws://${EVIL}` },
      files: [{ path: `.rhema/${EVIL}.yaml`, state: 'held', error: { line: 1, col: 1, message: EVIL } }],
      peers: [{ id: 'p-x', name: EVIL, kind: 'agent', connected: true, url: `ws://${EVIL}`, lastSeen: null }],
      online, conflicts: 0, git: null,
    } as never)
    const peers = formatPeers({
      space: 's-x', known: [{ id: 'p-x', name: EVIL, kind: 'agent', connected: false, url: EVIL, lastSeen: null }], online,
      mdns: [{ id: EVIL, url: EVIL, proto: 4, compatible: true, connected: false, announced: true, seenAt: new Date().toISOString() }],
      registry: { url: EVIL, outcome: 'synced', peers: [{ name: EVIL, kind: 'agent', host: EVIL, access: 'write', since: Date.now(), address: EVIL }] },
    } as never)
    for (const text of [status, peers]) {
      expect(RAW.test(text.replace(/\n/g, ''))).toBe(false)
      expect(text.split('\n').some((l) => l.startsWith('FAKE LOG LINE'))).toBe(false)
      expect(text).toContain('\\x1b[31mevil\\nFAKE LOG LINE')
    }
  })
})

describe('look-alike names', () => {
  it('shows what looks like nothing or like a plain space escaped, so "alice\\u200b" does not pass for "alice"', () => {
    for (const c of ['\u200b', '\u00a0', '\u2800', '\u00ad', '\ufeff', '\u3164', '\u2060', '\u202f']) {
      const shown = visible(`alice${c}`)
      expect(shown, JSON.stringify(c)).not.toBe(`alice${c}`)
      expect(shown).toMatch(/^alice\\u[0-9a-f]{4}$|^alice\\x[0-9a-f]{2}$/)
    }
    expect(visible('alice bob')).toBe('alice bob')
    expect(visible('café 日本')).toBe('café 日本')
  })
})
