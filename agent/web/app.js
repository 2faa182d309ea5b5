// Billing staff page: sign-in, the open stays of poor and low-income patients worst first, a stay's
// detail with its exemption form and discharge gate, live alerts over SSE, and the admin section.
// Plain ES2020, no build step, no libraries, nothing from outside the agent. Under the page's CSP
// (script-src 'self', style-src 'self') nothing is inlined: every piece of data reaches the page
// through textContent or setAttribute, never through HTML strings.
'use strict'

;(() => {
  const API = '/staff/api'

  const STATUS_LABEL = { ok: '正常', warning: '预警', breach: '超标', exempt: '豁免', not_monitored: '不在名单', no_limit: '无比例上限' }
  const STATUS_ORDER = ['breach', 'warning', 'ok', 'no_limit', 'exempt']
  const GATE_LABEL = { ok: '可出院', warn: '提醒', block: '拦截' }
  const LEVEL_LABEL = { info: '提示', warning: '预警', critical: '严重' }
  const STATE_LABEL = { open: '待处理', acknowledged: '已确认', resolved: '已解除' }
  const KIND_LABEL = {
    spending_warning: '费用预警',
    spending_breach: '费用超标',
    identity_started: '住院期间纳入名单',
    identity_ended: '身份已结束',
    admission_corrected: '入院信息更正',
    local_setting_missing: '本地设置缺项',
    storage_failed: '数据库写入失败',
    sync_failed: '名单同步失败',
    list_stale: '名单过期',
    backup_failed: '数据备份失败',
    reimbursement_low: '报销未达目标',
    annual_burden: '年度负担超预警线',
    admission_estimate: '入院预估负担较高',
    catalog_sync_failed: '目录同步失败'
  }
  const MEASURE_LABEL = { reimbursement_ratio: '住院合规费用报销比例', protection_ratio: '综合保障率', psn_part_ratio: '个人负担率' }
  const SETL_TYPE_LABEL = { pre: '预结算', final: '结算' }
  const CANCEL_LABEL = { cancelled: '已撤销', replaced: '已被新的预结算替代' }
  const ROLE_LABEL = { billing: '结算', admin: '管理员', his: 'HIS' }
  const EXEMPTION_LABEL = { single_disease: '单病种付费', special_case: '特殊病例（已审批）' }
  const REASON_LABEL = { admission: '入院时在名单内', list_update: '住院期间名单更新后纳入' }
  const NEW_HIGHLIGHT_MS = 30_000
  const POLL_MS = 30_000

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id)

  /** Builds an element. Text is always text (textContent); there is no way to pass HTML. */
  function h (tag, props, ...children) {
    const el = document.createElement(tag)
    if (props != null) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue
        if (key === 'class') el.className = value
        else if (key === 'text') el.textContent = String(value)
        else if (key === 'dataset') {
          for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[k] = String(v)
        } else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
        else if (key === 'style') throw new Error('no inline styles under the CSP')
        else if (value === true) el.setAttribute(key, '')
        else el.setAttribute(key, String(value))
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue
      el.append(child instanceof Node ? child : document.createTextNode(String(child)))
    }
    return el
  }

  function clear (el) {
    while (el.firstChild) el.removeChild(el.firstChild)
  }

  const moneyFormat = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

  function money (yuan) {
    if (yuan === undefined || yuan === null || Number.isNaN(Number(yuan))) return '—'
    return moneyFormat.format(Number(yuan))
  }

  function pct (ratio) {
    if (ratio === undefined || ratio === null) return '—'
    return (Math.round(Number(ratio) * 10000) / 100).toFixed(2) + '%'
  }

  const pad = (n) => String(n).padStart(2, '0')

  /** A UTC ISO instant in the browser's (the hospital's) local time; HIS local times as given. */
  function when (value) {
    if (value === undefined || value === null || value === '') return '—'
    if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(value)) return value.slice(0, 16)
    const d = new Date(value)
    if (Number.isNaN(d.getTime())) return String(value)
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
  }

  /** 'YYYY-MM-DD HH:mm:ss' as 'MM-DD HH:mm' in the list (the full value is in the title). */
  function shortTime (value) {
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(value) ? value.slice(5, 16) : when(value)
  }

  function badge (cls, text) {
    return h('span', { class: `badge ${cls}`, text })
  }

  function statusBadge (status) {
    return h('span', { class: `badge status-${status}`, dataset: { role: 'status-badge' }, text: STATUS_LABEL[status] ?? status })
  }

  function shareBar (ratio, status) {
    const fill = h('div', { class: `bar-fill status-${status}`, dataset: { role: 'bar' } })
    // CSSOM writes are allowed by style-src 'self'; only style="" markup is not.
    fill.style.width = ratio === null || ratio === undefined ? '0%' : `${Math.max(0, Math.min(1, Number(ratio))) * 100}%`
    return h('div', { class: 'share' },
      h('div', { class: 'bar', role: 'img', 'aria-label': `目录内占比 ${pct(ratio)}${limitNote()}` }, fill),
      h('span', { class: `share-text status-${status}`, text: pct(ratio) }))
  }

  /** ，90% 为下限 — from the region's limit; nothing where the region has none. */
  function limitNote () {
    const l = state.profile?.spending_limit
    if (l == null) return ''
    return `，${Math.round((1 - l.share) * 10000) / 100}% 为下限`
  }

  /** 目录内占比（不低于 90%） or 目录外占比（不超过协议约定的 10%）: the rule as the region states it. */
  function limitLabel () {
    const l = state.profile?.spending_limit
    if (l == null) return '目录内占比（本地区未设比例上限）'
    const share = Math.round(l.share * 10000) / 100
    if (l.source === 'policy') return `目录内占比（${l.breach_when === '>' ? '不低于' : '高于'} ${Math.round((100 - share) * 100) / 100}%）`
    return `目录内占比（目录外${l.breach_when === '>' ? '不超过' : '低于'}${l.source === 'agreement' ? '协议约定的' : '本院设定的'} ${share}%）`
  }

  /** Re-renders `container` with `render()`, giving focus back to the same control afterwards. */
  function keepFocus (container, render) {
    const active = document.activeElement
    const key = active !== null && container.contains(active) ? active.getAttribute('data-focus-key') : null
    render()
    if (key !== null) {
      const again = [...container.querySelectorAll('[data-focus-key]')].find((el) => el.getAttribute('data-focus-key') === key)
      if (again !== undefined) again.focus()
    }
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor (status, code, message) {
      super(message)
      this.status = status
      this.code = code
      this.handled = false
    }
  }

  /**
   * One JSON call to the staff API with the session cookie. A 401 (session gone) returns to the
   * sign-in view unless `opts.signIn` (the sign-in call itself handles its 401).
   */
  async function api (method, path, body, opts = {}) {
    const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' }
    // Refreshes nobody asked for (the timer, a live alert) must not keep an unattended PC signed in.
    if (opts.background === true) init.headers['x-fangpin-background'] = '1'
    if (method !== 'GET' && method !== 'HEAD') {
      init.headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body ?? {})
    }
    let res
    try {
      res = await fetch(API + path, init)
    } catch {
      throw new ApiError(0, 'FANGPIN_NETWORK', '无法连接到防贫服务，请检查网络或联系信息科')
    }
    const text = await res.text()
    let data = null
    if (text !== '') {
      try { data = JSON.parse(text) } catch { data = null }
    }
    if (res.ok) return data
    const code = data?.error?.code ?? `HTTP_${res.status}`
    const message = data?.error?.message ?? `请求失败（HTTP ${res.status}）`
    const err = new ApiError(res.status, code, message)
    if (res.status === 401 && opts.signIn !== true) {
      err.handled = true
      // Several calls in flight fail together: the first one signs out, the rest have nothing to do.
      if (state.me !== null) showSignIn('登录已失效，请重新登录')
    }
    throw err
  }

  // ---------------------------------------------------------------- state

  const state = {
    me: null,
    /** bumped at every sign-in and sign-out: late answers of an old session are dropped */
    gen: 0,
    overview: null,
    /** the region's rules as applied (GET /staff/api/profile): limits, who gets what, each with its clause */
    profile: null,
    inpatients: [],
    alerts: [],
    newAlerts: new Map(),
    showAllAlerts: false,
    events: null,
    eventsRetry: null,
    eventsBroken: false,
    poll: null,
    refreshTimer: null,
    detailId: null,
    detailOpener: null,
    detailFlash: null
  }

  function notice (text, kind = 'info') {
    $('notice-text').textContent = text
    $('notice').dataset.kind = kind
    $('notice').hidden = false
  }

  function showError (err) {
    if (err?.handled === true) return
    notice(err?.message ?? String(err), 'error')
  }

  // ---------------------------------------------------------------- sign-in / sign-out

  function showSignIn (message) {
    state.gen++
    state.me = null
    stopLive()
    const dialog = $('detail-dialog')
    if (dialog.open) dialog.close()
    state.detailId = null
    // Nothing of the previous session stays in the page for the next person at this PC.
    state.inpatients = []
    state.alerts = []
    state.newAlerts.clear()
    state.overview = null
    state.profile = null
    for (const id of ['inpatient-rows', 'alert-list', 'token-rows', 'user-rows', 'counts', 'list-info', 'danger-banner', 'detail-body', 'policy-body', 'catalog-rows', 'drift-rows', 'catalog-info', 'catalog-summary']) clear($(id))
    $('catalog-table').hidden = true
    $('drift-box').hidden = true
    $('catalog-q').value = ''
    $('new-token-value').value = ''
    $('new-token').hidden = true
    $('main').hidden = true
    $('admin-section').hidden = true
    $('user-box').hidden = true
    $('list-info').hidden = true
    $('danger-banner').hidden = true
    $('login-view').hidden = false
    $('login-password').value = ''
    const error = $('login-error')
    error.textContent = message ?? ''
    error.hidden = message === undefined
    $('login-submit').disabled = false
    if (location.pathname !== '/login') history.replaceState(null, '', '/login')
    $('login-name').focus()
  }

  async function onSignIn (event) {
    event.preventDefault()
    const name = $('login-name').value.trim()
    const password = $('login-password').value
    const error = $('login-error')
    if (name === '' || password === '') {
      error.textContent = '请输入姓名和密码'
      error.hidden = false
      ;(name === '' ? $('login-name') : $('login-password')).focus()
      return
    }
    $('login-submit').disabled = true
    try {
      const me = await api('POST', '/login', { name, password }, { signIn: true })
      enterApp(me)
    } catch (err) {
      error.textContent = err.status === 401 ? '姓名或密码错误' : err.message
      error.hidden = false
      $('login-password').value = ''
      $('login-password').focus()
    } finally {
      $('login-submit').disabled = false
    }
  }

  async function onSignOut () {
    try {
      await api('POST', '/logout', {}, { signIn: true })
    } catch (err) {
      if (err.status !== 401) { showError(err); return }
    }
    showSignIn()
    notice('已退出登录')
  }

  function enterApp (me) {
    state.gen++
    state.me = me
    $('notice').hidden = true
    $('login-view').hidden = true
    $('login-error').hidden = true
    $('user-name').textContent = me.name
    $('user-role').textContent = ROLE_LABEL[me.role] ?? me.role
    $('user-box').hidden = false
    $('main').hidden = false
    $('admin-section').hidden = me.role !== 'admin'
    if (location.pathname !== '/') history.replaceState(null, '', '/')
    $('main').focus()
    void loadProfile().then(() => loadOverview())
    void loadInpatients()
    void loadAlerts()
    void loadCatalog()
    startLive()
    if (me.role === 'admin') {
      void loadTokens()
      void loadUsers()
    }
  }

  async function checkSession () {
    try {
      const me = await api('GET', '/me', undefined, { signIn: true })
      enterApp(me)
    } catch (err) {
      showSignIn(err.status === 401 ? undefined : err.message)
    }
  }

  // ---------------------------------------------------------------- overview (header)

  // ---------------------------------------------------------------- 年度负担 (the month's burden list)

  function lastMonth () {
    const d = new Date()
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
  }

  async function loadBurden () {
    const month = $('burden-month').value || lastMonth()
    const box = $('burden-body')
    const q = `?month=${encodeURIComponent(month)}`
    $('burden-xlsx').setAttribute('href', `${API}/reports/burden.xlsx${q}`)
    $('burden-csv').setAttribute('href', `${API}/reports/burden.csv${q}`)
    try {
      const r = await api('GET', `/burden${q}`)
      clear(box)
      box.append(
        h('h3', {}, `年度负担超预警线（${r.over_threshold.length} 人）`),
        r.over_threshold.length === 0
          ? h('p', { class: 'muted', text: '没有人达到年度负担预警线。' })
          : h('table', { class: 'grid compact', dataset: { role: 'over-threshold' } },
            h('thead', {}, h('tr', {}, ['住院号', '姓名', '科室', '达到时间', '年度累计个人负担(元)', '自费占比', '预警线(元)'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, r.over_threshold.map((o) => h('tr', {},
              h('td', { class: 'id', text: o.mdtrt_id }), h('td', { text: o.name_masked ?? '—' }), h('td', { text: o.adm_dept_name ?? '—' }),
              h('td', {}, when(o.crossed_at), o.crossed_this_month ? [' ', badge('level-warning', '本月新增')] : null),
              h('td', { class: 'num', text: money(o.ytd_psn_part_amt) }), h('td', { class: 'num', text: pctText(o.ytd_out_of_catalog_ratio) }),
              h('td', { class: 'num', text: o.threshold_amt === null ? '—' : money(o.threshold_amt) }))))),
        h('h3', {}, `报销未达目标（${r.below_target.length} 次住院）`),
        r.below_target.length === 0
          ? h('p', { class: 'muted', text: '本月没有结算低于报销目标的住院。' })
          : h('table', { class: 'grid compact', dataset: { role: 'below-target' } },
            h('thead', {}, h('tr', {}, ['住院号', '姓名', '科室', '结算时间', '个人负担(元)', '未达目标'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, r.below_target.map((b) => h('tr', {},
              h('td', { class: 'id', text: b.mdtrt_id }), h('td', { text: b.name_masked ?? '—' }), h('td', { text: b.adm_dept_name ?? '—' }),
              h('td', { text: when(b.setl_time) }), h('td', { class: 'num', text: money(b.psn_part_amt) }),
              h('td', { text: b.targets.filter((t) => t.met === false).map((t) => `${MEASURE_LABEL[t.measure] ?? t.measure} ${pctText(t.value)}`).join('；') }))))))
    } catch (err) {
      showError(err)
    }
  }

  // ---------------------------------------------------------------- 本地政策 (the region's rules)

  async function loadProfile () {
    const gen = state.gen
    try {
      const profile = await api('GET', '/profile')
      if (gen !== state.gen) return
      state.profile = profile
      renderProfile()
    } catch (err) {
      showError(err)
    }
  }

  const TOPIC_LABEL = {
    identity: '身份判定',
    treat_first_pay_later: '先诊疗后付费',
    one_stop_settlement: '一站式结算',
    spending: '住院目录外费用',
    annual_burden: '年度个人负担监测',
    stay_estimate: '入院费用预估',
    targets: '待遇目标',
    benefits: '待遇倾斜与救助',
    severe_diseases: '重病范围',
    notes: '其他规定（仅提示）'
  }
  const RULE_STATE_LABEL = { on: '生效', off: '未生效', info: '仅提示' }

  function renderProfile () {
    const p = state.profile
    const box = $('policy-body')
    clear(box)
    if (p == null) return
    $('policy-region').textContent = `${p.name}${p.hospital_name ? '・' + p.hospital_name : ''}（${p.sources.join('、')}）`
    const yn = (b) => (b ? '是' : '否')
    box.append(
      h('table', { class: 'grid compact', dataset: { role: 'policy-categories' } },
        h('caption', { class: 'sr-only', text: '各类人员享受的待遇' }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '人员类别（按优先顺序）'), h('th', { scope: 'col' }, '先诊疗后付费'), h('th', { scope: 'col' }, '一站式结算'), h('th', { scope: 'col' }, '费用监测'))),
        h('tbody', {}, p.categories.map((c) => h('tr', { dataset: { category: c.id } },
          h('td', { text: c.label }), h('td', { text: yn(c.treat_first_pay_later) }), h('td', { text: yn(c.one_stop_settlement) }), h('td', { text: yn(c.monitored) }))))))
    let list = null
    let topic = null
    for (const r of p.rules) {
      if (r.topic !== topic) {
        topic = r.topic
        list = h('ul', { class: 'plain-list rules' })
        box.append(h('h3', { text: TOPIC_LABEL[topic] ?? topic }), list)
      }
      list.append(h('li', { dataset: { role: 'policy-rule', state: r.state } },
        badge(`rule-${r.state}`, RULE_STATE_LABEL[r.state] ?? r.state), ' ', r.text,
        r.source ? h('div', { class: 'muted small', text: `依据：${r.source}` }) : null))
    }
    if (p.missing_local.length > 0) {
      box.append(h('h3', { text: '缺少的本地设置' }),
        h('ul', { class: 'plain-list', dataset: { role: 'policy-missing' } }, p.missing_local.map((m) => h('li', {}, h('code', { text: 'local.' + m.key }), '：', m.message))))
    }
    // The in-catalog column says the region's own limit.
    const th = $('headroom-heading')
    const l = p.spending_limit
    th.title = l == null ? '本地区未设目录外费用占比上限' : `再使用多少目录外费用仍在 ${Math.round(l.share * 10000) / 100}% 以内`
  }

  async function loadOverview (background = false) {
    const gen = state.gen
    try {
      const overview = await api('GET', '/overview', undefined, { background })
      if (gen !== state.gen) return
      state.overview = overview
      renderOverview()
    } catch (err) {
      showError(err)
    }
  }

  function renderOverview () {
    const { list, sync, counts, storage } = state.overview ?? {}
    const info = $('list-info')
    clear(info)
    const danger = []
    if (list == null || list.version === null || list.version === undefined) {
      danger.push('尚未载入困难群众名单：所有患者都将按不在名单处理，请联系信息科导入名单或配置名单同步')
    } else {
      const age = list.age_hours === null || list.age_hours === undefined ? '—' : (Math.round(Number(list.age_hours) * 10) / 10).toString()
      info.append(
        h('span', { class: 'tag' }, '名单版本 ', h('strong', { text: list.version ?? '—' })),
        h('span', { class: 'tag' }, '已更新 ', h('strong', { text: age }), ' 小时'),
        h('span', { class: 'tag' }, '地区 ', h('strong', { text: [list.region_name, list.region].filter((x) => x).join(' ') || '—' })))
      if (list.person_count !== undefined && list.person_count !== null) {
        info.append(h('span', { class: 'tag' }, '人数 ', h('strong', { text: String(list.person_count) })))
      }
      if (list.demo === true) danger.push('演示名单，不得用于真实患者')
      if (list.stale === true) danger.push(`名单已过期：${age} 小时未更新，查询结果可能不准确，请尽快同步名单`)
    }
    if (storage?.ok === false) danger.push(`数据库无法写入，入院登记和费用上传会失败：${storage.message ?? ''}。请立即联系信息科`)
    if (sync?.last_failed === true) danger.push(`名单同步失败${sync.last_message ? '：' + sync.last_message : ''}`)
    const missing = state.profile?.missing_local ?? []
    if (missing.length > 0) danger.push(`本院本地设置缺少 ${missing.length} 项，相关规则暂停：${missing.map((m) => 'local.' + m.key).join('、')}（见下方“本地政策”）`)
    info.hidden = false
    const banner = $('danger-banner')
    clear(banner)
    for (const line of danger) banner.append(h('div', { text: line }))
    banner.hidden = danger.length === 0
    renderCounts(counts)
  }

  function renderCounts (counts) {
    const box = $('counts')
    keepFocus(box, () => {
      clear(box)
      if (counts == null) return
      const current = $('filter-status').value
      for (const status of STATUS_ORDER) {
        const n = counts[status] ?? 0
        box.append(h('button', {
          type: 'button',
          class: `count-chip status-${status}`,
          'aria-pressed': current === status ? 'true' : 'false',
          title: `只看${STATUS_LABEL[status]}`,
          dataset: { focusKey: `count-${status}`, status },
          onclick: () => {
            $('filter-status').value = current === status ? '' : status
            renderInpatients()
            renderCounts(counts)
          }
        }, `${STATUS_LABEL[status]} ${n}`))
      }
    })
  }

  // ---------------------------------------------------------------- inpatients

  async function loadInpatients (background = false) {
    const gen = state.gen
    try {
      const data = await api('GET', '/inpatients', undefined, { background })
      if (gen !== state.gen) return
      state.inpatients = data?.inpatients ?? []
      renderDeptOptions()
      renderInpatients()
    } catch (err) {
      showError(err)
    }
  }

  function deptKey (p) {
    return p.adm_dept_name ?? p.adm_dept_codg ?? ''
  }

  function renderDeptOptions () {
    const select = $('filter-dept')
    const current = select.value
    const depts = [...new Set(state.inpatients.map(deptKey).filter((d) => d !== ''))].sort((a, b) => a.localeCompare(b, 'zh-CN'))
    if (current !== '' && !depts.includes(current)) depts.push(current)
    clear(select)
    select.append(h('option', { value: '' }, '全部科室'))
    for (const d of depts) select.append(h('option', { value: d }, d))
    select.value = current
  }

  function filtered () {
    const status = $('filter-status').value
    const dept = $('filter-dept').value
    const q = $('filter-q').value.trim().toLowerCase()
    return state.inpatients.filter((p) =>
      (status === '' || p.status === status) &&
      (dept === '' || deptKey(p) === dept) &&
      (q === '' || String(p.mdtrt_id).toLowerCase().includes(q)))
  }

  function renderInpatients () {
    const tbody = $('inpatient-rows')
    const rows = filtered()
    keepFocus(tbody, () => {
      clear(tbody)
      for (const p of rows) tbody.append(inpatientRow(p))
    })
    $('inpatient-empty').hidden = rows.length > 0
    $('list-summary').textContent = rows.length === state.inpatients.length
      ? `共 ${state.inpatients.length} 人`
      : `共 ${state.inpatients.length} 人，显示 ${rows.length} 人`
  }

  function inpatientRow (p) {
    const t = p.totals ?? {}
    const open = h('button', {
      type: 'button',
      class: 'btn btn-small',
      'aria-label': `查看住院号 ${p.mdtrt_id} 的详情`,
      dataset: { action: 'open-detail', mdtrtId: p.mdtrt_id, focusKey: `open-${p.mdtrt_id}` },
      onclick: (event) => { void openDetail(p.mdtrt_id, event.currentTarget) }
    }, '详情')
    return h('tr', { dataset: { mdtrtId: p.mdtrt_id, status: p.status } },
      h('td', { class: 'id', text: p.mdtrt_id }),
      h('td', { class: 'nowrap', text: p.name_masked ?? '—' }),
      h('td', { class: 'dept', text: p.adm_dept_name ?? p.adm_dept_codg ?? '—' }),
      h('td', { class: 'identity', text: p.primary_identity?.label ?? '—' }),
      h('td', { class: 'nowrap', title: p.begntime, text: shortTime(p.begntime) }),
      h('td', { class: 'num', text: p.days ?? '—' }),
      h('td', { class: 'num', text: money(t.medfee_sumamt) }),
      h('td', { class: 'num', text: money(t.out_of_catalog_amt) }),
      h('td', {}, shareBar(t.in_catalog_ratio, p.status)),
      h('td', { class: 'num', text: p.status === 'exempt' || t.headroom_amt === null ? '不限' : money(t.headroom_amt) }),
      h('td', {}, statusBadge(p.status)),
      h('td', {}, open))
  }

  // ---------------------------------------------------------------- stay detail

  async function openDetail (mdtrtId, opener) {
    const dialog = $('detail-dialog')
    state.detailId = mdtrtId
    state.detailOpener = opener ?? document.activeElement
    state.detailFlash = null
    $('detail-title').textContent = `住院号 ${mdtrtId}`
    const body = $('detail-body')
    clear(body)
    body.append(h('p', { class: 'muted', text: '正在加载…' }))
    if (!dialog.open) dialog.showModal()
    await loadDetail()
  }

  async function loadDetail () {
    const id = state.detailId
    const gen = state.gen
    if (id === null) return
    try {
      const data = await api('GET', `/stays/${encodeURIComponent(id)}`)
      if (gen !== state.gen || state.detailId !== id) return
      renderDetail(data)
    } catch (err) {
      if (err.handled === true || state.detailId !== id) return
      const body = $('detail-body')
      clear(body)
      body.append(h('p', { class: 'form-error', role: 'alert', text: err.message }))
    }
  }

  function onDetailClosed () {
    const id = state.detailId
    state.detailId = null
    state.detailFlash = null
    let target = state.detailOpener
    if (target === null || !document.body.contains(target)) {
      target = [...document.querySelectorAll('[data-action="open-detail"]')].find((b) => b.dataset.mdtrtId === id) ?? null
    }
    state.detailOpener = null
    if (target !== null && state.me !== null) target.focus()
  }

  function section (title, ...children) {
    return h('section', { class: 'detail-section' }, h('h3', {}, title), ...children)
  }

  function pctText (ratio) {
    return ratio === null || ratio === undefined ? '—' : `${(Math.round(Number(ratio) * 10_000) / 100).toFixed(2)}%`
  }

  function estimateText (e) {
    if (e == null || e.basis === null) return '入院时暂无法预估'
    const basis = e.basis === 'tariff'
      ? `按本院DRG病组支付标准（病组${e.basis_code ?? ''}，参照${e.sample_size}例结算）估算`
      : `按本院近一年同类诊断（${e.basis_code ?? ''}）${e.sample_size}例住院的个人负担中位数估算`
    return `约 ${money(e.psn_part_amt)} 元（${basis}）`
  }

  /** 个人负担与结算: the estimate, the burden from the settlements, 再救助, each settlement, the notice. */
  function burdenSection (s) {
    const b = s.burden
    const id = encodeURIComponent(s.mdtrt_id)
    const rows = []
    rows.push(h('dt', {}, '入院预估个人负担'), h('dd', { dataset: { role: 'estimate' }, text: estimateText(s.estimate) }))
    if (b != null) {
      rows.push(h('dt', {}, b.setl_type === 'pre' ? '个人负担（预结算）' : '个人负担'), h('dd', { dataset: { role: 'psn-part' }, text: `${money(b.psn_part_amt)} 元（个人负担率 ${pctText(b.psn_part_ratio)}）` }))
      rows.push(h('dt', {}, '基金支付'), h('dd', { text: `${money(b.fund_pay_sumamt)} 元（报销比例 ${pctText(b.reimbursement_ratio)}，综合保障率 ${pctText(b.protection_ratio)}）` }))
      for (const t of b.targets ?? []) {
        rows.push(h('dt', {}, MEASURE_LABEL[t.measure] ?? t.measure), h('dd', {}, badge(t.met === false ? 'level-warning' : 'level-info', t.met === false ? '未达目标' : t.met === true ? '达标' : '无法计算'), ` ${pctText(t.value)}（目标 ${t.comparison === '<=' ? '≤' : '≥'} ${pctText(t.target)}，${t.source}）`))
      }
      rows.push(h('dt', {}, `${b.ytd_year} 年累计个人负担`), h('dd', { dataset: { role: 'ytd' } },
        `${money(b.ytd_psn_part_amt)} 元`, b.ytd_as_of === null ? '' : `（含名单统计截至 ${b.ytd_as_of} 的累计）`,
        b.annual_threshold === null ? '' : [' ', badge(b.annual_threshold_crossed ? 'level-warning' : 'level-info', b.annual_threshold_crossed ? '已达预警线' : `预警线 ${money(b.annual_threshold.amount)} 元`)]))
      if (b.reassist_est_amt !== null) rows.push(h('dt', {}, '再救助（预计）'), h('dd', { dataset: { role: 'reassist' }, text: `本次 ${money(b.reassist_est_amt)} 元，本年累计 ${money(b.reassist_ytd_amt)} 元（以医保部门核定为准）` }))
    }
    const list = s.settlements ?? []
    return h('section', { class: 'detail-section wide', dataset: { role: 'burden' } },
      h('h3', {}, '个人负担与结算 ',
        h('a', { class: 'btn btn-ghost', href: `${API}/stays/${id}/notice`, target: '_blank', rel: 'noopener', dataset: { role: 'print-notice' } }, '打印告知书'),
        ' ',
        h('a', { class: 'btn btn-ghost', href: `${API}/stays/${id}/notice.pdf`, target: '_blank', rel: 'noopener' }, '告知书 PDF')),
      h('dl', { class: 'kv' }, rows),
      list.length === 0
        ? h('p', { class: 'muted', text: '尚未收到结算信息（HIS 在预结算、结算后发送）。' })
        : h('table', { class: 'grid compact', dataset: { role: 'settlements' } },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, '结算ID'), h('th', { scope: 'col' }, '类型'), h('th', { scope: 'col' }, '时间'),
            h('th', { scope: 'col', class: 'num' }, '医疗费用(元)'), h('th', { scope: 'col', class: 'num' }, '基金支付(元)'), h('th', { scope: 'col', class: 'num' }, '个人负担(元)'), h('th', { scope: 'col' }, '状态'))),
          h('tbody', {}, list.map((x) => h('tr', { class: x.cancel_reason === null ? '' : 'muted' },
            h('td', { class: 'id', text: x.setl_id }),
            h('td', { text: SETL_TYPE_LABEL[x.setl_type] ?? x.setl_type }),
            h('td', { text: when(x.setl_time) }),
            h('td', { class: 'num', text: money(x.medfee_sumamt) }),
            h('td', { class: 'num', text: money(x.fund_pay_sumamt) }),
            h('td', { class: 'num', text: money(x.psn_part_amt) }),
            h('td', { text: x.cancel_reason === null ? (x.before_discharge ? '有效（出院登记前结算）' : '有效') : (CANCEL_LABEL[x.cancel_reason] ?? x.cancel_reason) }))))))
  }

  function renderDetail ({ stay, gate }) {
    const s = stay
    const t = s.totals ?? {}
    $('detail-title').textContent = `住院号 ${s.mdtrt_id} · ${s.name_masked ?? ''}`
    const body = $('detail-body')
    clear(body)
    body.dataset.mdtrtId = s.mdtrt_id
    body.dataset.status = s.status

    const identities = (s.identities ?? []).map((i) => i.label ?? i.category).filter(Boolean)
    const overview = section('患者与住院',
      h('dl', { class: 'kv' },
        h('dt', {}, '状态'), h('dd', {}, statusBadge(s.status), s.state === 'discharged' ? h('span', { class: 'muted', text: '（已出院）' }) : null),
        h('dt', {}, '姓名'), h('dd', { text: s.name_masked ?? '—' }),
        h('dt', {}, '科室'), h('dd', { text: s.adm_dept_name ?? s.adm_dept_codg ?? '—' }),
        h('dt', {}, '身份'), h('dd', { text: identities.length > 0 ? identities.join('、') : (s.primary_identity?.label ?? '—') }),
        h('dt', {}, '入院时间'), h('dd', { text: `${when(s.begntime)}（第 ${s.days ?? '—'} 天）` }),
        s.endtime ? [h('dt', {}, '出院时间'), h('dd', { text: when(s.endtime) })] : null,
        h('dt', {}, '先诊疗后付费'), h('dd', { text: s.treat_first_pay_later === true ? '是' : '否' }),
        h('dt', {}, '纳入监测'), h('dd', { text: s.monitored === false ? '否' : (REASON_LABEL[s.monitored_reason] ?? '是') }),
        h('dt', {}, '豁免'), h('dd', { text: s.exemption === null || s.exemption === undefined ? '无' : (EXEMPTION_LABEL[s.exemption] ?? s.exemption) }),
        h('dt', {}, '费用明细'), h('dd', { text: `${s.line_count ?? 0} 条` })))

    const valueClass = `value status-${s.status}`
    const totals = section('费用',
      h('div', { class: 'totals-row' },
        h('div', { class: 'total' }, h('span', { class: 'label', text: '总费用(元)' }), h('span', { class: 'value', text: money(t.medfee_sumamt) })),
        h('div', { class: 'total' }, h('span', { class: 'label', text: '目录内费用(元)' }), h('span', { class: 'value', text: money(t.in_catalog_amt) })),
        h('div', { class: 'total' }, h('span', { class: 'label', text: '目录外费用(元)' }), h('span', { class: valueClass, text: money(t.out_of_catalog_amt) })),
        h('div', { class: 'total' }, h('span', { class: 'label', text: '还可使用目录外费用(元)' }), h('span', { class: 'value', text: s.status === 'exempt' || t.headroom_amt === null ? '不限' : money(t.headroom_amt) }))),
      h('div', {}, h('span', { class: 'muted small', dataset: { role: 'limit-label' }, text: limitLabel() }), shareBar(t.in_catalog_ratio, s.status)))

    const decision = gate?.decision ?? 'ok'
    const gateBox = section(h('span', {}, '出院审核 ', badge(`gate-${decision}`, GATE_LABEL[decision] ?? decision)),
      h('div', { class: `gate gate-${decision}`, dataset: { role: 'gate', decision } },
        h('ul', {}, (gate?.reasons ?? []).map((r) => h('li', { text: r.message }))),
        // Only where the region's text makes the hospital bear the excess (000 五(二)2): elsewhere
        // the answer carries null and the page says nothing about the hospital bearing anything.
        gate?.hospital_borne_amt === null || gate?.hospital_borne_amt === undefined
          ? null
          : h('p', {}, '医院承担金额：', h('strong', { dataset: { role: 'hospital-borne' }, text: `${money(gate.hospital_borne_amt)} 元` }))),
      (gate?.cards ?? []).length > 0
        ? h('ul', { class: 'plain-list' }, gate.cards.map((c) => h('li', {}, badge(`level-${c.indicator}`, LEVEL_LABEL[c.indicator] ?? c.indicator), ' ', c.summary)))
        : null)

    const items = [...(s.top_out_of_catalog ?? [])].sort((a, b) => Number(b.out_of_catalog_amt) - Number(a.out_of_catalog_amt))
    const top = h('section', { class: 'detail-section wide' },
      h('h3', {}, '目录外费用主要项目'),
      items.length === 0
        ? h('p', { class: 'muted', text: '没有目录外费用。' })
        : h('table', { class: 'grid compact', dataset: { role: 'top-items' } },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, '项目名称'), h('th', { scope: 'col' }, '医保编码'), h('th', { scope: 'col' }, '院内编码'),
            h('th', { scope: 'col', class: 'num' }, '目录外金额(元)'), h('th', { scope: 'col', class: 'num' }, '总金额(元)'), h('th', { scope: 'col', class: 'num' }, '明细条数'))),
          h('tbody', {}, items.map((i) => h('tr', {},
            h('td', { text: i.med_list_name ?? '—' }),
            h('td', { class: 'id', text: i.med_list_codg ?? '—' }),
            h('td', { class: 'id', text: i.medins_list_codg ?? '—' }),
            h('td', { class: 'num', text: money(i.out_of_catalog_amt) }),
            h('td', { class: 'num', text: money(i.amount) }),
            h('td', { class: 'num', text: i.lines ?? '—' }))))))

    const unmappedItems = s.unmapped_items ?? []
    const unmapped = unmappedItems.length === 0
      ? null
      : h('section', { class: 'detail-section wide' },
        h('h3', {}, '未对照项目'),
        h('p', { class: 'muted small', text: '这些费用没有收费项目等级，在医保目录和院内编码对照中也找不到，已按目录外费用计算。请信息科核对医保对照或更新医保目录。' }),
        h('table', { class: 'grid compact', dataset: { role: 'unmapped-items' } },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, '项目名称'), h('th', { scope: 'col' }, '医保编码'), h('th', { scope: 'col' }, '院内编码'),
            h('th', { scope: 'col', class: 'num' }, '金额(元)'), h('th', { scope: 'col', class: 'num' }, '明细条数'))),
          h('tbody', {}, unmappedItems.map((i) => h('tr', {},
            h('td', { text: i.med_list_name ?? '—' }),
            h('td', { class: 'id', text: i.med_list_codg ?? '—' }),
            h('td', { class: 'id', text: i.medins_list_codg ?? '—' }),
            h('td', { class: 'num', text: money(i.amount) }),
            h('td', { class: 'num', text: i.lines ?? '—' }))))))

    const exemptions = h('section', { class: 'detail-section wide', dataset: { role: 'exemptions' } },
      h('h3', {}, '特殊病例豁免'),
      state.detailFlash !== null ? h('p', { class: 'form-ok', role: 'status', tabindex: '-1', id: 'exemption-flash', text: state.detailFlash }) : null,
      (s.exemptions ?? []).length === 0
        ? h('p', { class: 'muted', text: state.profile?.spending_limit?.special_case_approval === true ? '未登记豁免。确属特殊病例、无法达到目录内费用占比的，经卫健、医保部门审批后在此登记。' : '本地区政策没有特殊病例审批豁免。' })
        : h('ul', { class: 'plain-list' }, s.exemptions.map((e) => h('li', {},
          `审批号 ${e.approval_no}，${e.approved_by}：${e.reason}`,
          h('span', { class: 'muted', text: `（${e.recorded_by ?? '—'} 登记于 ${when(e.created_at)}）` })))),
      s.state === 'open' && state.profile?.spending_limit?.special_case_approval === true ? exemptionForm(s.mdtrt_id) : null)

    const alerts = h('section', { class: 'detail-section wide' },
      h('h3', {}, '提醒记录'),
      (s.alerts ?? []).length === 0
        ? h('p', { class: 'muted', text: '没有提醒。' })
        : h('ul', { class: 'plain-list' }, s.alerts.map((a) => h('li', {},
          badge(`level-${a.level}`, LEVEL_LABEL[a.level] ?? a.level), ' ',
          h('span', { class: 'muted', text: `${when(a.created_at)} ` }),
          a.message, ' ',
          badge('state', a.state === 'acknowledged' && a.acknowledged_by ? `已确认（${a.acknowledged_by}）` : (STATE_LABEL[a.state] ?? a.state))))))

    body.append(h('div', { class: 'detail-grid' }, overview, h('div', { class: 'detail-stack' }, totals, gateBox), burdenSection(s), top, unmapped, exemptions, alerts))
    const flash = document.getElementById('exemption-flash')
    if (flash !== null) flash.focus()
  }

  function exemptionForm (mdtrtId) {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true })
    const field = (id, label, input, wide) => h('div', { class: wide ? 'field wide' : 'field' }, h('label', { for: id, text: label }), input)
    const approvalNo = h('input', { id: 'ex-approval-no', name: 'approval_no', type: 'text', required: true, maxlength: '64', autocomplete: 'off' })
    const approvedBy = h('input', { id: 'ex-approved-by', name: 'approved_by', type: 'text', required: true, maxlength: '100', list: 'ex-approvers', autocomplete: 'off', placeholder: '如 县卫健局 / 县医保局' })
    const reason = h('textarea', { id: 'ex-reason', name: 'reason', required: true, maxlength: '500', rows: '2' })
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, '提交')
    const form = h('form', { class: 'exemption-form', id: 'exemption-form', novalidate: true, 'aria-label': '登记特殊病例豁免' },
      field('ex-approval-no', '审批号', approvalNo),
      field('ex-approved-by', '审批单位', approvedBy),
      h('datalist', { id: 'ex-approvers' }, h('option', { value: '县卫生健康局' }), h('option', { value: '县医疗保障局' })),
      field('ex-reason', '理由', reason, true),
      h('div', { class: 'actions' }, submit, error))
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const body = { approval_no: approvalNo.value.trim(), approved_by: approvedBy.value.trim(), reason: reason.value.trim() }
      const missing = [[body.approval_no, approvalNo, '审批号'], [body.approved_by, approvedBy, '审批单位'], [body.reason, reason, '理由']].find(([v]) => v === '')
      if (missing !== undefined) {
        error.textContent = `请填写${missing[2]}`
        error.hidden = false
        missing[1].focus()
        return
      }
      submit.disabled = true
      try {
        const result = await api('POST', `/stays/${encodeURIComponent(mdtrtId)}/exemptions`, body)
        state.detailFlash = `${result?.created === false ? '该审批已登记过' : '已登记豁免'}，当前状态：${STATUS_LABEL[result?.status] ?? result?.status ?? ''}`
        await loadDetail()
        void loadInpatients()
        void loadOverview()
        void loadAlerts()
      } catch (err) {
        if (err.handled === true) return
        error.textContent = err.message
        error.hidden = false
        submit.disabled = false
      }
    })
    return form
  }

  // ---------------------------------------------------------------- alerts

  async function loadAlerts (background = false) {
    const gen = state.gen
    try {
      const data = await api('GET', `/alerts?state=${state.showAllAlerts ? 'all' : 'open'}`, undefined, { background })
      if (gen !== state.gen) return
      state.alerts = data?.alerts ?? []
      renderAlerts()
    } catch (err) {
      showError(err)
    }
  }

  function onAlertEvent (alert) {
    if (state.me === null || alert == null || alert.id === undefined) return
    const i = state.alerts.findIndex((a) => a.id === alert.id)
    if (i >= 0) state.alerts[i] = alert
    else state.alerts.unshift(alert)
    state.newAlerts.set(alert.id, Date.now())
    setTimeout(() => {
      if (state.newAlerts.delete(alert.id)) renderAlerts()
    }, NEW_HIGHLIGHT_MS)
    renderAlerts()
    if (state.detailId !== null && alert.mdtrt_id === state.detailId) offerDetailRefresh()
    scheduleRefresh()
  }

  /** The list and header change with each alert; a burst of alerts reloads them once. */
  function scheduleRefresh () {
    if (state.refreshTimer !== null) return
    state.refreshTimer = setTimeout(() => {
      state.refreshTimer = null
      void loadInpatients(true)
      void loadOverview(true)
    }, 250)
  }

  /** New figures for the stay on screen: offered, not forced on someone typing in the form. */
  function offerDetailRefresh () {
    const body = $('detail-body')
    if (body.querySelector('[data-role="detail-stale"]') !== null) return
    const form = document.getElementById('exemption-form')
    const typing = form !== null && [...form.querySelectorAll('input, textarea')].some((el) => el.value !== '')
    if (!typing && !body.contains(document.activeElement)) { void loadDetail(); return }
    body.prepend(h('p', { class: 'notice', dataset: { role: 'detail-stale' } },
      h('span', { text: '该患者有新的提醒，费用数据已变化。' }),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => { void loadDetail() } }, '刷新详情')))
  }

  function renderAlerts () {
    const list = $('alert-list')
    const shown = state.alerts
    keepFocus(list, () => {
      clear(list)
      for (const a of shown) list.append(alertItem(a))
    })
    $('alerts-empty').hidden = shown.length > 0
    $('alerts-empty').textContent = state.showAllAlerts ? '没有提醒。' : '没有待处理的提醒。'
    const open = shown.filter((a) => a.state === 'open').length
    $('alerts-summary').textContent = `待处理 ${open} 条`
  }

  function alertItem (a) {
    const isNew = state.newAlerts.has(a.id) && a.state === 'open'
    const actions = h('div', { class: 'alert-actions' })
    if (a.state === 'open') {
      actions.append(h('button', {
        type: 'button',
        class: 'btn btn-small',
        'aria-label': `确认提醒：${a.message}`,
        dataset: { action: 'ack', focusKey: `ack-${a.id}` },
        onclick: (event) => { void acknowledge(a.id, event.currentTarget) }
      }, '确认'))
    } else if (a.state === 'acknowledged') {
      actions.append(h('span', {
        class: 'acked',
        tabindex: '-1',
        dataset: { role: 'acked', focusKey: `acked-${a.id}` },
        text: `已确认${a.acknowledged_by ? `（${a.acknowledged_by}${a.acknowledged_at ? '，' + when(a.acknowledged_at) : ''}）` : ''}`
      }))
    } else {
      actions.append(h('span', { class: 'muted', text: `${STATE_LABEL[a.state] ?? a.state}${a.resolved_at ? '（' + when(a.resolved_at) + '）' : ''}` }))
    }
    if (a.mdtrt_id) {
      actions.append(h('button', {
        type: 'button',
        class: 'btn-link',
        dataset: { action: 'open-detail', mdtrtId: a.mdtrt_id, focusKey: `alert-open-${a.id}` },
        onclick: (event) => { void openDetail(a.mdtrt_id, event.currentTarget) }
      }, `住院号 ${a.mdtrt_id}`))
    }
    return h('li', {
      class: isNew ? 'alert-item is-new' : 'alert-item',
      dataset: { alertId: a.id, kind: a.kind, level: a.level, state: a.state, mdtrtId: a.mdtrt_id, new: isNew ? 'true' : undefined }
    },
    h('div', { class: 'alert-meta' },
      badge(`level-${a.level}`, LEVEL_LABEL[a.level] ?? a.level),
      h('span', { text: KIND_LABEL[a.kind] ?? a.kind }),
      h('time', { datetime: a.created_at, text: when(a.created_at) }),
      isNew ? h('span', { class: 'new-flag', text: '新' }) : null),
    h('p', { class: 'alert-message', text: a.message }),
    actions)
  }

  async function acknowledge (id, button) {
    if (button) button.disabled = true
    try {
      const alert = await api('POST', `/alerts/${encodeURIComponent(id)}/ack`, {})
      state.newAlerts.delete(id)
      const i = state.alerts.findIndex((a) => a.id === id)
      if (i >= 0) state.alerts[i] = alert
      // The acknowledged alert stays in view, marked, until the list is next loaded.
      const list = $('alert-list')
      const hadFocus = button !== undefined && button === document.activeElement
      renderAlerts()
      if (hadFocus) {
        const acked = [...list.querySelectorAll('[data-role="acked"]')].find((el) => el.getAttribute('data-focus-key') === `acked-${id}`)
        if (acked !== undefined) acked.focus()
      }
      if (state.detailId !== null && alert?.mdtrt_id === state.detailId) offerDetailRefresh()
    } catch (err) {
      if (button) button.disabled = false
      showError(err)
    }
  }

  // ---------------------------------------------------------------- live updates

  function setLive (value, text) {
    const el = $('live-state')
    el.dataset.state = value
    el.textContent = text
  }

  function startLive () {
    stopLive()
    const gen = state.gen
    let events
    try {
      events = new EventSource(API + '/events', { withCredentials: true })
    } catch {
      setLive('closed', '实时连接不可用')
      return
    }
    state.events = events
    setLive('connecting', '连接中')
    events.addEventListener('open', () => {
      if (gen !== state.gen) return
      setLive('open', '实时')
      if (state.eventsBroken) {
        // Alerts raised while the connection was down were not pushed: load them.
        state.eventsBroken = false
        void loadAlerts(true)
        scheduleRefresh()
      }
    })
    events.addEventListener('alert', (event) => {
      if (gen !== state.gen) return
      let alert
      try { alert = JSON.parse(event.data) } catch { return }
      onAlertEvent(alert)
    })
    events.addEventListener('error', () => {
      if (gen !== state.gen) return
      state.eventsBroken = true
      if (events.readyState === EventSource.CLOSED) {
        // Refused outright (the session may be gone): ask who we are, then try again later.
        setLive('closed', '已断开')
        state.events = null
        void api('GET', '/me', undefined, { background: true }).then(() => {
          if (gen !== state.gen) return
          state.eventsRetry = setTimeout(() => { if (gen === state.gen) startLive() }, 5000)
        }, () => {})
      } else {
        setLive('connecting', '重新连接中')
      }
    })
    state.poll = setInterval(() => {
      if (document.visibilityState === 'hidden') return
      void loadInpatients(true)
      void loadOverview(true)
    }, POLL_MS)
  }

  function stopLive () {
    if (state.events !== null) state.events.close()
    state.events = null
    if (state.eventsRetry !== null) clearTimeout(state.eventsRetry)
    state.eventsRetry = null
    if (state.poll !== null) clearInterval(state.poll)
    state.poll = null
    if (state.refreshTimer !== null) clearTimeout(state.refreshTimer)
    state.refreshTimer = null
    state.eventsBroken = false
    setLive('connecting', '未连接')
  }

  // ---------------------------------------------------------------- admin

  async function loadTokens () {
    const gen = state.gen
    try {
      const data = await api('GET', '/tokens')
      if (gen !== state.gen) return
      const tbody = $('token-rows')
      keepFocus(tbody, () => {
        clear(tbody)
        for (const tk of data?.tokens ?? []) {
          const revoked = tk.revoked_at !== null && tk.revoked_at !== undefined
          tbody.append(h('tr', { class: revoked ? 'revoked' : undefined, dataset: { tokenId: tk.id } },
            h('td', { text: tk.name }),
            h('td', { text: tk.role }),
            h('td', { class: 'nowrap', text: when(tk.created_at) }),
            h('td', { class: 'nowrap', text: tk.last_used_at ? when(tk.last_used_at) : '从未使用' }),
            h('td', { class: 'nowrap', text: revoked ? `已撤销 ${when(tk.revoked_at)}` : '有效' }),
            h('td', {}, revoked
              ? null
              : h('button', {
                type: 'button',
                class: 'btn btn-small btn-danger',
                'aria-label': `撤销令牌 ${tk.name}`,
                dataset: { action: 'revoke', focusKey: `revoke-${tk.id}` },
                onclick: () => { void revokeToken(tk) }
              }, '撤销'))))
        }
      })
    } catch (err) {
      showError(err)
    }
  }

  async function revokeToken (tk) {
    if (!window.confirm(`撤销令牌“${tk.name}”？撤销后使用该令牌的系统将无法再调用防贫接口。`)) return
    try {
      await api('POST', `/tokens/${encodeURIComponent(tk.id)}/revoke`, {})
      notice(`已撤销令牌 ${tk.name}`)
      await loadTokens()
      $('token-name').focus()
    } catch (err) {
      showError(err)
    }
  }

  async function onCreateToken (event) {
    event.preventDefault()
    const error = $('token-error')
    const name = $('token-name').value.trim()
    const role = $('token-role').value
    if (name === '') {
      error.textContent = '请填写令牌名称'
      error.hidden = false
      $('token-name').focus()
      return
    }
    error.hidden = true
    try {
      const created = await api('POST', '/tokens', { name, role })
      $('token-name').value = ''
      $('new-token').hidden = false
      const value = $('new-token-value')
      value.value = created.token
      $('copy-hint').textContent = '可按 Ctrl+C 复制选中的令牌。'
      value.focus()
      value.select()
      void loadTokens()
    } catch (err) {
      if (err.handled === true) return
      error.textContent = err.message
      error.hidden = false
    }
  }

  async function onCopyToken () {
    const value = $('new-token-value')
    const hint = $('copy-hint')
    try {
      if (navigator.clipboard === undefined) throw new Error('no clipboard')
      await navigator.clipboard.writeText(value.value)
      hint.textContent = '已复制到剪贴板。'
    } catch {
      value.focus()
      value.select()
      let ok = false
      try { ok = document.execCommand('copy') } catch { ok = false }
      hint.textContent = ok ? '已复制到剪贴板。' : '令牌已选中，请按 Ctrl+C 复制。'
    }
  }

  async function loadUsers () {
    const gen = state.gen
    try {
      const data = await api('GET', '/users')
      if (gen !== state.gen) return
      const tbody = $('user-rows')
      keepFocus(tbody, () => {
        clear(tbody)
        for (const u of data?.users ?? []) {
          // A lock is on the account from one address (too many wrong passwords there), for a quarter hour.
          const locks = u.locks ?? []
          const status = u.disabled_at
            ? `已停用 ${when(u.disabled_at)}`
            : locks.length > 0
              ? `已锁定（${locks.map((l) => `${l.address} 至 ${when(l.until).slice(11)}`).join('；')}）`
              : '正常'
          tbody.append(h('tr', { dataset: { userName: u.name, locked: locks.length > 0 ? 'true' : undefined } },
            h('td', { text: u.name }),
            h('td', { text: ROLE_LABEL[u.role] ?? u.role }),
            h('td', { class: 'nowrap', text: when(u.created_at) }),
            h('td', { class: 'nowrap', text: u.last_login_at ? when(u.last_login_at) : '从未登录' }),
            h('td', {}, status, locks.length > 0
              ? [' ', h('button', {
                  type: 'button',
                  class: 'btn btn-small',
                  'aria-label': `解锁 ${u.name}`,
                  dataset: { action: 'unlock', focusKey: `unlock-${u.name}` },
                  onclick: () => { void unlockUser(u) }
                }, '解锁')]
              : null)))
        }
      })
    } catch (err) {
      showError(err)
    }
  }

  async function unlockUser (u) {
    if (!window.confirm(`解锁账号“${u.name}”？请先确认登录失败的确是本人输错密码。`)) return
    try {
      const result = await api('POST', `/users/${encodeURIComponent(u.name)}/unlock`, {})
      notice(`已解锁账号 ${result?.name ?? u.name}`)
      await loadUsers()
      $('user-new-name').focus()
    } catch (err) {
      showError(err)
    }
  }

  async function onCreateUser (event) {
    event.preventDefault()
    const error = $('user-error')
    const name = $('user-new-name').value.trim()
    const role = $('user-new-role').value
    const password = $('user-new-password').value
    if (name === '' || Array.from(password).length < 8) {
      error.textContent = name === '' ? '请填写姓名' : '密码至少 8 个字符'
      error.hidden = false
      ;(name === '' ? $('user-new-name') : $('user-new-password')).focus()
      return
    }
    error.hidden = true
    try {
      const created = await api('POST', '/users', { name, role, password })
      $('user-new-name').value = ''
      $('user-new-password').value = ''
      notice(`已添加账号 ${created?.name ?? name}（${ROLE_LABEL[created?.role ?? role] ?? role}）`)
      void loadUsers()
      $('user-new-name').focus()
    } catch (err) {
      if (err.handled === true) return
      error.textContent = err.message
      error.hidden = false
    }
  }

  async function onSync () {
    const button = $('sync-button')
    const out = $('sync-result')
    button.disabled = true
    out.textContent = '正在同步…'
    try {
      const result = await api('POST', '/sync', {})
      out.textContent = [result?.result, result?.message].filter((x) => x !== undefined && x !== null && x !== '').join('：') || '已完成'
      void loadOverview()
      void loadInpatients()
    } catch (err) {
      if (err.handled !== true) out.textContent = err.message
    } finally {
      button.disabled = false
    }
  }

  // ---------------------------------------------------------------- 目录查询

  const CATALOG_LEVEL = { '01': '甲类', '02': '乙类', '03': '丙类' }

  function levelBadge (lv) {
    return h('span', { class: `badge level-${lv ?? 'none'}`, text: lv === null || lv === undefined ? '未定等级' : (CATALOG_LEVEL[lv] ?? lv) })
  }

  async function loadCatalog () {
    const gen = state.gen
    try {
      const [status, drift] = await Promise.all([api('GET', '/catalog/status'), api('GET', '/catalog/drift')])
      if (gen !== state.gen) return
      $('catalog-info').textContent = status.loaded
        ? `目录版本 ${status.version ?? '—'}，${status.codes} 个编码，${when(status.loaded_at)} 更新；区划 ${status.insu_admdvs}`
        : '尚未导入医保目录：HIS 上传费用须带收费项目等级'
      renderDrift(drift)
    } catch (err) {
      showError(err)
    }
  }

  function renderDrift (drift) {
    const rows = $('drift-rows')
    clear(rows)
    $('drift-box').hidden = drift.count === 0
    $('drift-summary').textContent = `收费项目等级与医保目录不一致的项目（${drift.count}）`
    for (const d of drift.items) {
      rows.append(h('tr', { dataset: { code: d.code } },
        h('td', { class: 'id', text: d.code }),
        h('td', { text: d.name ?? '—' }),
        h('td', {}, levelBadge(d.his_lv)),
        h('td', {}, levelBadge(d.catalog_lv)),
        h('td', { class: 'num', text: d.lines }),
        h('td', { class: 'nowrap', text: when(d.first_seen) }),
        h('td', { class: 'nowrap', text: when(d.last_seen) })))
    }
  }

  function catalogRow (i) {
    const tags = []
    if (i.vbp) tags.push(badge('tag-vbp', '集采中选'))
    if (i.nego) tags.push(badge('tag-nego', '国家谈判'))
    if (i.bas) tags.push(badge('tag-bas', '基本药物'))
    if (i.lmt_used) tags.push(badge('tag-lmt', '限制使用'))
    return h('tr', { dataset: { code: i.med_list_codg, level: i.chrgitm_lv ?? 'none', current: i.current } },
      h('td', { class: 'id', text: i.med_list_codg }),
      h('td', { text: i.name ?? '—' }),
      h('td', { text: i.drug_genname ?? '—' }),
      h('td', { text: i.dosform ?? '—' }),
      h('td', { text: i.spec ?? '—' }),
      h('td', {}, levelBadge(i.chrgitm_lv), i.current ? null : h('span', { class: 'muted small', text: '（当前无效）' })),
      h('td', { class: 'num', text: i.price_cap_amt === null ? '—' : money(i.price_cap_amt) }),
      h('td', {}, tags.length === 0 ? '—' : tags),
      h('td', { text: i.insu_admdvs ?? '全国' }))
  }

  async function onCatalogSearch (event) {
    event.preventDefault()
    const q = $('catalog-q').value.trim()
    const summary = $('catalog-summary')
    if (q === '') {
      summary.textContent = '请输入医保目录编码、名称或通用名'
      $('catalog-q').focus()
      return
    }
    const gen = state.gen
    summary.textContent = '正在查询…'
    try {
      const found = await api('GET', `/catalog/search?q=${encodeURIComponent(q)}&limit=50`)
      let items = found.items
      // A hospital code is found through the mapping, not by the search.
      if (items.length === 0 && found.catalog.loaded) {
        try {
          const one = await api('GET', `/catalog/items/${encodeURIComponent(q)}`)
          items = [one.item]
        } catch (err) {
          if (err.status !== 404) throw err
        }
      }
      if (gen !== state.gen) return
      const rows = $('catalog-rows')
      clear(rows)
      for (const i of items) rows.append(catalogRow(i))
      $('catalog-table').hidden = items.length === 0
      summary.textContent = !found.catalog.loaded ? '尚未导入医保目录' : items.length === 0 ? `未找到“${q}”` : `找到 ${items.length} 项`
    } catch (err) {
      summary.textContent = ''
      showError(err)
    }
  }

  // ---------------------------------------------------------------- start

  function init () {
    $('login-form').addEventListener('submit', onSignIn)
    $('logout-button').addEventListener('click', () => { void onSignOut() })
    $('notice-close').addEventListener('click', () => { $('notice').hidden = true })
    $('filters').addEventListener('submit', (event) => { event.preventDefault(); renderInpatients() })
    $('filter-status').addEventListener('change', () => { renderInpatients(); renderCounts(state.overview?.counts) })
    $('filter-dept').addEventListener('change', renderInpatients)
    $('filter-q').addEventListener('input', renderInpatients)
    $('refresh-button').addEventListener('click', () => { void loadInpatients(); void loadOverview(); void loadAlerts() })
    $('alerts-show-all').addEventListener('change', (event) => {
      state.showAllAlerts = event.currentTarget.checked
      void loadAlerts()
    })
    const dialog = $('detail-dialog')
    $('detail-close').addEventListener('click', () => dialog.close())
    dialog.addEventListener('close', onDetailClosed)
    // A click on the backdrop (outside the dialog box) closes it too.
    dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close() })
    $('token-form').addEventListener('submit', onCreateToken)
    $('copy-token').addEventListener('click', () => { void onCopyToken() })
    $('hide-token').addEventListener('click', () => {
      $('new-token-value').value = ''
      $('new-token').hidden = true
      $('token-name').focus()
    })
    $('user-form').addEventListener('submit', onCreateUser)
    $('burden-month').value = lastMonth()
    $('burden-form').addEventListener('submit', (event) => { event.preventDefault(); void loadBurden() })
    $('burden-month').addEventListener('change', () => { void loadBurden() })
    // Loaded when opened: the list names patients, and its producing is audited.
    $('burden-section').addEventListener('toggle', () => { if ($('burden-section').open && state.me !== null) void loadBurden() })
    $('catalog-form').addEventListener('submit', (event) => { void onCatalogSearch(event) })
    $('sync-button').addEventListener('click', () => { void onSync() })
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.me !== null) {
        void loadInpatients(true)
        void loadOverview(true)
      }
    })
    const q = new URLSearchParams(location.search).get('q')
    if (q !== null) $('filter-q').value = q
    void checkSession()
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
