// How big a list file may be, and why each number. A county file is opened by an operator who
// trusts it, but it arrives by e-mail or USB stick from offices the hospital does not control,
// and an .xlsx is a zip: a 2 MB file can hold gigabytes of sheet XML. The limits keep memory
// bounded whatever the file says, and are set well above what a real county list reaches, so
// that only files no spreadsheet program would write are refused.
//
// What a real list weighs (measured with exceljs and Excel-like files): one person with name,
// ID number, category, two dates, address and phone is about 300 bytes of sheet XML and 70–200
// bytes of shared strings; a list of 1,000,000 people is therefore about 300 MB of sheet XML and
// up to 200 MB of shared strings. Sheet XML compresses 5–15 times (15 for a sheet of styled blank
// cells); shared strings about 5 times.

const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// Rows, columns and cells: every list format (xlsx and CSV)

/**
 * Row numbers above this are refused. A million people with several identity rows each stays
 * under it (Excel itself stops at 1,048,576 rows a sheet; a CSV can go further), and the
 * records of five million rows are about what the import can hold in memory.
 */
export const MAX_ROWS = 5_000_000

/**
 * A row with a value beyond this column is refused. County lists have a few dozen columns (the
 * widest 民政 exports, with household details, stay under a hundred); Excel's own edge is 16,384.
 */
export const MAX_COLUMNS = 1_000

/** Excel's own limit for the text of one cell: a longer cell was not typed or saved by Excel. */
export const MAX_CELL_CHARS = 32_767

/**
 * One CSV record (all its fields together), in characters. A list row is a few hundred
 * characters; a record this long is an unclosed quote swallowing the lines after it, and
 * csv-parse would otherwise collect the rest of the file in memory before saying so.
 */
export const MAX_CSV_RECORD_CHARS = 1 * MiB

// ---------------------------------------------------------------------------------------------
// The zip inside an .xlsx

/** Parts in one workbook. A list has about a dozen; a workbook with many sheets and images, hundreds. */
export const MAX_ZIP_ENTRIES = 10_000

/**
 * All parts together, inflated. Bounds the work of checking a file; memory is bounded by
 * streaming, not by this. Seven times the largest real list (300 MB of sheet XML for a million
 * people).
 */
export const MAX_INFLATED_BYTES = 2048 * MiB

/**
 * A part (or the whole file) that inflates to more than this many times its compressed size —
 * and to more than RATIO_CHECKED_ABOVE_BYTES, since tiny parts compress unevenly — is a zip
 * bomb. Real sheets compress 5–15 times; a bomb 1,000 times and more.
 */
export const MAX_COMPRESSION_RATIO = 100
export const RATIO_CHECKED_ABOVE_BYTES = 10 * MiB

/**
 * The shared-string table is the one large part the streaming reader keeps whole in memory (every
 * distinct text of the workbook). 200 MB for a million people with addresses and phones; twice that.
 */
export const MAX_SHARED_STRINGS_BYTES = 512 * MiB

/**
 * Styles, the workbook part and its relationships are also held whole. Real ones are kilobytes;
 * a workbook damaged by "too many cell formats" reaches tens of megabytes.
 */
export const MAX_HELD_PART_BYTES = 64 * MiB

/**
 * The longest stretch of XML between two tags (a text node, or a tag with its attributes), and
 * the longest CDATA section, comment or processing instruction. The XML parser builds each into
 * one string before anything can look at it, so this is the limit that stops a single huge cell
 * before it is in memory. A 32,767-character cell written in the most verbose form Excel uses
 * (_x000D_ escapes, 7 bytes a character) is 230 KB.
 */
export const MAX_XML_RUN_BYTES = 1 * MiB

/**
 * Merged ranges in one sheet, and the cells they cover (counted up to MAX_COLUMNS). A person's
 * name and ID number merged over their identity rows is two ranges of two or three cells; a
 * million people with several identities stay under both. Merges are applied by this reader
 * row by row, so the cost is the covered area.
 */
export const MAX_MERGED_RANGES = 2_000_000
export const MAX_MERGED_CELLS = 20_000_000

/** 12345678 → "12,345,678", for messages. */
export function count (n: number): string {
  return n.toLocaleString('en-US')
}

/** 2147483648 → "2,048 MB", 40960 → "40 KB", for messages. */
export function size (bytes: number): string {
  if (bytes >= MiB) return `${count(Math.round(bytes / MiB))} MB`
  return `${count(Math.max(1, Math.round(bytes / 1024)))} KB`
}
