// The admission notice as a one-page A4 PDF for the ward desk's printer, set in an embedded Chinese
// font (notice-font.ts) so that it prints the same on any PC and its text can be copied and searched.
// One page, always: the sheet is signed by hand and filed, and a second page gets lost. So the body
// type is the largest that fits (13.5 pt, down to 8 pt for the longest notices) and the free texts
// are of bounded length (notice-text.ts). This runs in the notice worker (notice-pdf.ts): setting
// CJK text and subsetting the font take a few hundred milliseconds of CPU.
import PDFDocument from 'pdfkit'
import type { NoticeData } from './notice-data.ts'
import { noticeContent, type NoticeContent } from './notice-text.ts'
import { resolveNoticeFont, type FontCandidate, type NoticeFont } from './notice-font.ts'

export interface NoticePdfOptions {
  /** FANGPIN_NOTICE_FONT (config.noticeFont): a font file that wins over the packaged and system ones */
  font?: string | null
  /** where else to look, in order; default: the packaged font, then system fonts (a test passes []) */
  candidates?: FontCandidate[]
}

const A4 = { width: 595.28, height: 841.89 }
// 12 mm, 10 mm and 16 mm, as notice.css sets the printed page.
const MARGIN = { top: 34, bottom: 28, left: 45, right: 45 }
const WIDTH = A4.width - MARGIN.left - MARGIN.right
const BOTTOM = A4.height - MARGIN.bottom
/** Body sizes tried, largest first: elderly readers need large type, the sheet needs one page. */
const SIZES = [13.5, 13, 12.5, 12, 11.5, 11, 10.5, 10, 9.5, 9, 8.5, 8]
const INK = '#111111'
const MUTED = '#444444'
const RULE = '#333333'

type Face = 'regular' | 'bold'

