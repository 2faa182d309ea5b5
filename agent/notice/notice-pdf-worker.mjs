// The notice worker's entry: plain JavaScript so that it starts the same whether the agent runs
// under `node --import tsx`, the installed `fangpin` command or the test runner — it registers the
// TypeScript loader itself, then renders one notice per message, fonts parsed once and kept.
import { parentPort } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { renderNoticePdf } = await import('./notice-pdf-render.ts')

parentPort.on('message', async ({ id, data, options }) => {
  try {
    const pdf = await renderNoticePdf(data, options)
    parentPort.postMessage({ id, pdf })
  } catch (err) {
    parentPort.postMessage({ id, error: { code: err?.code, message: err?.message ?? String(err) } })
  }
})
