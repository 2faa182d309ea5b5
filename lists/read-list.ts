// Entry point for reading a list file of any supported kind: a county's Excel workbook or CSV,
// or a registry NDJSON snapshot (plain or gzipped).
import { open } from 'node:fs/promises'
import { DEFAULT_TZ } from '../base/local-time.ts'
import { extname } from 'node:path'
import { ListFileError } from './list-record.ts'
import type { ReadOptions, ReadResult } from './list-record.ts'
import type { LoadedProfile } from '../profile/profile.ts'
import { readCsv, readXlsx } from './read-table.ts'
import { readNdjson } from './read-ndjson.ts'

export type { IdentityRecord, ListRecord, ReadResult, RowProblem } from './list-record.ts'
export { ListFileError } from './list-record.ts'

export type ListFormat = ReadResult['format']

/**
 * The format by the file's first bytes, the name only where the bytes cannot tell. County
 * files arrive renamed: a "名单.xls" that is really an .xlsx, a web system's "Excel export"
 * that is an HTML table, an .xlsx re-saved as Excel 97.
 */
export async function detectFormat (file: string): Promise<ListFormat> {
  const fh = await open(file, 'r')
  let head: Buffer
  try {
    const buf = Buffer.alloc(512)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    head = buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'xlsx'
  if (head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0) {
    // The OLE container of Excel 97-2003 is also what Excel wraps a password-protected .xlsx in.
    throw new ListFileError('无法读取旧版Excel（.xls）或设有密码的Excel文件：请在Excel中“另存为”Excel工作簿（.xlsx）并取消密码，或另存为CSV')
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return 'ndjson'
  const ext = extname(file.replace(/\.gz$/i, '')).toLowerCase()
  const text = head.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart()
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson'
  if (ext === '.xls' || ext === '.xlsx' || ext === '.xlsm') {
    if (text.startsWith('<')) throw new ListFileError('该Excel文件实为网页（HTML）格式，无法读取：请用Excel打开后“另存为”Excel工作簿（.xlsx）')
    throw new ListFileError('文件扩展名是Excel，但内容不是Excel工作簿：请用Excel打开后“另存为”.xlsx')
  }
  if (ext === '' && text.startsWith('{')) return 'ndjson'
  return 'csv'
}

export async function readListFile (
  file: string,
  opts: { profile: LoadedProfile, tz?: string, onProgress?: (rowsDone: number, rowsTotal: number | undefined) => void }
): Promise<ReadResult> {
  const o: ReadOptions = { ...opts, tz: opts.tz ?? DEFAULT_TZ }
  const format = await detectFormat(file)
  if (format === 'xlsx') return await readXlsx(file, o)
  if (format === 'ndjson') return await readNdjson(file, o)
  return await readCsv(file, o)
}
