// Reads a registry snapshot in a worker thread (read-worker.ts) and hands the agent its people as
// encoded batches, in file order, for ListRepository.replaceEncoded.
import { Worker } from 'node:worker_threads'
import type { LoadedProfile } from '../../profile/profile.ts'
import type { RowProblem } from '../../lists/list-record.ts'
import { ListFileError } from '../../lists/list-record.ts'
import type { EncodedBatch } from '../store/list-spool.ts'

export interface ReadWorkerData {
  file: string
  profile: LoadedProfile
  tz: string
  key: Uint8Array
  entry: string
}

export interface ReadSummary {
  problems: RowProblem[]
  rows: number
  goodRows: number
  badRows: number
}

export type ReadWorkerMessage =
  | ({ kind: 'batch' } & EncodedBatch)
  | ({ kind: 'end' } & ReadSummary)
  | { kind: 'error', message: string, name: string }

/**
 * The batches of `file` as the worker sends them; `summary` is there once they have all come (the
 * problems found, the rows read). A file the worker cannot read ends the batches with its error.
 */
export function readInWorker (file: string, opts: { profile: LoadedProfile, tz: string, key: Buffer, signal?: AbortSignal }): { batches: AsyncIterable<EncodedBatch>, summary: () => ReadSummary } {
  let summary: ReadSummary | null = null
  const batches = async function * (): AsyncGenerator<EncodedBatch> {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { file, profile: opts.profile, tz: opts.tz, key: new Uint8Array(opts.key), entry: new URL('./read-worker.ts', import.meta.url).href } satisfies ReadWorkerData
    })
    const queue: ReadWorkerMessage[] = []
    let wake: (() => void) | null = null
    let failure: Error | null = null
    worker.on('message', (m: ReadWorkerMessage) => { queue.push(m); wake?.() })
    worker.on('error', (err) => { failure = err; wake?.() })
    worker.on('exit', (code) => { if (code !== 0 && summary === null) failure ??= new Error(`the reading thread stopped (exit code ${code})`); wake?.() })
    try {
      for (;;) {
        const m = queue.shift()
        if (m === undefined) {
          if (failure !== null) throw failure
          await new Promise<void>((resolve) => { wake = resolve })
          wake = null
          continue
        }
        if (m.kind === 'batch') {
          yield { buf: Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength), count: m.count, identities: m.identities }
        } else if (m.kind === 'end') {
          summary = { problems: m.problems, rows: m.rows, goodRows: m.goodRows, badRows: m.badRows }
          return
        } else {
          throw m.name === 'ListFileError' ? new ListFileError(m.message) : new Error(m.message)
        }
      }
    } finally {
      await worker.terminate()
    }
  }
  return {
    batches: batches(),
    summary: () => {
      if (summary === null) throw new Error('the file has not been read to its end')
      return summary
    }
  }
}
