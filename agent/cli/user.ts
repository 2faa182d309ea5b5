// `fangpin user add|list|passwd|disable|unlock`: staff accounts for the billing page.
import { parseArgs } from 'node:util'
import type { Config } from '../config.ts'
import { readPassword, UsageError, type Io } from '../../base/terminal.ts'
import { withAgent } from './agent.ts'

const USAGE = 'usage: fangpin user add --name <name> --role billing|admin [--password-stdin] | user list | user passwd <name> | user disable <name> | user unlock <name>'

export async function userCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  return await withAgent(config, io, async ({ rules, store, actor }) => {
    if (sub === 'add') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } } })
      const name = values.name?.trim() ?? ''
      if (name === '' || (values.role !== 'billing' && values.role !== 'admin')) throw new UsageError('usage: fangpin user add --name <name> --role billing|admin [--password-stdin]')
      // Before the password is asked for: nobody types a password twice for a name that is taken.
      if (store.staff.byName(name) !== undefined) throw new UsageError(`a staff user named ${name} already exists`)
      const password = await readPassword(io, values['password-stdin'] === true, `password for ${name}: `)
      const user = await rules.addStaff(actor, { name, role: values.role, password })
      io.out.write(`staff user ${user.name} (${user.role}) created; sign in at the agent's address with a browser\n`)
      return 0
    }
    if (sub === 'list') {
      for (const u of rules.listStaff()) {
        const locks = u.locks.map((l) => `  LOCKED from ${l.address} until ${l.until}`).join('')
        io.out.write(`${u.name.padEnd(20)} ${u.role.padEnd(8)} created ${u.created_at}${u.disabled_at !== null ? `  DISABLED ${u.disabled_at}` : ''}${u.last_login_at !== null ? `  last sign-in ${u.last_login_at}` : ''}${locks}\n`)
      }
      return 0
    }
    if (sub === 'passwd') {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'password-stdin': { type: 'boolean', default: false } } })
      if (positionals.length !== 1) throw new UsageError('usage: fangpin user passwd <name> [--password-stdin]')
      if (store.staff.byName(positionals[0]) === undefined) throw new UsageError(`no staff user named ${positionals[0]}`)
      await rules.setStaffPassword(actor, positionals[0], await readPassword(io, values['password-stdin'] === true, `new password for ${positionals[0]}: `))
      io.out.write(`password of ${positionals[0]} changed\n`)
      return 0
    }
    if (sub === 'disable') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin user disable <name>')
      const done = await rules.disableStaff(actor, rest[0])
      io.out.write(done ? `staff user ${rest[0]} disabled\n` : `no active staff user named ${rest[0]}\n`)
      return done ? 0 : 1
    }
    if (sub === 'unlock') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin user unlock <name>')
      // The running agent reads the locks from the database at each sign-in: this takes effect at once.
      const { name, unlocked } = await rules.unlockStaff(actor, rest[0])
      io.out.write(unlocked > 0 ? `staff user ${name} unlocked: ${unlocked} lock(s) ended\n` : `staff user ${name} was not locked (0 locks)\n`)
      return 0
    }
    throw new UsageError(USAGE)
  })
}
