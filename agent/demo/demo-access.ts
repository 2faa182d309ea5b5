// Ways into the demo that the README prints: an HIS token and a staff sign-in. They exist only with
// the demo list and end the moment real people arrive (an import or a registry sync), so a
// well-known secret can never reach a real patient's data.
import type { Store } from '../store/store.ts'
import { hashPassword } from '../rules/password.ts'
import { DEMO_TOKEN, DEMO_TOKEN_NAME, DEMO_STAFF } from './demo-list.ts'

/** Creates the demo token and staff account once, with the demo list; never brings back a revoked one. */
export async function grantDemoAccess (store: Store): Promise<void> {
  const hash = await hashPassword(DEMO_STAFF.password)
  await store.write(() => {
    if (!store.tokens.list().some((t) => t.name === DEMO_TOKEN_NAME)) store.tokens.create(DEMO_TOKEN_NAME, 'his', DEMO_TOKEN)
    if (store.staff.byName(DEMO_STAFF.name) === undefined && store.staff.list().length === 0) {
      // billing, not admin: a well-known password must not be able to mint tokens or accounts that
      // would outlive the demo.
      store.staff.insertUser({ name: DEMO_STAFF.name, role: 'billing', password_hash: hash })
    }
  })
}

export function demoAccess (store: Store): { token: string | null, staff: typeof DEMO_STAFF | null } {
  const user = store.staff.byName(DEMO_STAFF.name)
  return {
    token: store.tokens.list().some((t) => t.name === DEMO_TOKEN_NAME && t.revoked_at === null) ? DEMO_TOKEN : null,
    staff: user !== undefined && user.disabled_at === null ? DEMO_STAFF : null
  }
}

/**
 * Ends the demo token and sign-in. Runs inside the caller's transaction: the one that makes a real
 * list serve (passed to the list intake as its `atRealList`), or a unit of the write path.
 */
export function endDemoAccess (store: Store, client: string): void {
  const revoked = store.tokens.revoke(DEMO_TOKEN_NAME)
  const disabled = store.staff.disable(DEMO_STAFF.name)
  if (revoked > 0 || disabled) store.audit.write({ client, action: 'demo.end', detail: { token_revoked: revoked > 0, staff_disabled: disabled } })
}
