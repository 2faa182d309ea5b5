// The charge feed (2301 upload, 2302 cancel) and the order precheck. A batch is applied whole or
// not at all: its lines, the stay's running totals and the alerts they cause are one transaction,
// and the HIS is answered only after it committed. A retried batch (same feedetl_sn, same content)
// is counted once.
import type { Store } from '../store/store.ts'
import type { StayRow } from '../store/stays.ts'
import type { AlertRow } from '../store/alerts.ts'
import type { Card } from './voice.ts'
import { FangpinChargeConflict, FangpinNotFound, FangpinValidation, withDetails } from '../errors.ts'
import { readChargeLine, type ChargeLine, type FeeDetail } from './charge-line.ts'
import { yuanText } from './money.ts'
import { amountsOf, flagsOf, refreshAlerts, openStay, requireOpen, trimId } from './stay.ts'
import { alertView, type AlertView } from './alert.ts'
import { limits, status, totals, type Amounts, type SpendingStatus, type Totals } from './spending.ts'
import { stayCards, precheckCards } from './voice.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'
import {
  alternativeCards, alternativesFor, batchCatalog, classifyLines, todayLocal, unmappedCards,
  type Alternatives, type BatchCatalog, type LevelSource, type LineFinding, type LineLevel
} from './catalog.ts'

export interface ChargeResult {
  mdtrt_id: string
  accepted: number
  duplicates: string[]
  totals: Totals
  status: SpendingStatus
  alerts: AlertView[]
  cards: Card[]
  /** how each line of the request was read: its level and where it came from (his, catalog, unknown) */
  lines: LineLevel[]
  /** for out-of-catalog lines of a batch that leaves the stay at warning or breach: in-catalog products of the same generic */
  alternatives: Alternatives[]
}

function conflict (index: number, field: string, reason: string, message: string): never {
  throw withDetails(new FangpinChargeConflict(`feedetail[${index}].${field}: ${message}`), [{ field: `feedetail/${index}/${field}`, reason, message, line: index }])
}

function result (ctx: RulesContext, row: StayRow, accepted: number, duplicates: string[], created: AlertRow[]): ChargeResult {
  const l = limits(ctx.profile)
  const a = amountsOf(row)
  const st = status(a, flagsOf(row), l)
  return {
    mdtrt_id: row.mdtrt_id,
    accepted,
    duplicates,
    totals: totals(a, l),
    status: st,
    alerts: created.map(alertView),
    cards: stayCards(a, st, flagsOf(row), l),
    lines: [],
    alternatives: []
  }
}

// A watched stay's figures count its 未对照项目 as out of catalog, limit or not: a region with no
// limit ('no_limit') still keeps and shows those figures, so staff still need to know the lines.
const WATCHED: readonly SpendingStatus[] = ['ok', 'warning', 'breach', 'no_limit']

/**
 * What the catalog adds to an answer: the lines' levels, a card naming 未对照项目 when the stay is
 * watched, and alternatives (a list and CDS Hooks cards) for the out-of-catalog lines `pick` chooses.
 */
function withCatalog<T extends { status: SpendingStatus, cards: Card[], lines: LineLevel[], alternatives: Alternatives[] }> (ctx: RulesContext,
  answer: T, cat: BatchCatalog | null, lines: ChargeLine[], findings: LineFinding[], pick: ((i: number) => boolean) | null): T {
  answer.lines = findings.map((f) => f.level)
  if (cat === null) return answer
  if (WATCHED.includes(answer.status)) answer.cards.push(...unmappedCards(lines, findings))
  if (pick !== null) {
    answer.alternatives = alternativesFor(cat, lines, findings, pick, todayLocal(ctx))
    answer.cards.push(...alternativeCards(answer.alternatives))
  }
  return answer
}

