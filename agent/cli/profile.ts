// `fangpin profile show [id|file]`: the active rules of a region profile in Chinese, each with its
// clause — what the agent will do with FANGPIN_PROFILE set to it. `fangpin profile check FILE`:
// validates a hospital's local settings (or a whole profile) before it goes live and lists the
// local settings still missing. Neither needs the data directory.
import { DEFAULT_PROFILE, loadProfile, ProfileError } from '../../profile/profile.ts'
import { describeProfile, renderProfileText } from '../../profile/describe.ts'
import { UsageError, type Io } from '../../base/terminal.ts'

/** EX_DATAERR (sysexits.h): the file is not a valid profile or local settings file. */
export const EX_DATAERR = 65
/** The file is valid but local settings are missing: the rules that need them stay off. */
export const EX_INCOMPLETE = 2

const USAGE = 'usage: fangpin profile show [id|file]   |   fangpin profile check <file>'

export async function profileCommand (args: string[], io: Io): Promise<number> {
  const [sub, target, ...rest] = args
  if (rest.length > 0) throw new UsageError(USAGE)
  if (sub === 'show') {
    const id = target ?? io.env.FANGPIN_PROFILE ?? DEFAULT_PROFILE
    io.out.write(renderProfileText(describeProfile(loadProfile(id))))
    return 0
  }
  if (sub === 'check') {
    if (target === undefined) throw new UsageError(USAGE)
    let profile
    try {
      profile = loadProfile(target)
    } catch (err) {
      if (!(err instanceof ProfileError)) throw err
      io.err.write(`invalid: ${err.message}\n`)
      return EX_DATAERR
    }
    const what = profile.kind === 'shipped'
      ? `shipped profile ${profile.id}`
      : profile.kind === 'file'
        ? `${profile.localFile ?? target}: a whole profile (${profile.id})`
        : `${profile.localFile ?? target}: local settings extending ${profile.id}${profile.hospitalName === null ? '' : `（${profile.hospitalName}）`}`
    io.out.write(`valid: ${what}\n`)
    if (profile.missingLocal.length === 0) {
      io.out.write('local settings: complete\n')
      return 0
    }
    io.out.write(`missing local settings (${profile.missingLocal.length}; the rules that need them stay off):\n`)
    for (const m of profile.missingLocal) io.out.write(`  local.${m.key}: ${m.message}\n`)
    return EX_INCOMPLETE
  }
  throw new UsageError(USAGE)
}
