// The Chinese font the notice PDF is set in. A PDF carries its own font, so the agent needs a font
// file on the hospital's server — Linux or Windows, often offline. In order:
//   1. FANGPIN_NOTICE_FONT, when IT set it: the hospital's own choice (a 宋体 for its forms) wins;
//   2. the font that arrives with `npm install`: Noto Sans Hans (Noto Sans CJK SC), OFL-1.1, from the
//      npm package @embedpdf/fonts-sc (Regular and Bold; 30,000+ characters, all of GB 2312);
//   3. well-known system fonts: Debian's WenQuanYi and Noto CJK, Windows' 微软雅黑 and 宋体.
// A file that is missing, unreadable, not a font or without Chinese characters is passed over; when
// none is left the error names FANGPIN_NOTICE_FONT, the one thing IT can set.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, win32 } from 'node:path'
import { create, type Font, type FontCollection } from 'fontkit'
import { FangpinNoticeFontMissing } from '../errors.ts'
import { fontFileProblem } from './font-file.ts'

export const NOTICE_FONT_VARIABLE = 'FANGPIN_NOTICE_FONT'

export interface FontCandidate {
  file: string
  source: 'package' | 'system'
  /** the bold face beside it, for headings; without one headings are set larger, not bolder */
  bold?: string
}

export interface FontFace {
  file: string
  /** the face's PostScript name (one face of a collection: 宋体 out of simsun.ttc) */
  postscriptName: string
  /** parsed once and shared by every notice: parsing a CJK font takes a fifth of a second */
  font: Font
}

export interface NoticeFont {
  source: 'FANGPIN_NOTICE_FONT' | 'package' | 'system'
  regular: FontFace
  bold: FontFace | null
}

/** Characters every notice has: a font without them cannot set it. */
const PROBE = '先诊疗后付费住院告知书患者签字元'

/** Where the packaged font is, or null when the package is not installed (npm ci --omit, a copy). */
function packagedFontDir (): string | null {
  try {
    // The package exports only its index (dist/); the fonts sit beside it in fonts/.
    return join(dirname(createRequire(import.meta.url).resolve('@embedpdf/fonts-sc')), '..', 'fonts')
  } catch {
    return null
  }
}

function windowsFonts (...names: string[]): string[] {
  const root = process.env.WINDIR ?? process.env.SystemRoot ?? 'C:\\Windows'
  return names.map((n) => win32.join(root, 'Fonts', n))
}

/** The packaged font, then system fonts: what the agent looks for when IT set nothing. */
export function defaultFontCandidates (): FontCandidate[] {
  const list: FontCandidate[] = []
  const pkg = packagedFontDir()
  if (pkg !== null) list.push({ file: join(pkg, 'NotoSansHans-Regular.otf'), bold: join(pkg, 'NotoSansHans-Bold.otf'), source: 'package' })
  const system = [
    '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', // Debian, Ubuntu: fonts-noto-cjk
    '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc', // Fedora, RHEL
    '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', // Arch
    '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', // Debian, Ubuntu: fonts-wqy-microhei
    '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', // Debian, Ubuntu: fonts-wqy-zenhei
    '/usr/share/fonts/wqy-microhei/wqy-microhei.ttc', // Fedora, RHEL
    ...windowsFonts('msyh.ttc', 'simsun.ttc', 'simhei.ttf')
  ]
  for (const file of system) list.push({ file, source: 'system' })
  return list
}

/**
 * The face of a font file that can set the notice, or why not (a sentence for IT). A collection
 * (.ttc: 宋体 and 新宋体, 微软雅黑 and its UI face) gives its first face with Chinese characters.
 */
export function openFontFace (file: string): FontFace | string {
  const problem = fontFileProblem(file)
  if (problem !== null) return problem
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (err) {
    return `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
  let font: Font | FontCollection
  try {
    font = create(data)
  } catch {
    return `${file} is not a TrueType or OpenType font (.ttf, .otf, .ttc)`
  }
  const collection = 'fonts' in font && Array.isArray(font.fonts)
  const faces: Font[] = collection ? (font as FontCollection).fonts : [font as Font]
  const face = faces.find((f) => [...PROBE].every((ch) => f.hasGlyphForCodePoint(ch.codePointAt(0) ?? 0)))
  if (face === undefined) return `${file} has no Chinese characters`
  return { file, postscriptName: face.postscriptName, font: face }
}

const cache = new Map<string, NoticeFont>()

/**
 * The notice's font: `configured` (FANGPIN_NOTICE_FONT) first, then each candidate in order.
 * Resolved once per list and kept in memory (the file is read and parsed once, not for every notice).
 */
export function resolveNoticeFont (configured: string | null | undefined, candidates: FontCandidate[] = defaultFontCandidates()): NoticeFont {
  const key = JSON.stringify([configured ?? null, candidates])
  const known = cache.get(key)
  if (known !== undefined) return known
  const tried: string[] = []
  const found = ((): NoticeFont | null => {
    if (configured !== null && configured !== undefined && configured.trim() !== '') {
      const face = openFontFace(configured)
      if (typeof face !== 'string') return { source: 'FANGPIN_NOTICE_FONT', regular: face, bold: null }
      tried.push(`${NOTICE_FONT_VARIABLE}: ${face}`)
    }
    for (const c of candidates) {
      const face = openFontFace(c.file)
      if (typeof face === 'string') {
        tried.push(face)
        continue
      }
      const bold = c.bold === undefined ? null : openFontFace(c.bold)
      return { source: c.source, regular: face, bold: typeof bold === 'string' ? null : bold }
    }
    return null
  })()
  if (found === null) {
    throw new FangpinNoticeFontMissing(
      'No Chinese font for the admission notice PDF: set FANGPIN_NOTICE_FONT to a TrueType or OpenType font file with Chinese characters ' +
      '(e.g. C:\\Windows\\Fonts\\simsun.ttc, /usr/share/fonts/truetype/wqy/wqy-microhei.ttc from fonts-wqy-microhei), ' +
      'or reinstall the agent with npm ci so that its font package @embedpdf/fonts-sc is present. ' +
      (tried.length === 0 ? 'No font was configured and no candidate was given.' : `Tried: ${tried.join('; ')}.`)
    )
  }
  cache.set(key, found)
  return found
}