export async function applyCharges (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, feedetail: FeeDetail[]): Promise<ChargeResult> {
  const { store, profile, settings } = ctx
  const mdtrtId = trimId(mdtrtIdRaw)
  // Everything that can be checked without the database is checked before the transaction, and
  // lines without a level are classified from the catalog (read-only, outside the write).
  const cat = batchCatalog(ctx)
  const lines = feedetail.map((raw, i) => readChargeLine(raw, i, profile, settings.tz, true, cat !== null))
  const findings = classifyLines(cat, lines)
  const firstIndex = new Map<string, number>()
  lines.forEach((line, i) => {
    const sn = line.feedetl_sn!
    const seen = firstIndex.get(sn)
    if (seen === undefined) firstIndex.set(sn, i)
    else if (lines[seen].content_hash !== line.content_hash) {
      throw withDetails(new FangpinValidation(`feedetail[${i}].feedetl_sn: ${sn} repeats feedetail[${seen}] with different content`),
        [{ field: `feedetail/${i}/feedetl_sn`, reason: 'duplicate_in_batch', message: `repeats feedetail[${seen}] with different content`, line: i }])
    }
  })

  const client = actorName(actor)
  const accepted = new Set<number>()
  const answer = await store.write(() => {
    const row = openStay(store, mdtrtId)
    requireOpen(row)
    const d = { medfee: 0, in: 0, out: 0, lines: 0 }
    const duplicates: string[] = []
    // Lines of this batch by feedetl_sn, for refunds of a line charged in the same batch.
    const inBatch = new Map<string, BatchLine>()
    lines.forEach((line, i) => {
      const sn = line.feedetl_sn!
      if (firstIndex.get(sn) !== i) {
        duplicates.push(sn)
        return
      }
      const existing = store.charges.get(mdtrtId, sn)
      if (existing !== undefined && existing.cancelled_at === null) {
        if (existing.content_hash === line.content_hash) {
          duplicates.push(sn)
          return
        }
        conflict(i, 'feedetl_sn', 'changed_content', `line ${sn} was already received with different content; cancel it (DELETE …/charges/${sn}) before sending it again`)
      }
      const out = line.init_feedetl_sn === null ? line.out_fen! : refundOut(store, mdtrtId, line, i, inBatch)
      const source = levelSourceOf(line, findings[i], inBatch)
      store.charges.store(mdtrtId, { ...line, feedetl_sn: sn, out_fen: out, level_source: source, catalog_lv: line.catalog_lv ?? null }, client, existing !== undefined)
      inBatch.set(sn, { amount_fen: line.amount_fen, out_fen: out, refunded: 0, refundedOut: 0, refund: line.init_feedetl_sn !== null, source })
      const drift = findings[i].drift
      if (drift !== null) store.catalog.recordDrift({ ...drift, mdtrt_id: mdtrtId, feedetl_sn: sn, catalog_version: cat?.serving.version ?? null })
      accepted.add(i)
      d.medfee += line.amount_fen
      d.out += out
      d.in += line.amount_fen - out
      d.lines++
    })
    if (d.lines > 0) store.stays.addTotals(mdtrtId, d)
    const after = d.lines > 0 ? store.stays.get(mdtrtId)! : row
    const created = d.lines > 0 ? refreshAlerts(store, profile, after) : []
    return result(ctx, after, d.lines, duplicates, created)
  })
  // A line that leaves the stay at warning or breach: what could have been used instead.
  const pushed = answer.status === 'warning' || answer.status === 'breach'
  return withCatalog(ctx, answer, cat, lines, findings, pushed ? (i) => accepted.has(i) && lines[i].init_feedetl_sn === null && (lines[i].out_fen ?? 0) > 0 : null)
}

interface BatchLine { amount_fen: number, out_fen: number, refunded: number, refundedOut: number, refund: boolean, source: LevelSource }

/** A refund that takes its original's share reports its original's source; other lines their own. */
function levelSourceOf (line: ChargeLine, finding: LineFinding, inBatch: Map<string, BatchLine>): LevelSource {
  if (line.init_feedetl_sn !== null && line.chrgitm_lv === null && line.split === null) {
    finding.level.level_source = inBatch.get(line.init_feedetl_sn)?.source ?? 'his'
  }
  return finding.level.level_source
}

/**
 * A refund returns part of a line this stay has (stored, or earlier in the batch), never more than
 * is left of it. Without its own split or level it takes its original's out-of-catalog proportion.
 */
function refundOut (store: Store, mdtrtId: string, line: ChargeLine, i: number, inBatch: Map<string, BatchLine>): number {
  const initSn = line.init_feedetl_sn!
  let original = inBatch.get(initSn)
  if (original === undefined) {
    const stored = store.charges.get(mdtrtId, initSn)
    if (stored === undefined || stored.cancelled_at !== null) {
      conflict(i, 'init_feedetl_sn', 'unknown_line', `refunds line ${initSn}, which this stay does not have (or it was cancelled)`)
    }
    const refunded = store.charges.refunded(mdtrtId, initSn)
    original = { amount_fen: stored.amount_fen, out_fen: stored.out_fen, refunded: refunded.amount_fen, refundedOut: refunded.out_fen, refund: stored.init_feedetl_sn !== null, source: (stored.level_source ?? 'his') as LevelSource }
    inBatch.set(initSn, original)
  }
  if (original.refund) conflict(i, 'init_feedetl_sn', 'refund_of_refund', `line ${initSn} is itself a refund`)
  if (original.amount_fen + original.refunded + line.amount_fen < 0) {
    conflict(i, 'det_item_fee_sumamt', 'over_refund', `refunds more than is left of line ${initSn}`)
  }
  // What is left of the original, out of and inside the catalog: a refund returns only from these,
  // so it can never move spending from one side of the 90 % rule to the other.
  const leftOut = original.out_fen + original.refundedOut
  const leftIn = original.amount_fen - original.out_fen + original.refunded - original.refundedOut
  let out: number
  if (line.out_fen !== null) {
    out = line.out_fen
    if (-out > leftOut || -(line.amount_fen - out) > leftIn) {
      conflict(i, line.split === null ? 'chrgitm_lv' : 'fulamt_ownpay_amt', 'refund_split',
        `returns ${yuanText(-out)} yuan out of catalog and ${yuanText(-(line.amount_fen - out))} in catalog, but line ${initSn} has ${yuanText(leftOut)} and ${yuanText(leftIn)} left`)
    }
  } else {
    // Integer proportion, rounded toward zero, kept within what is left of each side (the last
    // part of a line refunded in pieces returns exactly the rest).
    const share = original.amount_fen === 0 ? 0 : Number(BigInt(line.amount_fen) * BigInt(original.out_fen) / BigInt(original.amount_fen))
    out = Math.min(Math.max(share, line.amount_fen, -leftOut), 0, line.amount_fen + leftIn)
  }
  original.refunded += line.amount_fen
  original.refundedOut += out
  return out
}

