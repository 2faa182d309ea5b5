// The admission notice as a page: read on screen at the ward desk, printed on one A4 sheet by the
// browser. The agent serves its pages under a strict Content-Security-Policy (no inline style, no
// script), so the page carries no style="" and no <script>: its look is notice.css beside this
// file, served by the caller at the URL it passes in.
import { fileURLToPath } from 'node:url'
import type { NoticeData } from './notice-data.ts'
import { noticeContent, type NoticeContent } from './notice-text.ts'

/** The notice's stylesheet on disk, for the route that serves it (text/css). */
export const NOTICE_CSS_FILE = fileURLToPath(new URL('./notice.css', import.meta.url))

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text and attribute values made inert: a name like <img onerror=…> is shown, never run. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c])
}

export interface NoticeHtmlOptions {
  /** the URL the caller serves notice.css at (NOTICE_CSS_FILE), e.g. '/notice.css' */
  stylesheet: string
}

/** Characters in one printed line at 12 pt on the sheet (174 mm), a little short to be safe. */
const CHARS_PER_LINE = 38

/** Lines at 12 pt of what varies between notices: the free texts and each section's heading. */
function textLines (c: NoticeContent): number {
  const lines = (text: string, perLine: number): number => Math.max(1, Math.ceil(Array.from(text).length / perLine))
  let n = lines(c.hospital ?? '', CHARS_PER_LINE / 1.3) + lines(c.region, CHARS_PER_LINE / 0.9)
  // The patient box: two fields a row, the identities a whole row.
  for (let i = 0; i + 1 < c.patient.length - 1; i += 2) n += Math.max(lines(c.patient[i].value, 13), lines(c.patient[i + 1].value, 13))
  n += lines(c.patient[c.patient.length - 1].value, 32)
  for (const s of c.sections) {
    n += 2 // the heading and the space above it
    for (const p of s.paragraphs) n += lines(p, CHARS_PER_LINE - 2) // indented 2 characters
  }
  return n
}

/**
 * How dense the printed sheet must be to stay one page. A browser cannot shrink type to fit by
 * itself (and the CSP allows no script to measure), so the renderer, which knows the texts, picks:
 * the usual notice prints at 12 pt; long texts from the rules at 11 or 9.5 pt (notice.css).
 */
export function density (c: NoticeContent): 'normal' | 'compact' | 'tight' {
  const n = textLines(c)
  return n <= 32 ? 'normal' : n <= 38 ? 'compact' : 'tight'
}

export function noticeHtml (d: NoticeData, options: NoticeHtmlOptions): string {
  const c = noticeContent(d)
  const e = escapeHtml
  const out: string[] = []
  out.push('<!DOCTYPE html>')
  out.push('<html lang="zh-CN">')
  out.push('<head>')
  out.push('<meta charset="utf-8">')
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">')
  out.push(`<title>${e(c.title)}（${e(d.mdtrt_id)}）</title>`)
  out.push(`<link rel="stylesheet" href="${e(options.stylesheet)}">`)
  out.push('</head>')
  out.push('<body>')
  const dense = density(c)
  out.push(dense === 'normal' ? '<main class="notice">' : `<main class="notice ${dense}">`)
  out.push('<header class="notice-head">')
  if (c.hospital !== null) out.push(`<p class="hospital">${e(c.hospital)}</p>`)
  out.push(`<h1>${e(c.title)}</h1>`)
  out.push(`<p class="region">${e(c.region)}</p>`)
  out.push('</header>')
  out.push(`<p class="greeting">${e(c.greeting)}</p>`)
  out.push(`<p class="intro">${e(c.intro)}</p>`)
  out.push('<section class="patient" aria-labelledby="patient-heading">')
  out.push(`<h2 id="patient-heading">${e(c.patientHeading)}</h2>`)
  out.push('<dl>')
  for (const row of c.patient) {
    out.push(`<div class="field field-${row.key}"><dt>${e(row.label)}</dt><dd>${e(row.value)}</dd></div>`)
  }
  out.push('</dl>')
  out.push('</section>')
  for (const s of c.sections) {
    out.push(`<section class="part part-${s.key}" aria-labelledby="part-${s.key}">`)
    out.push(`<h2 id="part-${s.key}">${e(s.heading)}</h2>`)
    for (const p of s.paragraphs) out.push(`<p>${e(p)}</p>`)
    out.push('</section>')
  }
  out.push('<section class="signatures" aria-labelledby="signatures-heading">')
  out.push(`<h2 id="signatures-heading">${e(c.signaturesHeading)}</h2>`)
  out.push(`<p class="acknowledge">${e(c.acknowledge)}</p>`)
  out.push('<div class="sign-grid">')
  for (const s of c.signatures) {
    out.push(`<div class="sign sign-${s.key}"><span class="sign-label">${e(s.label)}：</span><span class="sign-line">${e(s.blank)}</span></div>`)
  }
  out.push('</div>')
  out.push('</section>')
  out.push(`<footer class="printed">${e(c.printed)}</footer>`)
  out.push('</main>')
  out.push('</body>')
  out.push('</html>')
  return out.join('\n') + '\n'
}