/** Measures (draw false) or draws (draw true) the notice from the top; answers where it ended. */
function layout (doc: PDFKit.PDFDocument, c: NoticeContent, s: number, draw: boolean, hasBold: boolean): number {
  let y = MARGIN.top
  const gap = (pt: number): void => { y += pt }
  type TextOptions = { x?: number, width?: number, align?: 'left' | 'center' | 'right', indent?: number, color?: string }
  const measure = (str: string, face: Face, size: number, opts: TextOptions = {}): { h: number, o: PDFKit.Mixins.TextOptions } => {
    doc.font(face === 'bold' && hasBold ? 'notice-bold' : 'notice').fontSize(size)
    const o = { width: opts.width ?? WIDTH, align: opts.align ?? 'left', indent: opts.indent ?? 0, lineGap: size * 0.06 }
    return { h: doc.heightOfString(str, o), o }
  }
  /** Sets the text at y (when drawing) and answers its height; y is the caller's to move. */
  const text = (str: string, face: Face, size: number, opts: TextOptions = {}): number => {
    const { h, o } = measure(str, face, size, opts)
    if (draw) doc.fillColor(opts.color ?? INK).text(str, opts.x ?? MARGIN.left, y, o)
    return h
  }
  const line = (x1: number, y1: number, x2: number, y2: number, width = 0.8): void => {
    if (draw) doc.moveTo(x1, y1).lineTo(x2, y2).lineWidth(width).strokeColor(RULE).stroke()
  }
  // Without a bold face, headings stand out by size alone.
  const head = hasBold ? 1 : 1.08

  if (c.hospital !== null) y += text(c.hospital, 'bold', s * 1.3 * head, { align: 'center' })
  y += text(c.title, 'bold', s * 1.7 * head, { align: 'center' })
  gap(s * 0.1)
  y += text(c.region, 'regular', s * 0.85, { align: 'center', color: MUTED })
  gap(s * 0.6)
  y += text(c.greeting, 'bold', s)
  y += text(c.intro, 'regular', s, { indent: s * 2 })

  // 患者信息: a ruled box of two columns; the identities take a whole row.
  gap(s * 0.5)
  y += text(c.patientHeading, 'bold', s * 1.1 * head)
  gap(s * 0.2)
  const pad = s * 0.35
  const labelW = s * 4.8
  const half = WIDTH / 2
  const rows = [[c.patient[0], c.patient[1]], [c.patient[2], c.patient[3]], [c.patient[4]]]
  const boxTop = y
  for (const [r, row] of rows.entries()) {
    const cellW = row.length === 1 ? WIDTH : half
    const heights = row.map((cell) => Math.max(
      measure(cell.label, 'regular', s, { width: labelW }).h,
      measure(cell.value, 'bold', s, { width: cellW - labelW - pad * 2 }).h
    ))
    const rowH = Math.max(...heights) + pad * 2
    if (draw) {
      for (const [i, cell] of row.entries()) {
        const x = MARGIN.left + i * half
        const top = y
        y = top + pad
        text(cell.label, 'regular', s, { x: x + pad, width: labelW, color: MUTED })
        text(cell.value, 'bold', s, { x: x + pad + labelW, width: cellW - labelW - pad * 2 })
        y = top
      }
      if (row.length === 2) line(MARGIN.left + half, y, MARGIN.left + half, y + rowH, 0.5)
      if (r < rows.length - 1) line(MARGIN.left, y + rowH, MARGIN.left + WIDTH, y + rowH, 0.5)
    }
    y += rowH
  }
  if (draw) doc.rect(MARGIN.left, boxTop, WIDTH, y - boxTop).lineWidth(0.9).strokeColor(RULE).stroke()

  for (const section of c.sections) {
    gap(s * 0.65)
    y += text(section.heading, 'bold', s * 1.1 * head)
    gap(s * 0.15)
    for (const p of section.paragraphs) {
      y += text(p, 'regular', s, { indent: s * 2 })
      gap(s * 0.12)
    }
  }

  gap(s * 0.65)
  y += text(c.signaturesHeading, 'bold', s * 1.1 * head)
  gap(s * 0.15)
  y += text(c.acknowledge, 'regular', s, { indent: s * 2 })
  // Two signatures a row, each a label and a line long enough for a name written by hand.
  const colGap = s * 2
  const cellW = (WIDTH - colGap) / 2
  for (let i = 0; i < c.signatures.length; i += 2) {
    gap(s * 1.9)
    let rowH = 0
    for (const [j, sig] of c.signatures.slice(i, i + 2).entries()) {
      const x = MARGIN.left + j * (cellW + colGap)
      const label = `${sig.label}：`
      doc.font('notice').fontSize(s)
      const labelW = doc.widthOfString(label)
      const h = text(label, 'regular', s, { x, width: labelW + 1 })
      if (sig.blank !== '') text(sig.blank, 'regular', s, { x: x + labelW, width: cellW - labelW, align: 'right' })
      const base = y + s * 1.25
      line(x + labelW, base, x + cellW, base)
      rowH = Math.max(rowH, h, s * 1.3)
    }
    y += rowH
  }

  gap(s * 1.2)
  y += text(c.printed, 'regular', s * 0.8, { align: 'right', color: MUTED })
  return y
}

function registerFonts (doc: PDFKit.PDFDocument, font: NoticeFont): void {
  // pdfkit (0.20) takes an already parsed fontkit font; its published types know only files and bytes.
  doc.registerFont('notice', font.regular.font as unknown as Buffer)
  if (font.bold !== null) doc.registerFont('notice-bold', font.bold.font as unknown as Buffer)
}

/** The notice as a one-page A4 PDF, made on this thread. Throws FANGPIN_NOTICE_FONT_MISSING without a Chinese font. */
export async function renderNoticePdf (d: NoticeData, options: NoticePdfOptions = {}): Promise<Buffer> {
  const font = resolveNoticeFont(options.font, options.candidates)
  const content = noticeContent(d)
  const hasBold = font.bold !== null
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    lang: 'zh-CN',
    displayTitle: true,
    info: { Title: content.title, Subject: content.title, Creator: 'fangpin' }
  })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  registerFonts(doc, font)
  const size = SIZES.find((s) => layout(doc, content, s, false, hasBold) <= BOTTOM) ?? SIZES[SIZES.length - 1]
  layout(doc, content, size, true, hasBold)
  doc.end()
  return await done
}
