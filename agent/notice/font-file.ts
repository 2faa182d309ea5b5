// Whether a path is a font file the notice PDF can use, by its first bytes: cheap enough for the
// configuration check at start (agent/config.ts), which must not load a font engine for every
// command. Whether the font has Chinese characters is seen when it is opened (notice-font.ts).
import { closeSync, openSync, readSync, statSync } from 'node:fs'

/** The sfnt signatures: TrueType (1.0 and Apple's 'true'), OpenType with CFF ('OTTO'), collections ('ttcf'). */
const SIGNATURES = ['00010000', '74727565', '4f54544f', '74746366']
const WEB_FONTS: Record<string, string> = { '774f4646': 'WOFF', '774f4632': 'WOFF2' }

/** Why `file` cannot be the notice's font (a phrase for IT), or null when it looks like one. */
export function fontFileProblem (file: string): string | null {
  let fd: number | null = null
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`
    fd = openSync(file, 'r')
    const head = Buffer.alloc(4)
    const n = readSync(fd, head, 0, 4, 0)
    const sig = head.subarray(0, n).toString('hex')
    if (SIGNATURES.includes(sig)) return null
    if (WEB_FONTS[sig] !== undefined) return `${file} is a ${WEB_FONTS[sig]} web font: use the .ttf, .otf or .ttc file`
    return `${file} is not a TrueType or OpenType font (.ttf, .otf, .ttc)`
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? (err as Error).message})`
  } finally {
    if (fd !== null) closeSync(fd)
  }
}
