// The admission notice (告知书, Guangxi 000_c13c6dfe42a59df5.txt 四(二)3): the page in Debian's
// Chromium under the agent's CSP, the PDF read back with poppler (pdftotext, pdfinfo, pdffonts),
// one A4 page always, every value escaped, no ID number ever, and the font found or a clear 503.
import t from 'tap'
import http from 'node:http'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from './staff-fixture.ts'
import { ROOT, tempDir } from './helper.ts'
import { CODE } from '../agent/errors.ts'
import { loadConfig, ConfigError } from '../agent/config.ts'
import type { NoticeData } from '../agent/notice/notice-data.ts'
import { NOTICE_CSS_FILE, escapeHtml, noticeHtml } from '../agent/notice/notice-html.ts'
import { noticePdf, stopNoticePdfWorker } from '../agent/notice/notice-pdf.ts'
import { renderNoticePdf } from '../agent/notice/notice-pdf-render.ts'
import { defaultFontCandidates, resolveNoticeFont } from '../agent/notice/notice-font.ts'
import { MAX_CHARS, PHRASES, formatShare, formatYuan } from '../agent/notice/notice-text.ts'

const run = promisify(execFile)

// The same policy the agent's pages are served under (agent/routes/ops/page.ts).
const CSP = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const BASIS = '按本院近一年同类诊断（I63）17 例住院的个人负担中位数估算'

/** A Guangxi (柳州市柳江区) patient: 先诊疗后付费, an estimate from history, the 10 % limit borne by the hospital. */
function guangxi (over: Partial<NoticeData> = {}): NoticeData {
  return {
    hospital_name: '柳江区人民医院',
    region_name: '广西壮族自治区柳州市柳江区',
    mdtrt_id: 'ZY2026112300001',
    name_masked: '张*丰',
    adm_dept_name: '心血管内科',
    begntime: '2026-11-23 08:30:00',
    identities: ['特困人员', '脱贫人口'],
    treat_first_pay_later: true,
    treat_first_text: '特困人员在县域内定点医疗机构住院，可享受先诊疗后付费',
    one_stop_settlement: true,
    estimate: { psn_part_amt: 3250, medfee_sumamt: 28000, basis: 'history', basis_text: BASIS, sample_size: 17 },
    spending_limit: { share: 0.1, breach_when: '>', hospital_bears_excess: true, source: 'policy' },
    special_note: null,
    printed_at: '2026-11-23 08:45',
    ...over
  }
}

/** A region with no out-of-catalog limit and no 先诊疗后付费 (e.g. 安徽省六安市叶集区). */
function noLimit (over: Partial<NoticeData> = {}): NoticeData {
  return guangxi({
    region_name: '安徽省六安市叶集区',
    identities: ['低保对象'],
    treat_first_pay_later: false,
    treat_first_text: '本地区未规定先诊疗后付费',
    one_stop_settlement: false,
    spending_limit: null,
    ...over
  })
}

const LONGER = '这是一段很长的说明文字用于检验版面'.repeat(30)

/** Every free text at the longest the rules could send, and more: the sheet must stay one page. */
function longest (): NoticeData {
  const long = (n: number): string => LONGER.slice(0, n)
  return guangxi({
    hospital_name: '广西壮族自治区柳州市柳江区人民医院（柳州市第二人民医院柳江分院）' + long(30),
    region_name: long(80),
    name_masked: '阿*' + '买'.repeat(60),
    adm_dept_name: '心血管内科重症监护病区' + long(60),
    identities: ['特困人员', '低保对象', '低保边缘家庭成员', '返贫致贫人口', '脱贫不稳定户', '边缘易致贫户', '突发严重困难户', '孤儿', '事实无人抚养儿童', '重度残疾人'],
    treat_first_text: long(400),
    estimate: { psn_part_amt: 123456789.5, medfee_sumamt: 987654321.25, basis: 'tariff', basis_text: long(400), sample_size: 0 },
    spending_limit: { share: 0.085, breach_when: '>=', hospital_bears_excess: true, source: 'agreement' },
    special_note: long(400)
  })
}

