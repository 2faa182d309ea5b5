// The demo as a registry: on a fresh install with no registry configured, the bundled demo list is
// published with the bundled demo key into the data directory and served on a loopback port, and
// the agent loads it through the real sync path (signature, sha256, validation, atomic apply).
// The demo key is public by design; it signs nothing but synthetic people.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readPrivateKey } from '../../registry/manifest.ts'
import { publish } from '../../registry/publish.ts'
import { startRegistryServer } from '../../registry/serve.ts'
import type { ListRecord } from '../../lists/list-record.ts'
import { demoRecords } from './demo-list.ts'

export const DEMO_REGISTRY_KEY_FILE = join(dirname(fileURLToPath(import.meta.url)), 'demo-registry.key')
export const DEMO_REGION = '450206'

export interface DemoRegistry {
  url: string
  publicKey: KeyObject
  close: () => Promise<void>
}

export async function startDemoRegistry (dataDir: string): Promise<DemoRegistry> {
  const dir = join(dataDir, 'demo-registry')
  const privateKey = readPrivateKey(DEMO_REGISTRY_KEY_FILE)
  if (!existsSync(join(dir, 'manifest.json'))) {
    // Ten years: a demo left running must not freeze on an expired manifest.
    await publish({ records: demoRecords() as ListRecord[], outDir: dir, privateKey, region: DEMO_REGION, expiresDays: 3650 })
  }
  const server = await startRegistryServer(dir, { port: 0, host: '127.0.0.1' })
  return { url: server.url + '/', publicKey: createPublicKey(privateKey), close: server.close }
}
