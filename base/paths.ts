// Where the project's own files are, wherever it is installed: the JSON Schemas (the contracts
// the HTTP API, the registry format and the profiles are checked against).
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const PROJECT_DIR = fileURLToPath(new URL('..', import.meta.url))
export const SCHEMAS_DIR = join(PROJECT_DIR, 'schemas')

/** The path of schemas/<name>.schema.json. */
export function schemaFile (name: string): string {
  return join(SCHEMAS_DIR, `${name}.schema.json`)
}
