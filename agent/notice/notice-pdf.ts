// noticePdf(): the admission notice as a one-page A4 PDF, made in a worker thread. Setting Chinese
// text and subsetting a CJK font take a few hundred milliseconds of CPU; on the agent's own thread
// that would hold every HIS admission and charge batch waiting meanwhile. One worker, started on the
// first notice and kept (it keeps the parsed fonts), one notice at a time in it; it never keeps
// the process alive when idle, and a worker that dies is replaced on the next notice.
import { Worker } from 'node:worker_threads'
import type { NoticeData } from './notice-data.ts'
import type { NoticePdfOptions } from './notice-pdf-render.ts'
import { CODE, FangpinNoticeFontMissing } from '../errors.ts'

export type { NoticePdfOptions } from './notice-pdf-render.ts'

const WORKER_FILE = new URL('./notice-pdf-worker.mjs', import.meta.url)

interface Pending { resolve: (pdf: Buffer) => void, reject: (err: Error) => void }
interface Answer { id: number, pdf?: Uint8Array, error?: { code?: string, message: string } }

let worker: Worker | null = null
const pending = new Map<number, Pending>()
let nextId = 1

/** Everything waiting fails with the worker's fault: no notice is left hanging. */
function failAll (err: Error): void {
  for (const p of pending.values()) p.reject(err)
  pending.clear()
}

function startWorker (): Worker {
  // execArgv []: the entry registers the TypeScript loader itself; inherited flags may not fit a worker.
  const w = new Worker(WORKER_FILE, { execArgv: [] })
  w.on('message', (a: Answer) => {
    const p = pending.get(a.id)
    if (p === undefined) return
    pending.delete(a.id)
    if (pending.size === 0) w.unref()
    if (a.error !== undefined) {
      p.reject(a.error.code === CODE.FANGPIN_NOTICE_FONT_MISSING ? new FangpinNoticeFontMissing(a.error.message) : new Error(`notice PDF: ${a.error.message}`))
    } else {
      p.resolve(Buffer.from(a.pdf ?? new Uint8Array()))
    }
  })
  w.on('error', (err) => {
    if (worker === w) worker = null
    failAll(new Error(`notice PDF worker failed: ${err.message}`))
  })
  w.on('exit', (code) => {
    if (worker === w) worker = null
    failAll(new Error(`notice PDF worker stopped (exit code ${code})`))
  })
  return w
}

/**
 * The notice as a one-page A4 PDF with its Chinese font embedded. Rejects with
 * FANGPIN_NOTICE_FONT_MISSING (503) when no Chinese font is found: options.font is FANGPIN_NOTICE_FONT.
 */
export async function noticePdf (d: NoticeData, options: NoticePdfOptions = {}): Promise<Buffer> {
  worker ??= startWorker()
  const w = worker
  const id = nextId++
  const answer = new Promise<Buffer>((resolve, reject) => pending.set(id, { resolve, reject }))
  // Held while a notice is being made, let go when none is: an idle worker never keeps the agent up.
  w.ref()
  w.postMessage({ id, data: d, options })
  return await answer
}

/** Stops the worker (the agent's shutdown, a test's end); the next notice starts a new one. */
export async function stopNoticePdfWorker (): Promise<void> {
  const w = worker
  worker = null
  if (w !== null) await w.terminate()
}
