// Starts a worker thread on a TypeScript module: a worker does not inherit the TypeScript loader
// that `--import tsx` or bin/fangpin.js registered in the main thread, so it registers its own
// before importing its entry (workerData.entry, a file URL).
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