const WQY = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'

/** A run of 17 digits and a check character: what an ID number looks like, on no notice ever. */
const ID_LIKE = /\d{17}[\dXx]/

async function pdfText (t: Parameters<typeof tempDir>[0], pdf: Buffer): Promise<{ text: string, pages: number, fonts: string }> {
  const dir = tempDir(t, 'fangpin-notice-')
  const file = join(dir, 'notice.pdf')
  writeFileSync(file, pdf)
  const { stdout: text } = await run('pdftotext', ['-enc', 'UTF-8', file, '-'])
  const { stdout: info } = await run('pdfinfo', [file])
  const { stdout: fonts } = await run('pdffonts', [file])
  const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1])
  return { text, pages, fonts }
}

/** Text without the line breaks pdftotext puts where the PDF wraps a sentence. */
function flat (text: string): string {
  return text.replace(/\s+/g, '')
}

/** The notice and its stylesheet from a plain server, with the agent's CSP header on both. */
async function serveNotice (t: Parameters<typeof tempDir>[0], pages: Record<string, string>): Promise<{ url: string, requests: string[] }> {
  const css = readFileSync(NOTICE_CSS_FILE)
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    res.setHeader('content-security-policy', CSP)
    res.setHeader('x-content-type-options', 'nosniff')
    if (req.url === '/notice.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(css)
    } else if (req.url !== undefined && pages[req.url] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[req.url])
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** A page that records console errors (CSP violations among them), page errors, dialogs and failed loads. */
async function open (t: Parameters<typeof tempDir>[0], browser: Browser): Promise<{ page: Page, problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' })
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const problems: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`) })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss() })
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`))
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`) })
  return { page, problems }
}

async function pagesOfPrint (t: Parameters<typeof tempDir>[0], page: Page): Promise<number> {
  const pdf = await page.pdf({ format: 'A4' })
  return (await pdfText(t, pdf)).pages
}

t.teardown(() => stopNoticePdfWorker())

t.test('the notice page, under the agent\'s CSP, shows the patient, the estimate with its basis and the Guangxi limit, and prints on one A4 page', async (t) => {
  const browser = await launchBrowser(t)
  const { url, requests } = await serveNotice(t, {
    '/gx': noticeHtml(guangxi(), { stylesheet: '/notice.css' }),
    '/none': noticeHtml(noLimit(), { stylesheet: '/notice.css' }),
    '/mid': noticeHtml(guangxi({ treat_first_text: LONGER.slice(0, 120), special_note: '本次住院按单病种付费，不受目录外费用比例限制' }), { stylesheet: '/notice.css' }),
    '/long': noticeHtml(longest(), { stylesheet: '/notice.css' })
  })

  await t.test('a Guangxi patient with an estimate and the 10 % limit', async (t) => {
    const { page, problems } = await open(t, browser)
    await page.goto(url + '/gx')
    t.same(problems, [], 'no CSP violation, console error or failed load')
    t.ok(requests.includes('/notice.css'), 'the stylesheet is loaded from the URL the caller gave')
    t.equal(await page.locator('html').getAttribute('lang'), 'zh-CN')
    // The stylesheet applies (a blocked or missing one leaves the signature lines without their rule).
    t.equal(await page.locator('.sign-patient .sign-line').evaluate((el) => getComputedStyle(el).borderBottomStyle), 'solid', 'notice.css is applied')
    const text = await page.locator('body').innerText()
    t.match(text, '柳江区人民医院')
    t.match(text, '先诊疗后付费住院告知书')
    t.match(text, '张*丰')
    t.match(text, 'ZY2026112300001')
    t.match(text, '心血管内科')
    t.match(text, '2026-11-23 08:30')
    t.match(text, '特困人员、脱贫人口')
    t.match(text, PHRASES.treatFirstYes)
    t.match(text, '3,250.00 元', 'the estimate as money')
    t.match(text, '28,000.00 元')
    t.match(text, BASIS, 'the estimate\'s basis')
    t.match(text, PHRASES.estimateCaveat, 'said to be an estimate, the real amount known at settlement')
    t.match(text, PHRASES.outOfCatalogMeaning)
    t.match(text, '使其不超过住院总费用的10%', 'the limit as a percentage, 超过 for breach_when >')
    t.match(text, '超出部分由医院承担')
    t.match(text, PHRASES.oneStop)
    for (const label of ['患者或家属签字', '与患者关系', '经办人签字', '日期']) t.match(text, label)
    t.notMatch(text, PHRASES.specialHeading, 'no special note where none applies')
    t.notMatch(text, ID_LIKE)
    t.equal(await pagesOfPrint(t, page), 1, 'one A4 page')
    await page.emulateMedia({ media: 'print' })
    t.equal(await page.locator('.notice').evaluate((el) => getComputedStyle(el).fontSize), '16px', 'the usual notice prints at 12 pt')
  })

  await t.test('a region without a limit: what 目录外费用 means, and no limit promised', async (t) => {
    const { page, problems } = await open(t, browser)
    await page.goto(url + '/none')
    t.same(problems, [])
    const text = await page.locator('body').innerText()
    t.match(text, PHRASES.outOfCatalogMeaning)
    t.match(text, PHRASES.treatFirstNo)
    t.match(text, '本地区未规定先诊疗后付费')
    t.notMatch(text, '%', 'no percentage')
    t.notMatch(text, '超过住院总费用')
    t.notMatch(text, '医院承担')
    t.notMatch(text, '一站式')
    t.equal(await pagesOfPrint(t, page), 1)
  })

  await t.test('a notice with longer texts from the rules prints in smaller type, on one A4 page', async (t) => {
    const { page, problems } = await open(t, browser)
    await page.goto(url + '/mid')
    t.same(problems, [])
    t.equal(await page.locator('main.notice.compact').count(), 1, 'marked compact by the renderer')
    t.equal(await pagesOfPrint(t, page), 1)
  })

  await t.test('the longest notice the data allows still prints on one A4 page', async (t) => {
    const { page, problems } = await open(t, browser)
    await page.goto(url + '/long')
    t.same(problems, [])
    const text = await page.locator('body').innerText()
    t.match(text, '123,456,789.50 元')
    t.match(text, '使其不达到住院总费用的8.5%', '达到 for breach_when >=')
    t.match(text, PHRASES.signStaff)
    t.equal(await pagesOfPrint(t, page), 1)
  })
})

t.test('a name, a 住院号 and a hospital with markup are shown as text and create no element', async (t) => {
  const evil = guangxi({
    name_masked: '<img src=x onerror=alert(1)>',
    mdtrt_id: 'ZY"1&\'<script>alert(2)</script>',
    hospital_name: 'A&B "医院" <b>',
    adm_dept_name: '"><svg onload=alert(3)>',
    identities: ['<i>特困</i>'],
    treat_first_text: '</p><script>alert(4)</script>',
    special_note: '<style>body{display:none}</style>'
  })
  const html = noticeHtml(evil, { stylesheet: '/notice.css?a="b"&c' })
  t.notMatch(html, /<(img|script|svg|b|i|style)[\s>]/i, 'no tag from the data survives')
  t.notMatch(html, /\sstyle=/i, 'no inline style (the CSP forbids it)')
  t.notMatch(html, /<script/i, 'no script at all')
  t.match(html, '&lt;img src=x onerror=alert(1)&gt;')
  t.match(html, 'ZY&quot;1&amp;&#39;&lt;script&gt;')
  t.match(html, 'href="/notice.css?a=&quot;b&quot;&amp;c"', 'the stylesheet URL is escaped in its attribute')

  const browser = await launchBrowser(t)
  const { url } = await serveNotice(t, { '/evil': html })
  const { page, problems } = await open(t, browser)
  await page.goto(url + '/evil')
  t.same(problems.filter((p) => !p.includes('/notice.css?')), [], 'no dialog, no error')
  t.equal(await page.locator('img, script, svg, style, b, i').count(), 0, 'no element was made from the data')
  t.equal(await page.locator('.field-name dd').innerText(), '<img src=x onerror=alert(1)>', 'the name shows as typed')
  t.equal(await page.locator('.field-mdtrt_id dd').innerText(), 'ZY"1&\'<script>alert(2)</script>')
  t.match(await page.locator('.hospital').innerText(), 'A&B "医院" <b>')
})

t.test('escapeHtml makes the five HTML-special characters inert and leaves the rest', async (t) => {
  t.equal(escapeHtml('<script>alert("x") & \'y\'</script>'), '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;')
  t.equal(escapeHtml('张*丰 ZY001'), '张*丰 ZY001')
  t.equal(escapeHtml('&amp;'), '&amp;amp;', 'an entity in the data is shown, not decoded')
})

t.test('money is yuan with thousands separators and two decimals, a limit a percentage', async (t) => {
  t.equal(formatYuan(3250), '3,250.00')
  t.equal(formatYuan(1234.5), '1,234.50')
  t.equal(formatYuan(0.005), '0.01', 'rounded to the fen')
  t.equal(formatYuan(999999.999), '1,000,000.00')
  t.equal(formatShare(0.1), '10%')
  t.equal(formatShare(0.085), '8.5%')
})

t.test('the PDF is one A4 page whose text gives back the hospital, 先诊疗后付费, the estimate, its basis and the signatures', async (t) => {
  const pdf = await noticePdf(guangxi({ special_note: '本次住院按单病种付费，不受目录外费用比例限制' }))
  t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-')
  const { text, pages, fonts } = await pdfText(t, pdf)
  t.equal(pages, 1)
  t.match(fonts, /NotoSansHans-Regular\s+CID Type 0C\s+Identity-H\s+yes yes yes/, 'the packaged Chinese font, embedded as a subset with a Unicode map')
  const f = flat(text)
  t.match(f, '柳江区人民医院')
  t.match(f, '先诊疗后付费住院告知书')
  t.match(f, '张*丰')
  t.match(f, 'ZY2026112300001')
  t.match(f, '3,250.00元')
  t.match(f, flat(BASIS))
  t.match(f, flat(PHRASES.estimateCaveat))
  t.match(f, '使其不超过住院总费用的10%')
  t.match(f, '超出部分由医院承担')
  t.match(f, '本次住院按单病种付费，不受目录外费用比例限制。')
  t.match(f, '患者或家属签字')
  t.match(f, '经办人签字')
  t.notMatch(text, ID_LIKE, 'no ID-number-like run')
})

t.test('without an estimate the PDF says so plainly and gives no amount', async (t) => {
  const d = noLimit({ estimate: null })
  const { text, pages } = await pdfText(t, await noticePdf(d))
  t.equal(pages, 1)
  const f = flat(text)
  t.match(f, flat(PHRASES.noEstimate))
  t.notMatch(f, /\d\.\d{2}/, 'no amount')
  t.notMatch(f, PHRASES.estimateOwn)
  t.notMatch(f, '%', 'no limit where the region has none')
  t.notMatch(f, '医院承担')
  t.notMatch(text, ID_LIKE)
})

t.test('the renderers never add an ID-number-like run to data that has none', async (t) => {
  // Every number the notice prints, at its widest: amounts, times, the 住院号, the sample size.
  const d = longest()
  const html = noticeHtml(d, { stylesheet: '/notice.css' })
  t.notMatch(html, ID_LIKE)
  const { text } = await pdfText(t, await noticePdf(guangxi()))
  t.notMatch(text.replace(/\s+/g, ''), ID_LIKE, 'not even across a line break')
})

t.test('the longest notice the data allows is still one PDF page, its texts cut with an ellipsis', async (t) => {
  const { text, pages } = await pdfText(t, await noticePdf(longest()))
  t.equal(pages, 1)
  const f = flat(text)
  t.match(f, '123,456,789.50元')
  t.match(f, '使其不达到住院总费用的8.5%')
  t.match(f, PHRASES.cut, 'a runaway text is cut visibly')
  t.match(f, '突发严重困难户、孤儿等', 'more labels than fit: the first eight, then 等')
  t.match(f, '经办人签字', 'the signatures are on the page')
  t.ok(MAX_CHARS.sentence >= 100, 'a sentence from the rules has room for its clause')
})

t.test('the packaged font sets every character of the notice\'s wording and of every region\'s name and labels', async (t) => {
  const font = resolveNoticeFont(null)
  t.equal(font.source, 'package', 'npm ci brings the font: @embedpdf/fonts-sc')
  t.ok(font.bold !== null, 'with its bold face for headings')
  const collect = (v: unknown, out: string[]): void => {
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) v.forEach((x) => collect(x, out))
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) collect(x, out)
  }
  const fixed: string[] = []
  collect(PHRASES, fixed)
  const dir = join(ROOT, 'profile', 'profiles')
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string, categories: Array<{ label: string }> })
  const regions = profiles.map((p) => p.name)
  const labels = profiles.flatMap((p) => p.categories.map((c) => c.label))
  t.ok(regions.length >= 5 && labels.length >= 20, `${regions.length} regions, ${labels.length} labels`)
  const chars = [...new Set([...fixed, ...regions, ...labels].join(''))].filter((c) => c.trim() !== '')
  const missing = chars.filter((c) => !font.regular.font.hasGlyphForCodePoint(c.codePointAt(0) ?? 0) || (font.bold !== null && !font.bold.font.hasGlyphForCodePoint(c.codePointAt(0) ?? 0)))
  t.same(missing, [], `every one of ${chars.length} characters has a glyph in both faces`)

  // And set in a PDF, they come back as text: one notice per region with all its labels.
  for (const p of profiles) {
    const ids = p.categories.map((c) => c.label).slice(0, MAX_CHARS.labels)
    const { text } = await pdfText(t, await noticePdf(guangxi({ region_name: p.name, identities: ids })))
    const f = flat(text)
    t.match(f, p.name, `${p.name}: its name`)
    t.match(f, ids.join('、'), `${p.name}: its labels`)
  }
})

t.test('with FANGPIN_NOTICE_FONT missing and no other font, the PDF fails with FANGPIN_NOTICE_FONT_MISSING naming the variable', async (t) => {
  const dir = tempDir(t, 'fangpin-font-')
  const missing = join(dir, 'simsun.ttc')
  t.throws(() => resolveNoticeFont(missing, []), { code: CODE.FANGPIN_NOTICE_FONT_MISSING, statusCode: 503, message: /FANGPIN_NOTICE_FONT/ })
  t.throws(() => resolveNoticeFont(null, []), { code: CODE.FANGPIN_NOTICE_FONT_MISSING, message: /FANGPIN_NOTICE_FONT/ }, 'nothing configured, nothing found')
  // Through the worker the agent uses: the same error, not a generic one.
  await t.rejects(noticePdf(guangxi(), { font: missing, candidates: [] }), { code: CODE.FANGPIN_NOTICE_FONT_MISSING, statusCode: 503, message: new RegExp(`FANGPIN_NOTICE_FONT.*${missing.replace(/[.\\]/g, '\\$&')} does not exist`) })
  // A file that is not a font, and a font without Chinese, are passed over just the same.
  const notFont = join(dir, 'notes.ttf')
  writeFileSync(notFont, 'not a font')
  await t.rejects(renderNoticePdf(guangxi(), { font: notFont, candidates: [] }), { code: CODE.FANGPIN_NOTICE_FONT_MISSING, message: /is not a TrueType or OpenType font/ })
  // After a failure the worker still makes notices.
  const { pages } = await pdfText(t, await noticePdf(guangxi()))
  t.equal(pages, 1)
})

t.test('FANGPIN_NOTICE_FONT wins over the packaged font, and a bad one is passed over to it', async (t) => {
  const dir = tempDir(t, 'fangpin-font-')
  t.equal(resolveNoticeFont(join(dir, 'gone.ttf')).source, 'package', 'a missing FANGPIN_NOTICE_FONT falls back to the packaged font')
  t.ok(defaultFontCandidates().some((c) => c.file === WQY), 'Debian\'s WenQuanYi is a known system font')
  t.ok(defaultFontCandidates().some((c) => /simsun\.ttc$/i.test(c.file)), 'and Windows\' 宋体')
  // Another real font than the default face: the packaged bold one, set as the hospital's choice.
  const packaged = defaultFontCandidates().find((c) => c.source === 'package')
  const own = packaged?.bold ?? ''
  const chosen = resolveNoticeFont(own)
  t.equal(chosen.source, 'FANGPIN_NOTICE_FONT')
  t.equal(chosen.regular.file, own)
  const { text, fonts, pages } = await pdfText(t, await noticePdf(guangxi(), { font: own }))
  t.equal(pages, 1)
  t.match(fonts, /NotoSansHans-Bold/)
  t.notMatch(fonts, /NotoSansHans-Regular/, 'the configured font, not the packaged regular one')
  t.match(flat(text), '先诊疗后付费住院告知书')
})

t.test('a font collection (.ttc) gives its first face with Chinese characters', { skip: existsSync(WQY) ? false : 'fonts-wqy-microhei is not installed (.ci/run installs it with chromium)' }, async (t) => {
  const chosen = resolveNoticeFont(WQY)
  t.equal(chosen.source, 'FANGPIN_NOTICE_FONT')
  t.match(chosen.regular.postscriptName, /WenQuanYi/i)
  const { text, fonts } = await pdfText(t, await noticePdf(guangxi(), { font: WQY }))
  t.match(fonts, /WenQuanYi/i, 'the configured face is embedded')
  t.match(flat(text), '3,250.00元')
})

t.test('FANGPIN_NOTICE_FONT is checked at start: a missing or non-font file stops it with a message naming the variable', async (t) => {
  const dir = tempDir(t, 'fangpin-font-')
  const gone = join(dir, 'gone.ttc')
  const problem = (env: Record<string, string>): string => {
    try {
      loadConfig(env)
    } catch (err) {
      if (err instanceof ConfigError) return err.message
      throw err
    }
    return 'no problem'
  }
  t.match(problem({ FANGPIN_NOTICE_FONT: gone }), /FANGPIN_NOTICE_FONT=".*gone\.ttc" is not usable: .*does not exist\. Set the path of a TrueType or OpenType font/)
  const woff = join(dir, 'font.woff2')
  writeFileSync(woff, Buffer.from('wOF2rest-of-it'))
  t.match(problem({ FANGPIN_NOTICE_FONT: woff }), /FANGPIN_NOTICE_FONT=.* is a WOFF2 web font: use the \.ttf, \.otf or \.ttc file/)
  t.equal(loadConfig({}).noticeFont, null, 'unset: none')
  t.equal(loadConfig({ FANGPIN_NOTICE_FONT: ' ' }).noticeFont, null, 'blank: none')
  const packaged = defaultFontCandidates().find((c) => c.source === 'package')
  t.ok(packaged !== undefined)
  t.equal(loadConfig({ FANGPIN_NOTICE_FONT: packaged?.file }).noticeFont, packaged?.file, 'a real font file is taken, as an absolute path')
})
