// `node --import tsx registry/cli-main.ts …`: the registry commands without the agent's CLI,
// for tests that run them as a child process the way an operator would.
import { registryCommand } from './cli.ts'

process.exitCode = await registryCommand(process.argv.slice(2))
