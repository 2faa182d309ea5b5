// The region's rules as this agent applies them, and the local settings they still need. A shipped
// profile starts on its own: what its text leaves to the hospital (who gets 先诊疗后付费 where the
// text is silent, an agreement's self-pay share, a warning amount) is a local setting, and while one
// is missing the rule that needs it stays off. Staff see one local_setting_missing alert naming each
// setting, resolved once the hospital's file gives them all.
import { describeProfile, type ProfileDescription } from '../../profile/describe.ts'
import type { MissingSetting } from '../../profile/profile.ts'
import type { RulesContext } from './context.ts'

export function profileView (ctx: RulesContext): ProfileDescription {
  return describeProfile(ctx.profile)
}

/** Raises (or refreshes) the local_setting_missing alert, or resolves it; returns what is missing. */
export async function checkLocalSettings (ctx: RulesContext): Promise<MissingSetting[]> {
  const { store, profile } = ctx
  const missing = profile.missingLocal
  await store.write(() => {
    if (missing.length === 0) {
      store.alerts.resolve('local_setting_missing')
      return
    }
    store.alerts.raise({
      kind: 'local_setting_missing',
      level: 'warning',
      message: `本院本地设置缺少${missing.length}项，相关规则暂停：${missing.map((m) => `local.${m.key}`).join('、')}。请信息科按 fangpin profile check 的提示填写本地设置文件（FANGPIN_PROFILE）`,
      detail: { profile: profile.id, missing }
    })
  })
  return missing
}
