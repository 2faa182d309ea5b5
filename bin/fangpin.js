#!/usr/bin/env node
// The installed `fangpin` command: registers the TypeScript loader, then runs the CLI.
import { register } from 'tsx/esm/api'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

register()
const here = dirname(fileURLToPath(import.meta.url))
const { main } = await import(join(here, '..', 'agent', 'cli', 'main.ts'))
const code = await main(process.argv.slice(2))
if (code >= 0) process.exitCode = code