export async function cancelCharge (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, snRaw: string): Promise<ChargeResult & { cancelled: boolean }> {
  const { store, profile } = ctx
  const mdtrtId = trimId(mdtrtIdRaw)
  const sn = trimId(snRaw)
  return await store.write(() => {
    const row = openStay(store, mdtrtId)
    requireOpen(row)
    const line = store.charges.get(mdtrtId, sn)
    if (line === undefined) throw new FangpinNotFound(`admission ${mdtrtId} has no charge line ${sn}`)
    if (line.cancelled_at !== null) return { ...result(ctx, row, 0, [], []), cancelled: false }
    if (line.init_feedetl_sn === null && store.charges.activeRefunds(mdtrtId, sn) > 0) {
      throw new FangpinChargeConflict(`line ${sn} has refund lines; cancel those first`)
    }
    store.charges.cancel(mdtrtId, sn)
    store.stays.addTotals(mdtrtId, { medfee: -line.amount_fen, out: -line.out_fen, in: -(line.amount_fen - line.out_fen), lines: -1 })
    store.audit.write({ client: actorName(actor), action: 'charge.cancel', mdtrt_id: mdtrtId, detail: { feedetl_sn: sn, amount_fen: line.amount_fen } })
    const after = store.stays.get(mdtrtId)!
    return { ...result(ctx, after, 0, [], refreshAlerts(store, profile, after)), cancelled: true }
  })
}

export interface PrecheckResult {
  mdtrt_id: string
  current: { totals: Totals, status: SpendingStatus }
  totals: Totals
  status: SpendingStatus
  cards: Card[]
  /** how each proposed line was read: its level and where it came from (his, catalog, unknown) */
  lines: LineLevel[]
  /** for each out-of-catalog item proposed: in-catalog products of the same generic name and dosage form */
  alternatives: Alternatives[]
}

/** What the stay would become with the proposed lines. Nothing is stored. */
export function precheck (ctx: RulesContext, mdtrtIdRaw: string, feedetail: FeeDetail[]): PrecheckResult {
  const { store, profile, settings } = ctx
  const row = openStay(store, trimId(mdtrtIdRaw))
  requireOpen(row)
  const l = limits(profile)
  const cat = batchCatalog(ctx)
  const lines = feedetail.map((raw, i) => readChargeLine(raw, i, profile, settings.tz, false, cat !== null))
  const findings = classifyLines(cat, lines)
  const counted = new Set<number>()
  const before = amountsOf(row)
  const after: Amounts = { ...before }
  let proposedOut = 0
  // Refunds are checked as a charge would check them (nothing is stored): a precheck never
  // predicts totals the charge would refuse.
  const inBatch = new Map<string, BatchLine>()
  lines.forEach((line, i) => {
    if (line.feedetl_sn !== null) {
      // A line the stay already has would be a duplicate when charged: it changes nothing.
      const stored = store.charges.get(row.mdtrt_id, line.feedetl_sn)
      if (stored !== undefined && stored.cancelled_at === null) {
        if (stored.content_hash === line.content_hash) return
        conflict(i, 'feedetl_sn', 'changed_content', `line ${line.feedetl_sn} was already received with different content`)
      }
    }
    counted.add(i)
    const out = line.init_feedetl_sn === null ? line.out_fen! : refundOut(store, row.mdtrt_id, line, i, inBatch)
    const source = levelSourceOf(line, findings[i], inBatch)
    if (line.feedetl_sn !== null) inBatch.set(line.feedetl_sn, { amount_fen: line.amount_fen, out_fen: out, refunded: 0, refundedOut: 0, refund: line.init_feedetl_sn !== null, source })
    after.medfee_fen += line.amount_fen
    after.out_fen += out
    after.in_fen += line.amount_fen - out
    proposedOut += out
  })
  const flags = flagsOf(row)
  const st = status(after, flags, l)
  const answer: PrecheckResult = {
    mdtrt_id: row.mdtrt_id,
    current: { totals: totals(before, l), status: status(before, flags, l) },
    totals: totals(after, l),
    status: st,
    cards: precheckCards(after, proposedOut, counted.size, st, flags, l, profile.spendingOff),
    lines: [],
    alternatives: []
  }
  // An order precheck is where a doctor can still choose: alternatives for every out-of-catalog item.
  // They lower the patient's own share whether or not the region has a limit (002 三(二), 003 五
  // prefer in-catalog items without one), and they say nothing about a limit.
  return withCatalog(ctx, answer, cat, lines, findings, st === 'not_monitored' ? null : (i) => counted.has(i) && lines[i].init_feedetl_sn === null && (lines[i].out_fen ?? 0) > 0)
}
