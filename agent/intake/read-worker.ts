// The reading half of a full registry sync, in a worker thread: every line of the snapshot parsed,
// checked (schema, ID number, categories, windows) and its person hashed with the subject key and
// encoded for the load's spool (store/list-spool.ts). The agent's event loop only files the
// batches away and then writes the rows, so lookups keep their latency during a province's sync,
// and the garbage of reading millions of records dies with the worker instead of swelling the
// agent's heap. Nothing but keyed hashes and masked names leaves this thread.
import { parentPort, workerData } from 'node:worker_threads'
import { NdjsonReader } from '../../lists/read-ndjson.ts'
import { personKey } from '../../identity/subject-key.ts'
import { maskName } from '../../identity/name.ts'
import { encodePerson, Writer } from '../store/list-spool.ts'
import type { ReadWorkerData, ReadWorkerMessage } from './read-in-worker.ts'

const BATCH_BYTES = 256 * 1024

const data = workerData as ReadWorkerData
const port = parentPort!
const key = Buffer.from(data.key)
const reader = new NdjsonReader(data.file, { profile: data.profile, tz: data.tz })
let w = new Writer()
let count = 0
let identities = 0
const send = (): void => {
  if (count === 0) return
  // its own memory (never Node's shared pool): it is handed over, not copied
  const buf = Buffer.allocUnsafeSlow(w.at)
  w.buf.copy(buf, 0, 0, w.at)
  const message: ReadWorkerMessage = { kind: 'batch', buf, count, identities }
  port.postMessage(message, [buf.buffer as ArrayBuffer])
  w = new Writer()
  count = 0
  identities = 0
}
try {
  for await (const { line, record } of reader.records()) {
    // a full snapshot is its upserts (a delete record in it is ignored, as replace() does)
    if (record.op === 'delete' || record.identities.length === 0) continue
    encodePerson(w, { key: personKey(key, record.psn_cert_type, record.certno), line, name: maskName(record.psn_name), identities: record.identities, ytd: record.ytd ?? null })
    count++
    identities += record.identities.length
    if (w.at >= BATCH_BYTES) send()
  }
  send()
  const end: ReadWorkerMessage = { kind: 'end', problems: reader.problems, rows: reader.rows, goodRows: reader.goodRows, badRows: reader.badRows }
  port.postMessage(end)
} catch (err) {
  const failed: ReadWorkerMessage = { kind: 'error', message: (err as Error).message, name: (err as Error).name }
  port.postMessage(failed)
}
