// `fangpin token create|list|revoke`: bearer tokens for HIS callers and admin tools.
import { parseArgs } from 'node:util'
import type { Config } from '../config.ts'
import { FangpinNotFound } from '../errors.ts'
import { UsageError, type Io } from '../../base/terminal.ts'
import type { TokenRole } from '../rules/accounts.ts'
import { withAgent } from './agent.ts'

export async function tokenCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  return await withAgent(config, io, async ({ rules, actor }) => {
    if (sub === 'create') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, role: { type: 'string', default: 'his' } } })
      const name = values.name?.trim() ?? ''
      if (name === '') throw new UsageError('usage: fangpin token create --name <client> [--role his|admin]')
      if (values.role !== 'his' && values.role !== 'admin') throw new UsageError('--role must be his or admin')
      const { token, info } = await rules.createToken(actor, name, values.role as TokenRole)
      io.err.write(`token for "${name}" (role ${info.role}, id ${info.id}); it is shown only this once:\n`)
      io.out.write(token + '\n')
      return 0
    }
    if (sub === 'list') {
      for (const t of rules.listTokens()) {
        io.out.write(`${t.id}  ${t.name.padEnd(20)} ${t.role.padEnd(6)} created ${t.created_at}${t.revoked_at !== null ? `  REVOKED ${t.revoked_at}` : ''}${t.last_used_at !== null ? `  last used ${t.last_used_at}` : ''}\n`)
      }
      return 0
    }
    if (sub === 'revoke') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin token revoke <id|name>')
      let n = 0
      try {
        n = await rules.revokeToken(actor, rest[0], { byName: true })
      } catch (err) {
        if (!(err instanceof FangpinNotFound)) throw err
      }
      io.out.write(n > 0 ? `revoked ${n} token(s)\n` : `no active token with id or name "${rest[0]}"\n`)
      return n > 0 ? 0 : 1
    }
    throw new UsageError('usage: fangpin token create --name <client> | token list | token revoke <id|name>')
  })
}
