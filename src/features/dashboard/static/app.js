// The officials' dashboard: plain script, no build step. Logs in through /api/v1/auth/login, keeps
// the token in sessionStorage, reads compact JSON and draws with the bundled ECharts (SVG renderer).
/* global echarts */
(function () {
  'use strict';
  var T = {
    zh: {
      title: '农药包装废弃物回收监管看板', logout: '退出', login: '官员登录', username: '用户名', password: '密码', loginButton: '登录',
      from: '起始月', to: '截止月', cohortDays: '批次天数', apply: '查询', provinceCompare: '各县比较', trend: '月度回收趋势', funnel: '回收链条（同一期间）',
      shops: '店铺', exportCsv: '导出 CSV', products: '产品排名', manufacturers: '生产企业排名', exceptions: '所选期间的对账异常', back: '返回',
      provinceMap: '各县回收率地图（点击县查看）', provinceBars: '各县回收率', backProvince: '← 返回全省', prefectureMap: '所在市（州）地图', groupBy: '分组', groupNone: '不分组', groupKind: '按类型', groupShop: '按店铺',
      prevPage: '上一页', nextPage: '下一页', periodShown: '期间：{from} 至 {to}', periodOne: '期间：{from}',
      noRunFor: '{period} 尚未对账。', runNow: '现在对账', runAgain: '重新对账', running: '正在对账…', runHead: '{period} 对账 · 截至 {asOf}', recordsSince: '此后又有本月单据上传，结果可能已过时。',
      pageOf: '第 {a}–{b} 条，共 {n} 条', pageOfShort: '{shown} of {n}', allShops: '全县（不属于某店铺）', countyWide: '全县',
      positionHelp: '头寸＝店铺收取的押金 − 已付给农户的退款和有偿回收款 − 已结算给计划的款项，即店铺欠计划的钱。正数：店铺应向计划缴款；负数：店铺垫付的退款多于收取的押金，计划应补给店铺这么多。',
      positionNegative: '负数：计划应补给店铺 {x} 元（退款多于收取的押金）', positionPositive: '店铺应向计划缴 {x} 元', positionShort: '店铺欠计划的钱（负数＝计划欠店铺）',
      funnelNote: '同一期间（{from} 至 {to}）内各环节的数量。本期回收、收运、处置的可能是以前售出或回收的包装，所以某一环节可以多于上一环节（标 ↑）。重量按包装皮重计算。',
      exceeds: '↑ 多于上一环节：含以前的包装', containersU: '个', bagsU: '袋', kgU: '千克', tz: '{zone}，UTC{offset}', returnsWindow: '{from} 至 {to}（不晚于今天）', mapNone: '地图无边界数据的县：{list}', code: '代码',
      sessionExpired: '登录已过期，请重新登录。', reasonCol: '原因', detailCol: '说明', shopCol: '店铺',
      recentReturns: '最近回收（农户已脱敏）', loading: '加载中…', loaded: '已更新', loginFailed: '登录失败：', noRun: '尚无对账记录。', noExceptions: '无异常。',
      cohortRate: '批次回收率', periodRate: '同期回收率', massRate: '重量回收率', outstanding: '未退押金', awaitingPickup: '待收运包装', openDiscrepancies: '未结差异',
      sold: '收押销售', returned: '回收', hauled: '已收运', disposed: '已处置', shop: '店铺', township: '乡镇', position: '头寸（元）', outstandingYuan: '未退押金（元）', atShop: '店内包装', flags: '标记',
      name: '名称', county: '县', returns_above_sales: '回收多于销售', overdue_pickup: '逾期未收运', likely_counterfeit: '疑似假码', refunds_held: '退款待审核', yuan: '元', units: '个', run: '对账', time: '时间', returner: '交回人',
      refund: '退押金（元）', buybackYuan: '有偿回收（元）', accepted: '接收数', pct: '%', chooseCounty: '点击县名查看详情', forbidden: '无权查看该数据', severity: '级别', error: '错误', warning: '警告', info: '提示',
      monthlyReport: '月度报告',
      signinSecurity: '登录安全', signinNone: '目前没有被锁定或需要等待的用户。', signinNote: '近 {m} 分钟内多次登录失败的本县用户。锁定的账户到时自动解锁，也可以现在解锁。',
      signinUser: '用户', signinFailures: '失败次数', signinLast: '最近失败', signinState: '状态', lockedUntil: '已锁定，至 {t}', delayedUntil: '需等待，至 {t}',
      unlock: '解锁', unlocked: '已解锁：{u}', signinAddresses: '需等待的客户端地址：{list}',
      incentives: '回收激励：成本与效果', incentiveByTownship: '各乡镇激励成本（元）', incentivePerYuan: '每元回收包装数',
      fundLeft: '激励资金余额', fundAllocatedYear: '{y} 年拨入激励资金', fundPaidYear: '{y} 年有偿回收支出', containersRecovered: '回收包装（本期）',
      depositRefunds: '押金退还', buyback: '有偿回收', pointsGoods: '积分兑换商品', pointsIssued: '发放积分', pointsRedeemed: '兑换积分',
      depositContainers: '押金包装', buybackContainers: '有偿回收包装', pointsContainers: '积分包装', perYuanDeposit: '押金：个/元', perYuanBuyback: '有偿：个/元', perYuanPoints: '积分：个/元', perYuanIncentives: '激励合计：个/元',
      budgetLeft: '剩余额度（元）', perYuanShort: '个/元',
      incentiveHelp: '押金退还是农户自己交的押金，不是财政支出；有偿回收从县激励资金中支付；积分的成本按店铺兑换给农户的商品价值计算。每元回收包装数＝该激励下回收的包装数 ÷ 该激励的支出（元）。店铺的剩余额度＝每店每年有偿回收上限 − 本年已付。',
    },
    en: {
      title: 'Pesticide packaging recovery dashboard', logout: 'Log out', login: 'Official login', username: 'Username', password: 'Password', loginButton: 'Log in',
      from: 'From month', to: 'To month', cohortDays: 'Cohort days', apply: 'Apply', provinceCompare: 'Counties compared', trend: 'Recovery by month', funnel: 'Custody chain (one period)',
      shops: 'Shops', exportCsv: 'Export CSV', products: 'Products', manufacturers: 'Manufacturers', exceptions: 'Reconciliation exceptions of the period', back: 'Back',
      provinceMap: 'Recovery by county (click a county to open it)', provinceBars: 'Rates by county', backProvince: '← Back to the province', prefectureMap: 'Map of the prefecture', groupBy: 'Group', groupNone: 'No grouping', groupKind: 'By kind', groupShop: 'By shop',
      prevPage: 'Previous', nextPage: 'Next', periodShown: 'Period: {from} to {to}', periodOne: 'Period: {from}',
      noRunFor: 'No reconciliation for {period} yet.', runNow: 'Run it now', runAgain: 'Run again', running: 'Reconciling…', runHead: 'Reconciliation {period} · as of {asOf}', recordsSince: 'Records of this month arrived after this run: its results may be out of date.',
      pageOf: '{a}–{b} of {n}', pageOfShort: '{shown} of {n}', allShops: 'County-wide (no shop)', countyWide: 'County-wide',
      positionHelp: 'Position = deposits the shop collected − refunds and buy-back it paid to farmers − what it has settled with the scheme: what the shop owes the scheme. Positive: the shop should pay the scheme. Negative: the shop paid out more refunds than it collected, so the scheme owes the shop that much.',
      positionNegative: 'negative: the scheme owes the shop {x} yuan (more refunded than collected)', positionPositive: 'the shop owes the scheme {x} yuan', positionShort: 'What the shop owes the scheme (negative = the scheme owes the shop)',
      funnelNote: 'Each stage counted in the same period ({from} to {to}). Returns, hauls and disposals in a period may be of containers sold or returned earlier, so a stage can exceed the one before it (marked ↑). Kilograms from container tare weights.',
      exceeds: '↑ more than the stage before: includes earlier containers', containersU: 'containers', bagsU: 'bags', kgU: 'kg', tz: '{zone}, UTC{offset}', returnsWindow: '{from} to {to} (not after today)', mapNone: 'Counties without a boundary on the map: {list}', code: 'code',
      sessionExpired: 'Your session expired, please sign in again.', reasonCol: 'Reason', detailCol: 'Detail', shopCol: 'Shop',
      recentReturns: 'Recent returns (farmers masked)', loading: 'Loading…', loaded: 'Updated', loginFailed: 'Login failed: ', noRun: 'No reconciliation yet.', noExceptions: 'No exceptions.',
      cohortRate: 'Cohort recovery', periodRate: 'Period recovery', massRate: 'Recovery by mass', outstanding: 'Deposits outstanding', awaitingPickup: 'Containers awaiting pickup', openDiscrepancies: 'Open discrepancies',
      sold: 'Sold with deposit', returned: 'Returned', hauled: 'Hauled', disposed: 'Disposed', shop: 'Shop', township: 'Township', position: 'Position (yuan)', outstandingYuan: 'Deposits outstanding (yuan)', atShop: 'At shop', flags: 'Flags',
      name: 'Name', county: 'County', returns_above_sales: 'returns above sales', overdue_pickup: 'overdue pickup', likely_counterfeit: 'likely counterfeit codes', refunds_held: 'refunds held for review', yuan: 'yuan', units: '', run: 'Run', time: 'Time', returner: 'Returner',
      refund: 'Deposit refund (yuan)', buybackYuan: 'Buy-back (yuan)', accepted: 'Accepted', pct: '%', chooseCounty: 'Click a county for its dashboard', forbidden: 'You may not see this', severity: 'Severity', error: 'error', warning: 'warning', info: 'info',
      monthlyReport: 'Monthly report',
      signinSecurity: 'Sign-in security', signinNone: 'No user is locked or delayed now.', signinNote: 'Users of this county with repeated failed logins in the last {m} minutes. A locked account unlocks by itself in time, or unlock it now.',
      signinUser: 'User', signinFailures: 'Failures', signinLast: 'Last failure', signinState: 'State', lockedUntil: 'Locked until {t}', delayedUntil: 'Delayed until {t}',
      unlock: 'Unlock', unlocked: 'Unlocked: {u}', signinAddresses: 'Client addresses delayed now: {list}',
      incentives: 'Incentives: cost and effect', incentiveByTownship: 'Incentive cost by township (yuan)', incentivePerYuan: 'Containers recovered per yuan',
      fundLeft: 'Incentive fund left', fundAllocatedYear: 'Allocated for {y}', fundPaidYear: 'Buy-back paid in {y}', containersRecovered: 'Containers recovered (period)',
      depositRefunds: 'Deposit refunds', buyback: 'Buy-back', pointsGoods: 'Goods for points', pointsIssued: 'Points issued', pointsRedeemed: 'Points redeemed',
      depositContainers: 'Deposit containers', buybackContainers: 'Buy-back containers', pointsContainers: 'Points containers', perYuanDeposit: 'Deposit: per yuan', perYuanBuyback: 'Buy-back: per yuan', perYuanPoints: 'Points: per yuan', perYuanIncentives: 'Incentives: per yuan',
      budgetLeft: 'Budget left (yuan)', perYuanShort: 'per yuan',
      incentiveHelp: 'Deposit refunds are the farmers\' own deposits coming back, not public spending; buy-back is paid from the county incentive fund; points cost the value of the goods shops gave for them. Containers per yuan = containers recovered under the incentive ÷ what it cost (yuan). A shop\'s budget left = the yearly buy-back cap per shop − what it paid this year.',
    },
  };
  var state = { lang: localStorage.getItem('agrireturn.lang') || 'zh', token: sessionStorage.getItem('agrireturn.token'), user: JSON.parse(sessionStorage.getItem('agrireturn.user') || 'null'), countyId: null, county: null, shops: [], sort: { key: 'name', dir: 1 }, shopDetail: null, province: null, charts: {}, exceptions: null, signIn: null, countyMap: null, provinceMap: null, lastCounty: null, incentives: null };
  var $ = function (sel) { return document.querySelector(sel); };
  var t = function (k, vars) {
    var s = (T[state.lang] && T[state.lang][k]) || k;
    if (vars) Object.keys(vars).forEach(function (v) { s = s.split('{' + v + '}').join(vars[v]); });
    return s;
  };
  var WORDS = window.PLAIN_WORDS || { exceptions: {}, errors: {} };
  /** A plain sentence for an error code (the code itself in small print, for support calls). */
  function sentence(code) {
    var w = WORDS.errors[code] || WORDS.errors.INTERNAL;
    return w ? w[state.lang] : String(code);
  }
  function showProblem(code) {
    var el = $('#problem');
    el.innerHTML = esc(sentence(code)) + ' <span class="code">' + esc(code) + '</span>';
    el.hidden = false;
  }
  function clearProblem() { $('#problem').hidden = true; $('#problem').textContent = ''; }
  /** A stored instant in the county's time zone, the zone stated (never raw UTC). */
  function zoneLabel(tz, at) {
    var off = '';
    try {
      var part = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'shortOffset' }).formatToParts(new Date(at)).filter(function (p) { return p.type === 'timeZoneName'; })[0];
      off = part ? part.value.replace('GMT', '') : '';
    } catch (e) { off = ''; }
    return t('tz', { zone: tz, offset: off || '+0' });
  }
  function localTime(iso, tz) {
    var d = new Date(iso);
    var parts = {};
    new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + ' ' + parts.hour + ':' + parts.minute;
  }
  function timeWithZone(iso, tz) { return localTime(iso, tz) + (state.lang === 'zh' ? '（' + zoneLabel(tz, iso) + '）' : ' (' + zoneLabel(tz, iso) + ')'); }
  var esc = function (s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; }); };
  var pct = function (v) { return v == null ? '—' : v.toFixed(1) + '%'; };
  var yuan = function (fen) { var n = Math.abs(fen); return (fen < 0 ? '-' : '') + Math.floor(n / 100) + '.' + String(n % 100).padStart(2, '0'); };
  var num = function (n) { return Number(n).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-US'); };

  function applyLang() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title');
    document.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
    $('#lang-toggle').textContent = state.lang === 'zh' ? 'English' : '中文';
  }

  function api(path, opts) {
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    if (opts.body) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: opts.method || 'GET', headers: headers, body: opts.body ? JSON.stringify(opts.body) : undefined }).then(function (res) {
      if (res.status === 401) {
        // An expired or revoked login: back to the login page, saying why.
        return res.json().catch(function () { return {}; }).then(function (b) {
          var code = (b && b.error && b.error.code) || 'TOKEN_EXPIRED';
          logout(code === 'INVALID_CREDENTIALS' ? 'TOKEN_EXPIRED' : code);
          var e = new Error(code); e.code = code; e.handled = true; throw e;
        });
      }
      if (opts.raw) return res;
      return res.json().then(function (body) {
        if (!res.ok) { var e = new Error(body && body.error ? body.error.code : String(res.status)); e.code = (body && body.error && body.error.code) || 'INTERNAL'; throw e; }
        return body;
      });
    }, function () { var e = new Error('NETWORK'); e.code = 'NETWORK'; throw e; });
  }

  function failed(e) {
    document.body.setAttribute('data-loaded', 'error');
    status('');
    if (e && e.handled) return;
    if (!e || !e.code) console.error(e); // a fault of the page itself: for the browser's console
    showProblem((e && e.code) || 'INTERNAL');
  }

  /** Months checked before asking: a start after the end gets a plain sentence, not a request. */
  function rangeOk() {
    var f = $('#filters');
    if (f.from.value && f.to.value && f.from.value > f.to.value) { showProblem('INVALID_MONTH_RANGE'); document.body.setAttribute('data-loaded', 'error'); return false; }
    return true;
  }

  function periodText(r) { return r.from === r.to ? t('periodOne', { from: r.from }) : t('periodShown', { from: r.from, to: r.to }); }

  function fillPeriod(r) {
    var f = $('#filters');
    f.from.value = r.from; f.to.value = r.to; f.days.value = String(r.days);
  }

  function query() {
    var f = $('#filters');
    var p = new URLSearchParams();
    if (f.from.value) p.set('from', f.from.value);
    if (f.to.value) p.set('to', f.to.value);
    p.set('days', f.days.value);
    return p.toString();
  }

  function status(msg) { $('#status').textContent = msg; }

  function chart(id) {
    var el = document.getElementById(id);
    var c = echarts.getInstanceByDom(el);
    if (c) c.resize(); // the section may have been hidden when the window last changed size
    else c = echarts.init(el, null, { renderer: 'svg' });
    state.charts[id] = c;
    return c;
  }

  function renderTiles(s) {
    var d = s.definitions;
    var tiles = [
      ['cohortRate', pct(s.tiles.cohortRatePct), d[0]], ['periodRate', pct(s.tiles.periodRatePct), d[1]], ['massRate', pct(s.tiles.massRatePct), d[2]],
      ['outstanding', yuan(s.tiles.depositsOutstandingFen) + ' ' + t('yuan')], ['awaitingPickup', num(s.tiles.containersAwaitingPickup)], ['openDiscrepancies', num(s.tiles.openDiscrepancies)],
    ];
    $('#tiles').innerHTML = tiles.map(function (x) {
      var label = x[2] ? (state.lang === 'zh' ? x[2].label_zh : x[2].label_en) : t(x[0]);
      var title = x[2] ? (state.lang === 'zh' ? x[2].definition_zh : x[2].definition_en) : '';
      return '<div class="tile" data-key="' + x[0] + '" title="' + esc(title) + '"><div class="v">' + esc(x[1]) + '</div><div class="l">' + esc(label) + '</div></div>';
    }).join('');
    $('#definitions').innerHTML = d.map(function (x) { return '<b>' + esc(state.lang === 'zh' ? x.label_zh : x.label_en) + '</b>：' + esc(state.lang === 'zh' ? x.definition_zh : x.definition_en); }).join('<br>');
  }

  function renderTrend(id, trend) {
    chart(id).setOption({
      tooltip: { trigger: 'axis' }, legend: { top: 0, data: [t('sold'), t('returned'), t('periodRate'), t('cohortRate')] },
      grid: { left: 50, right: 50, bottom: 30, top: 50 },
      xAxis: { type: 'category', data: trend.map(function (p) { return p.month; }) },
      yAxis: [{ type: 'value', name: t('units') }, { type: 'value', name: '%', axisLabel: { formatter: '{value}%' } }],
      series: [
        { name: t('sold'), type: 'bar', data: trend.map(function (p) { return p.soldUnits; }) },
        { name: t('returned'), type: 'bar', data: trend.map(function (p) { return p.returnedUnits; }) },
        { name: t('periodRate'), type: 'line', yAxisIndex: 1, data: trend.map(function (p) { return p.periodRatePct; }) },
        { name: t('cohortRate'), type: 'line', yAxisIndex: 1, data: trend.map(function (p) { return p.cohortRatePct; }) },
      ],
    }, true);
  }

  function stageLabel(st) {
    var parts = [num(st.containers) + ' ' + t('containersU'), num(Math.round(st.kg * 10) / 10) + ' ' + t('kgU')];
    if (st.bags != null) parts.push(num(st.bags) + ' ' + t('bagsU'));
    return parts.join(' · ');
  }

  // One period, every stage with its units; horizontal bars, so the last stage is a bar like the others.
  function renderFunnel(f) {
    var stages = f.stages.slice();
    chart('funnel-chart').setOption({
      title: { text: periodText(f), left: 'center', top: 0, textStyle: { fontSize: 12, fontWeight: 'normal', color: '#555' } },
      tooltip: { trigger: 'item', formatter: function (p) { var st = stages[p.dataIndex]; return esc(t(st.key)) + '<br>' + esc(stageLabel(st)) + (st.exceedsPrevious ? '<br>' + esc(t('exceeds')) : ''); } },
      grid: { left: 10, right: 30, top: 30, bottom: 20, containLabel: true },
      xAxis: { type: 'value', axisLabel: { hideOverlap: true } }, // bars in containers; every label carries its units
      yAxis: { type: 'category', inverse: true, data: stages.map(function (st) { return t(st.key) + (st.exceedsPrevious ? ' ↑' : ''); }) },
      series: [{ type: 'bar', barWidth: '55%', itemStyle: { color: '#4b8b57' },
        label: { show: true, position: 'insideLeft', color: '#111', formatter: function (p) { return stageLabel(stages[p.dataIndex]); } },
        data: stages.map(function (st) { return { value: st.containers, itemStyle: st.exceedsPrevious ? { color: '#c98a2b' } : undefined }; }) }],
    }, true);
    var note = t('funnelNote', { from: f.from, to: f.to });
    if (stages.some(function (st) { return st.exceedsPrevious; })) note += ' ' + t('exceeds');
    $('#funnel-note').textContent = note;
  }

  var SHOP_COLS = [
    ['name', 'shop'], ['township', 'township'], ['soldUnits', 'sold', 'n'], ['returnedUnits', 'returned', 'n'], ['periodRatePct', 'periodRate', 'pct'],
    ['cohortRatePct', 'cohortRate', 'pct'], ['massRatePct', 'massRate', 'pct'], ['positionFen', 'position', 'fen'], ['containersAtShop', 'atShop', 'n'], ['flags', 'flags'],
  ];

  function renderShops() {
    var th = SHOP_COLS.map(function (c) {
      var cls = state.sort.key === c[0] ? (state.sort.dir > 0 ? 'asc' : 'desc') : '';
      var label = c[0] === 'positionFen' ? '<abbr title="' + esc(t('positionHelp')) + '">' + esc(t(c[1])) + '</abbr>' : esc(t(c[1]));
      return '<th data-key="' + c[0] + '" class="' + cls + '">' + label + '</th>';
    }).join('');
    $('#shops thead').innerHTML = '<tr>' + th + '</tr>';
    var k = state.sort.key, dir = state.sort.dir;
    var rows = state.shops.slice().sort(function (a, b) {
      var x = a[k], y = b[k];
      if (k === 'flags') { x = x.length; y = y.length; }
      if (x == null) return 1; if (y == null) return -1;
      return (typeof x === 'string' ? x.localeCompare(y, 'zh') : x - y) * dir;
    });
    $('#shops tbody').innerHTML = rows.map(function (s) {
      return '<tr data-shop="' + s.key + '">' + SHOP_COLS.map(function (c) {
        var v = s[c[0]];
        if (c[0] === 'name') return '<td><a class="shop-link" data-shop="' + s.key + '">' + esc(v) + '</a></td>';
        if (c[0] === 'flags') return '<td>' + v.map(function (f) { return '<span class="flag">' + esc(t(f)) + '</span>'; }).join('') + '</td>';
        if (c[2] === 'pct') return '<td class="n">' + pct(v) + '</td>';
        if (c[2] === 'fen') return '<td class="n" title="' + esc(v < 0 ? t('positionNegative', { x: yuan(-v) }) : t('positionPositive', { x: yuan(v) })) + '">' + yuan(v) + '</td>';
        if (c[2] === 'n') return '<td class="n">' + num(v) + '</td>';
        return '<td>' + esc(v) + '</td>';
      }).join('') + '</tr>';
    }).join('');
  }

  // Incentives (docs/incentives.md): the fund and the period's costs per incentive, by township and shop.
  var pts = function (milli) { return (Number(milli) / 1000).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 3 }); };
  var perY = function (v) { return v == null ? '—' : v.toFixed(2); };
  var INCENTIVE_COLS = [
    ['name', 'shop'], ['township', 'township'], ['containersRecovered', 'containersRecovered', 'n'], ['depositRefundsFen', 'depositRefunds', 'fen'], ['buybackFen', 'buyback', 'fen'],
    ['pointsIssuedMilli', 'pointsIssued', 'pts'], ['pointsRedeemedMilli', 'pointsRedeemed', 'pts'], ['pointsRedeemedGoodsFen', 'pointsGoods', 'fen'],
    ['perYuanBuyback', 'perYuanBuyback', 'y'], ['perYuanPoints', 'perYuanPoints', 'y'], ['budgetLeftFen', 'budgetLeft', 'fen'],
  ];
  function renderIncentives() {
    var x = state.incentives;
    if (!x) return;
    var c = x.county.rows[0], f = x.county.fund;
    var tiles = [
      ['fundLeft', yuan(f.balanceFen) + ' ' + t('yuan')], ['fundAllocatedYear', yuan(f.allocatedThisYearFen) + ' ' + t('yuan'), { y: f.year }], ['fundPaidYear', yuan(f.paidThisYearFen) + ' ' + t('yuan'), { y: f.year }],
      ['containersRecovered', num(c.containersRecovered)], ['perYuanBuyback', perY(c.containersPerYuan.buyback)], ['perYuanPoints', perY(c.containersPerYuan.points)], ['perYuanIncentives', perY(c.containersPerYuan.incentives)],
    ];
    $('#incentive-tiles').innerHTML = tiles.map(function (v) { return '<div class="tile" data-key="' + v[0] + '"><div class="v">' + esc(v[1]) + '</div><div class="l">' + esc(t(v[0], v[2])) + '</div></div>'; }).join('');
    $('#incentive-help').textContent = t('incentiveHelp');
    var tw = x.township.rows;
    var y = function (fen) { return Math.round(fen) / 100; };
    chart('incentive-chart').setOption({
      tooltip: { trigger: 'axis' }, legend: { top: 0, data: [t('depositRefunds'), t('buyback'), t('pointsGoods')] },
      grid: { left: 60, right: 20, bottom: 30, top: 40 },
      xAxis: { type: 'category', data: tw.map(function (r) { return r.name; }) }, yAxis: { type: 'value', name: t('yuan') },
      series: [
        { name: t('depositRefunds'), type: 'bar', stack: 'cost', data: tw.map(function (r) { return y(r.depositRefundsFen); }) },
        { name: t('buyback'), type: 'bar', stack: 'cost', data: tw.map(function (r) { return y(r.buybackFen); }) },
        { name: t('pointsGoods'), type: 'bar', stack: 'cost', data: tw.map(function (r) { return y(r.pointsRedeemedGoodsFen); }) },
      ],
    }, true);
    chart('incentive-yuan-chart').setOption({
      tooltip: { trigger: 'axis' }, legend: { top: 0, data: [t('perYuanDeposit'), t('perYuanBuyback'), t('perYuanPoints')] },
      grid: { left: 50, right: 20, bottom: 30, top: 40 },
      xAxis: { type: 'category', data: tw.map(function (r) { return r.name; }) }, yAxis: { type: 'value', name: t('perYuanShort') },
      series: [
        { name: t('perYuanDeposit'), type: 'bar', data: tw.map(function (r) { return r.containersPerYuan.deposit; }) },
        { name: t('perYuanBuyback'), type: 'bar', data: tw.map(function (r) { return r.containersPerYuan.buyback; }) },
        { name: t('perYuanPoints'), type: 'bar', data: tw.map(function (r) { return r.containersPerYuan.points; }) },
      ],
    }, true);
    $('#incentive-shops thead').innerHTML = '<tr>' + INCENTIVE_COLS.map(function (col) { return '<th>' + esc(t(col[1])) + '</th>'; }).join('') + '</tr>';
    $('#incentive-shops tbody').innerHTML = x.shop.rows.map(function (r) {
      return '<tr data-shop="' + esc(r.key) + '">' + INCENTIVE_COLS.map(function (col) {
        var v = col[0] === 'perYuanBuyback' ? r.containersPerYuan.buyback : col[0] === 'perYuanPoints' ? r.containersPerYuan.points : r[col[0]];
        if (col[2] === 'n') return '<td class="n">' + num(v) + '</td>';
        if (col[2] === 'fen') return '<td class="n">' + (v == null ? '—' : yuan(v)) + '</td>';
        if (col[2] === 'pts') return '<td class="n">' + pts(v) + '</td>';
        if (col[2] === 'y') return '<td class="n">' + perY(v) + '</td>';
        return '<td>' + esc(v) + '</td>';
      }).join('') + '</tr>';
    }).join('');
  }

  function loadIncentives(countyId) {
    var q = query();
    return Promise.all(['county', 'township', 'shop'].map(function (by) { return api('/api/v1/counties/' + countyId + '/dashboard/incentives?' + q + '&by=' + by); }))
      .then(function (r) { state.incentives = { county: r[0], township: r[1], shop: r[2] }; });
  }

  function rateTable(sel, rows) {
    $(sel + ' thead').innerHTML = '<tr><th>' + esc(t('name')) + '</th><th>' + esc(t('sold')) + '</th><th>' + esc(t('returned')) + '</th><th>' + esc(t('periodRate')) + '</th><th>' + esc(t('cohortRate')) + '</th><th>' + esc(t('massRate')) + '</th></tr>';
    $(sel + ' tbody').innerHTML = rows.map(function (r) {
      return '<tr><td>' + esc(r.name) + '</td><td class="n">' + num(r.soldUnits) + '</td><td class="n">' + num(r.returnedUnits) + '</td><td class="n">' + pct(r.periodRatePct) + '</td><td class="n">' + pct(r.cohortRatePct) + '</td><td class="n">' + pct(r.massRatePct) + '</td></tr>';
    }).join('');
  }

  // The reconciliation of the period shown: its head (times in the county's zone), an offer to run
  // one when there is none or it is out of date, and its exceptions paged and optionally grouped.
  function renderRunHead() {
    var s = state.county;
    if (!s) return;
    var rec = s.reconciliation, tz = s.county.timeZone;
    var run = rec.run;
    var html;
    if (!run) {
      html = '<p>' + esc(t('noRunFor', { period: rec.period })) + ' <button id="run-now" type="button">' + esc(t('runNow')) + '</button></p>';
    } else {
      html = '<p>' + esc(t('runHead', { period: run.period, asOf: timeWithZone(run.asOf, tz) })) + '</p>';
      if (run.recordsSince) html += '<p class="stale">' + esc(t('recordsSince')) + ' <button id="run-now" type="button">' + esc(t('runAgain')) + '</button></p>';
    }
    $('#run-head').innerHTML = html;
    $('#exceptions-tools').hidden = !run;
    if (!run) $('#exceptions').textContent = '';
  }

  function exceptionGroupLabel(e, groupBy) {
    if (groupBy === 'kind') { var w = WORDS.exceptions[e.kind]; return w ? w[state.lang] : e.kind; }
    return e.shopName || t('countyWide');
  }

  function renderExceptions() {
    var x = state.exceptions;
    if (!x) return;
    $('#group-by').value = x.groupBy;
    if (!x.total) { $('#exceptions').textContent = t('noExceptions'); $('#exceptions-count').textContent = ''; return; }
    var a = x.offset + 1, b = x.offset + x.items.length;
    $('#exceptions-count').textContent = t('pageOf', { a: a, b: b, n: x.total });
    $('#exceptions-count').setAttribute('data-shown', String(x.items.length));
    $('#exceptions-prev').disabled = x.offset === 0;
    $('#exceptions-next').disabled = b >= x.total;
    var counts = {};
    x.groups.forEach(function (g) { counts[g.key == null ? '' : g.key] = g.count; });
    var last = null, rows = [];
    x.items.forEach(function (e) {
      if (x.groupBy !== 'none') {
        var key = x.groupBy === 'kind' ? e.kind : (e.shopId || '');
        if (key !== last) {
          rows.push('<tr class="group-row"><td colspan="3">' + esc(exceptionGroupLabel(e, x.groupBy)) + ' · ' + num(counts[key] || 0) + '</td></tr>');
          last = key;
        }
      }
      rows.push('<tr data-kind="' + esc(e.kind) + '"><td class="sev-' + e.severity + '">' + esc(t(e.severity)) + '</td><td class="reason">' + esc(state.lang === 'zh' ? e.reasonZh : e.reasonEn) +
        '</td><td class="detail">' + esc(state.lang === 'zh' ? e.messageZh : e.messageEn) + '</td></tr>');
    });
    $('#exceptions').innerHTML = '<table class="grid"><thead><tr><th>' + esc(t('severity')) + '</th><th>' + esc(t('reasonCol')) + '</th><th>' + esc(t('detailCol')) + '</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>';
  }

  function loadExceptions(offset, groupBy) {
    var run = state.county && state.county.reconciliation.run;
    if (!run) { state.exceptions = null; return Promise.resolve(); }
    var p = new URLSearchParams({ offset: String(offset || 0), limit: '50', groupBy: groupBy || 'none' });
    return api('/api/v1/counties/' + state.countyId + '/dashboard/reconciliations/' + run.id + '/exceptions?' + p.toString()).then(function (x) {
      state.exceptions = x;
      renderExceptions();
    });
  }

  function runReconciliationNow() {
    var period = state.county.reconciliation.period;
    $('#run-head').textContent = t('running');
    return api('/api/v1/counties/' + state.countyId + '/reconciliations', { method: 'POST', body: { period: period } })
      .then(function () { return loadCounty(state.countyId); }).catch(failed);
  }

  // Sign-in security (county officials and the administrator, who may unlock users): the county's users
  // locked or delayed by failed logins, each with an Unlock button, and the client addresses delayed now.
  function mayUnlock() { return !!state.user && (state.user.role === 'county_official' || state.user.role === 'admin'); }
  function loadSignIn() {
    state.signIn = null;
    if (!mayUnlock() || !state.countyId) { $('#signin-security').hidden = true; return Promise.resolve(); }
    return api('/api/v1/counties/' + state.countyId + '/login-failures').then(function (x) { state.signIn = x; }, function (e) {
      if (e && e.handled) throw e; // an expired session: back to the login page
      $('#signin-security').hidden = true; // the rest of the county page does not depend on this panel
    });
  }
  function renderSignIn() {
    var x = state.signIn, tz = state.county && state.county.county.timeZone;
    if (!x || !tz) { $('#signin-security').hidden = true; return; }
    var users = x.users.filter(function (u) { return u.locked || u.delayed; });
    $('#signin-note').textContent = t('signinNote', { m: x.windowMinutes });
    $('#signin-users thead').innerHTML = '<tr>' + ['signinUser', 'signinFailures', 'signinLast', 'signinState', ''].map(function (k) { return '<th>' + (k ? esc(t(k)) : '') + '</th>'; }).join('') + '</tr>';
    $('#signin-users tbody').innerHTML = users.length ? users.map(function (u) {
      var st = u.locked ? t('lockedUntil', { t: timeWithZone(u.lockedUntil, tz) }) : t('delayedUntil', { t: timeWithZone(u.blockedUntil, tz) });
      return '<tr data-user="' + esc(u.user.id) + '" data-state="' + (u.locked ? 'locked' : 'delayed') + '"><td>' + esc(u.user.displayName) + ' <span class="code">' + esc(u.user.username) + '</span></td><td>' + num(u.failures) +
        '</td><td>' + (u.lastFailureAt ? esc(timeWithZone(u.lastFailureAt, tz)) : '—') + '</td><td>' + esc(st) +
        '</td><td><button type="button" class="unlock" data-unlock="' + esc(u.user.id) + '" data-username="' + esc(u.user.username) + '">' + esc(t('unlock')) + '</button></td></tr>';
    }).join('') : '<tr><td colspan="5">' + esc(t('signinNone')) + '</td></tr>';
    $('#signin-addresses').textContent = x.addresses.length ? t('signinAddresses', { list: x.addresses.map(function (a) { return a.address + ' (' + timeWithZone(a.blockedUntil, tz) + ')'; }).join(', ') }) : '';
    $('#signin-security').hidden = false;
  }
  function unlockUser(id, username) {
    return api('/api/v1/counties/' + state.countyId + '/users/' + id + '/unlock', { method: 'POST' })
      .then(function () { return loadSignIn(); })
      .then(function () { renderSignIn(); status(t('unlocked', { u: username })); })
      .catch(failed);
  }

  function renderCounty() {
    var s = state.county;
    if (!s) return;
    $('#county-name').textContent = state.lang === 'zh' ? s.county.nameZh : s.county.nameEn;
    $('#county-period').textContent = periodText(s.range);
    renderTiles(s);
    renderTrend('trend-chart', s.trend);
    renderFunnel(s.funnel);
    $('#position-help').textContent = t('positionHelp');
    renderShops();
    renderIncentives();
    rateTable('#products', s.rankings.products);
    rateTable('#manufacturers', s.rankings.manufacturers);
    renderRunHead();
    renderExceptions();
    renderCountyMap();
    renderSignIn();
  }

  function loadCounty(countyId) {
    if (!rangeOk()) return Promise.resolve();
    clearProblem();
    state.countyId = countyId;
    status(t('loading'));
    $('#shop-detail').hidden = true;
    return Promise.all([
      api('/api/v1/counties/' + countyId + '/dashboard?' + query()),
      api('/api/v1/counties/' + countyId + '/dashboard/shops?' + query()),
    ]).then(function (r) {
      state.county = r[0];
      state.shops = r[1].shops;
      state.exceptions = null;
      fillPeriod(r[0].range);
      return loadExceptions(0, $('#group-by').value).then(function () { return loadCountyMap(r[0].county); }).then(function () { return loadIncentives(countyId); }).then(loadSignIn);
    }).then(function () {
      $('#county').hidden = false;
      $('#back-province').hidden = !state.province;
      renderCounty();
      status(t('loaded'));
      document.body.setAttribute('data-loaded', 'county');
    }).catch(failed);
  }

  // Maps: GeoJSON from the server (only the prefectures needed), registered once per name.
  function registerMap(name, geo) {
    if (!echarts.getMap(name)) echarts.registerMap(name, geo);
    var labels = {};
    geo.features.forEach(function (f) { labels[f.properties.name] = f.properties.label; });
    return labels;
  }

  function loadCountyMap(county) {
    if (state.countyMap && state.countyMap.countyId === county.id) return Promise.resolve();
    return api('/api/v1/counties/' + county.id + '/dashboard/map').then(function (geo) {
      state.countyMap = { countyId: county.id, name: 'county-' + county.id, labels: registerMap('county-' + county.id, geo) };
    }).catch(function () { state.countyMap = null; });
  }

  function renderCountyMap() {
    var m = state.countyMap, s = state.county;
    if (!m || !s) return;
    chart('county-map').setOption({
      title: { text: s.county.prefectureZh, left: 'center', textStyle: { fontSize: 12, fontWeight: 'normal' } },
      tooltip: { trigger: 'item', formatter: function (p) { return esc(m.labels[p.name] || p.name); } },
      series: [{ type: 'map', map: m.name, roam: false, selectedMode: false,
        label: { show: true, fontSize: 10, formatter: function (p) { return m.labels[p.name] || ''; } },
        itemStyle: { areaColor: '#e8ece6', borderColor: '#999' },
        data: [{ name: s.county.id, value: 1, itemStyle: { areaColor: '#2f6b3a' }, label: { color: '#fff', fontWeight: 'bold' } }] }],
    }, true);
  }

  function renderProvince() {
    var p = state.province;
    if (!p) return;
    var rows = p.counties;
    $('#province-period').textContent = periodText(p.range);
    $('#counties thead').innerHTML = '<tr><th>' + esc(t('county')) + '</th><th>' + esc(t('sold')) + '</th><th>' + esc(t('returned')) + '</th><th>' + esc(t('periodRate')) + '</th><th>' + esc(t('cohortRate')) + '</th><th>' + esc(t('massRate')) + '</th><th>' + esc(t('outstandingYuan')) + '</th></tr>';
    $('#counties tbody').innerHTML = rows.map(function (c) {
      return '<tr><td><a class="county-link" data-county="' + c.countyId + '">' + esc(state.lang === 'zh' ? c.nameZh : c.nameEn) + '</a></td><td class="n">' + num(c.soldUnits) + '</td><td class="n">' + num(c.returnedUnits) + '</td><td class="n">' + pct(c.periodRatePct) + '</td><td class="n">' + pct(c.cohortRatePct) + '</td><td class="n">' + pct(c.massRatePct) + '</td><td class="n">' + yuan(c.depositsOutstandingFen) + '</td></tr>';
    }).join('');
    chart('province-chart').setOption({
      tooltip: { trigger: 'axis' }, legend: { data: [t('periodRate'), t('cohortRate'), t('massRate')] }, grid: { left: 50, right: 20, bottom: 60, top: 40 },
      xAxis: { type: 'category', data: rows.map(function (c) { return state.lang === 'zh' ? c.nameZh : c.nameEn; }), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
      series: [
        { name: t('periodRate'), type: 'bar', data: rows.map(function (c) { return c.periodRatePct; }) },
        { name: t('cohortRate'), type: 'bar', data: rows.map(function (c) { return c.cohortRatePct; }) },
        { name: t('massRate'), type: 'bar', data: rows.map(function (c) { return c.massRatePct; }) },
      ],
    }, true);
    renderProvinceMap();
  }

  // Counties coloured by the period recovery rate; a click opens the county.
  function renderProvinceMap() {
    var m = state.provinceMap, p = state.province;
    if (!m || !p) return;
    var byId = {};
    p.counties.forEach(function (c) { byId[c.countyId] = c; });
    var rateName = (p.definitions[1] && (state.lang === 'zh' ? p.definitions[1].label_zh : p.definitions[1].label_en)) || t('periodRate');
    chart('province-map').setOption({
      title: { text: rateName + ' · ' + periodText(p.range), left: 'center', textStyle: { fontSize: 12, fontWeight: 'normal' } },
      tooltip: { trigger: 'item', formatter: function (x) {
        var c = byId[x.name];
        return esc(m.labels[x.name] || x.name) + (c ? '<br>' + esc(rateName) + ': ' + pct(c.periodRatePct) : '');
      } },
      visualMap: { min: 0, max: 100, left: 10, bottom: 10, text: ['100%', '0%'], calculable: false, inRange: { color: ['#f4e3c1', '#9cc58f', '#2f6b3a'] }, outOfRange: { color: '#2f6b3a' } },
      series: [{ type: 'map', map: m.name, roam: false, selectedMode: false,
        label: { show: true, fontSize: 9, formatter: function (x) { return byId[x.name] ? m.labels[x.name] : ''; } },
        itemStyle: { areaColor: '#eee', borderColor: '#999' },
        data: p.counties.filter(function (c) { return c.periodRatePct != null; }).map(function (c) { return { name: c.countyId, value: Math.min(c.periodRatePct, 100) }; }) }],
    }, true);
    var c = chart('province-map');
    c.off('click');
    c.on('click', function (x) { if (byId[x.name]) { state.lastCounty = x.name; openCountyFromProvince(x.name); } });
    var none = m.unmatched.map(function (id) { var c = byId[id]; return c ? (state.lang === 'zh' ? c.nameZh : c.nameEn) : id; });
    $('#province-map-note').textContent = none.length ? t('mapNone', { list: none.join('、') }) : '';
  }

  function loadProvince(code) {
    if (!rangeOk()) return Promise.resolve();
    clearProblem();
    status(t('loading'));
    return api('/api/v1/provinces/' + code + '/dashboard?' + query()).then(function (p) {
      state.province = p;
      fillPeriod(p.range);
      if (state.provinceMap && state.provinceMap.code === code) return;
      return api('/api/v1/provinces/' + code + '/dashboard/map').then(function (geo) {
        state.provinceMap = { code: code, name: 'province-' + code, labels: registerMap('province-' + code, geo), unmatched: geo.unmatched };
      }).catch(function () { state.provinceMap = null; });
    }).then(function () {
      if (!state.countyId || $('#county').hidden) $('#province').hidden = false;
      renderProvince();
      status(t('loaded') + ' · ' + t('chooseCounty'));
      document.body.setAttribute('data-loaded', 'province');
    }).catch(failed);
  }

  /** From the province: the county opens in place of the comparison, scrolled to, with a way back. */
  function openCountyFromProvince(countyId) {
    $('#province').hidden = true;
    return loadCounty(countyId).then(function () {
      $('#back-province').hidden = false;
      $('#county').scrollIntoView({ block: 'start' });
      $('#back-province').focus();
    });
  }

  function backToProvince() {
    $('#county').hidden = true;
    $('#shop-detail').hidden = true;
    state.countyId = null;
    $('#province').hidden = false;
    renderProvince();
    var link = state.lastCounty && document.querySelector('#counties a.county-link[data-county="' + state.lastCounty + '"]');
    window.scrollTo(0, 0);
    if (link) link.focus();
    document.body.setAttribute('data-loaded', 'province');
  }

  function openShop(shopId) {
    if (!rangeOk()) return Promise.resolve();
    clearProblem();
    status(t('loading'));
    return api('/api/v1/counties/' + state.countyId + '/dashboard/shops/' + shopId + '?' + query()).then(function (d) {
      state.shopDetail = d;
      $('#county').hidden = true;
      $('#province').hidden = true;
      $('#shop-detail').hidden = false;
      renderShopDetail();
      window.scrollTo(0, 0);
      status(t('loaded'));
      document.body.setAttribute('data-loaded', 'shop');
    }).catch(failed);
  }

  function renderShopDetail() {
    var d = state.shopDetail;
    if (!d) return;
    $('#shop-name').textContent = d.shop.name;
    var pos = d.positionFen;
    $('#shop-facts').innerHTML = esc(t('township')) + ': ' + esc(d.shop.township) + ' · <abbr title="' + esc(t('positionHelp')) + '">' + esc(t('position')) + '</abbr>: <span id="shop-position">' + yuan(pos) + '</span>' +
      ' <span class="note">(' + esc(pos < 0 ? t('positionNegative', { x: yuan(-pos) }) : t('positionPositive', { x: yuan(pos) })) + ')</span>';
    $('#shop-position-help').textContent = t('positionHelp');
    renderTrend('shop-trend', d.trend);
    rateTable('#shop-products', d.products);
    $('#returns-window').textContent = t('returnsWindow', { from: d.returnsWindow.fromDay, to: d.returnsWindow.toDay });
    var zone = d.recentReturns.length ? zoneLabel(d.timeZone, d.recentReturns[0].eventTime) : zoneLabel(d.timeZone, Date.now());
    $('#shop-returns thead').innerHTML = '<tr><th>' + esc(t('time')) + ' (' + esc(zone) + ')</th><th>' + esc(t('returner')) + '</th><th>' + esc(t('accepted')) + '</th><th>' + esc(t('refund')) + '</th><th>' + esc(t('buybackYuan')) + '</th></tr>';
    $('#shop-returns tbody').innerHTML = d.recentReturns.map(function (r) {
      return '<tr><td class="time" data-iso="' + esc(r.eventTime) + '">' + esc(localTime(r.eventTime, d.timeZone)) + '</td><td class="returner">' + esc(r.returner || '—') + '</td><td class="n">' + r.accepted + '</td><td class="n refund">' + yuan(r.refundFen) + '</td><td class="n buyback">' + yuan(r.buybackFen) + '</td></tr>';
    }).join('');
  }

  function download(path, fallbackName) {
    return api(path, { raw: true }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      var cd = res.headers.get('Content-Disposition') || '';
      var m = /filename="([^"]+)"/.exec(cd);
      return res.blob().then(function (b) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(b);
        a.download = m ? m[1] : fallbackName;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    });
  }

  function start() {
    var u = state.user;
    $('#login').hidden = true;
    $('#main').hidden = false;
    $('#logout').hidden = false;
    $('#login-notice').hidden = true;
    $('#who').textContent = u.displayName || u.username;
    if (u.role === 'province_official' || u.role === 'admin') {
      loadProvince(u.provinceCode || '510000');
    } else {
      loadCounty(u.countyId);
    }
  }

  /** Back to the login page; with a reason code (an expired session) the page says why. */
  function logout(reason) {
    sessionStorage.removeItem('agrireturn.token');
    sessionStorage.removeItem('agrireturn.user');
    state.token = null; state.user = null; state.county = null; state.province = null; state.countyId = null; state.exceptions = null;
    $('#main').hidden = true; $('#login').hidden = false; $('#logout').hidden = true; $('#who').textContent = '';
    ['#county', '#province', '#shop-detail'].forEach(function (sel) { $(sel).hidden = true; });
    clearProblem();
    var notice = $('#login-notice');
    if (typeof reason === 'string') { notice.textContent = sentence(reason); notice.setAttribute('data-code', reason); notice.hidden = false; } else { notice.hidden = true; }
    document.body.setAttribute('data-loaded', 'login');
    var user = $('#login-form').username;
    if (user) user.focus();
  }

  $('#login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target;
    $('#login-error').textContent = '';
    fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: f.username.value, password: f.password.value }) })
      .then(function (res) { return res.json().then(function (b) { return { res: res, b: b }; }); })
      .then(function (x) {
        if (!x.res.ok) { var code = x.b.error ? x.b.error.code : 'INTERNAL'; $('#login-error').innerHTML = esc(sentence(code)) + ' <span class="code">' + esc(code) + '</span>'; return; }
        state.token = x.b.accessToken; state.user = x.b.user;
        sessionStorage.setItem('agrireturn.token', state.token);
        sessionStorage.setItem('agrireturn.user', JSON.stringify(state.user));
        start();
      }, function () { $('#login-error').textContent = sentence('NETWORK'); });
  });
  $('#logout').addEventListener('click', function () { logout(); });
  $('#lang-toggle').addEventListener('click', function () {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('agrireturn.lang', state.lang);
    applyLang();
    if (!$('#province').hidden) renderProvince();
    if (!$('#county').hidden) renderCounty();
    if (!$('#shop-detail').hidden) renderShopDetail();
    var code = $('#problem').hidden ? null : $('#problem .code');
    if (code) showProblem(code.textContent);
    if (!$('#login-notice').hidden) $('#login-notice').textContent = sentence($('#login-notice').getAttribute('data-code'));
  });
  $('#filters').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!rangeOk()) return;
    if (state.province && !$('#province').hidden) loadProvince(state.province.provinceCode);
    else if (state.countyId) loadCounty(state.countyId);
  });
  $('#shops').addEventListener('click', function (ev) {
    var link = ev.target.closest('.shop-link');
    if (link) { openShop(link.getAttribute('data-shop')); return; }
    var th = ev.target.closest('th');
    if (th) {
      var k = th.getAttribute('data-key');
      state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
      renderShops();
    }
  });
  $('#counties').addEventListener('click', function (ev) {
    var link = ev.target.closest('.county-link');
    if (link) { state.lastCounty = link.getAttribute('data-county'); openCountyFromProvince(state.lastCounty); }
  });
  $('#signin-users').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-unlock]');
    if (b) { b.disabled = true; unlockUser(b.getAttribute('data-unlock'), b.getAttribute('data-username')); }
  });
  $('#run-head').addEventListener('click', function (ev) { if (ev.target.id === 'run-now') runReconciliationNow(); });
  $('#group-by').addEventListener('change', function () { loadExceptions(0, $('#group-by').value).catch(failed); });
  $('#exceptions-prev').addEventListener('click', function () { var x = state.exceptions; loadExceptions(Math.max(0, x.offset - x.limit), x.groupBy).catch(failed); });
  $('#exceptions-next').addEventListener('click', function () { var x = state.exceptions; loadExceptions(x.offset + x.limit, x.groupBy).catch(failed); });
  $('#back-province').addEventListener('click', backToProvince);
  $('#back').addEventListener('click', function () { $('#shop-detail').hidden = true; $('#county').hidden = false; renderCounty(); document.body.setAttribute('data-loaded', 'county'); });
  $('#export-shops').addEventListener('click', function () { download('/api/v1/counties/' + state.countyId + '/dashboard/shops?format=csv&' + query(), 'shops.csv'); });
  $('#export-products').addEventListener('click', function () { download('/api/v1/counties/' + state.countyId + '/recovery-rates?by=product&format=csv&' + query(), 'products.csv'); });
  $('#export-manufacturers').addEventListener('click', function () { download('/api/v1/counties/' + state.countyId + '/recovery-rates?by=manufacturer&format=csv&' + query(), 'manufacturers.csv'); });
  // The monthly report (docs/dashboard.md "Monthly report") of the month in "To month" (default: last month).
  function openReport(base, format) {
    var p = new URLSearchParams({ format: format, lang: state.lang, days: $('#filters').days.value });
    if ($('#filters').to.value) p.set('month', $('#filters').to.value);
    if (format === 'pdf') { download(base + '?' + p.toString(), 'monthly-report.pdf').catch(function (e) { status(e.message); }); return; }
    var w = window.open('', '_blank');
    api(base + '?' + p.toString(), { raw: true }).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) { w.close(); status(res.status + ' ' + text); return; }
        w.document.open(); w.document.write(text); w.document.close();
      });
    });
  }
  $('#report-html').addEventListener('click', function () { openReport('/api/v1/counties/' + state.countyId + '/reports/monthly', 'html'); });
  $('#report-pdf').addEventListener('click', function () { openReport('/api/v1/counties/' + state.countyId + '/reports/monthly', 'pdf'); });
  $('#province-report-html').addEventListener('click', function () { openReport('/api/v1/provinces/' + state.province.provinceCode + '/reports/monthly', 'html'); });
  $('#province-report-pdf').addEventListener('click', function () { openReport('/api/v1/provinces/' + state.province.provinceCode + '/reports/monthly', 'pdf'); });
  // Only charts on screen: a map in a hidden section has no size to fit (it is drawn when shown).
  window.addEventListener('resize', function () {
    Object.keys(state.charts).forEach(function (k) { var c = state.charts[k]; if (c.getDom().clientWidth > 0) c.resize(); });
  });

  applyLang();
  if (state.token && state.user) start(); else document.body.setAttribute('data-loaded', 'login');
})();
