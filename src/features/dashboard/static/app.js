// The officials' dashboard: plain script, no build step. Logs in through /api/v1/auth/login, keeps
// the token in sessionStorage, reads compact JSON and draws with the bundled ECharts (SVG renderer).
/* global echarts */
(function () {
  'use strict';
  var T = {
    zh: {
      title: '农药包装废弃物回收监管看板', logout: '退出', login: '官员登录', username: '用户名', password: '密码', loginButton: '登录',
      from: '起始月', to: '截止月', cohortDays: '批次天数', apply: '查询', provinceCompare: '各县比较', trend: '月度回收趋势', funnel: '回收链条（累计）',
      shops: '店铺', exportCsv: '导出 CSV', products: '产品排名', manufacturers: '生产企业排名', exceptions: '最近一次对账的异常', back: '返回',
      recentReturns: '最近回收（农户已脱敏）', loading: '加载中…', loaded: '已更新', loginFailed: '登录失败：', noRun: '尚无对账记录。', noExceptions: '无异常。',
      cohortRate: '批次回收率', periodRate: '同期回收率', massRate: '重量回收率', outstanding: '未退押金', awaitingPickup: '待收运包装', openDiscrepancies: '未结差异',
      sold: '收押销售', returned: '回收', hauled: '已收运', disposed: '已处置', shop: '店铺', township: '乡镇', position: '头寸（元）', atShop: '店内包装', flags: '标记',
      name: '名称', county: '县', returns_above_sales: '回收多于销售', overdue_pickup: '逾期未收运', likely_counterfeit: '疑似假码', refunds_held: '退款待审核', yuan: '元', units: '个', run: '对账', time: '时间', returner: '交回人',
      refund: '退款（元）', accepted: '接收数', pct: '%', chooseCounty: '点击县名查看详情', forbidden: '无权查看该数据', severity: '级别', error: '错误', warning: '警告', info: '提示',
      monthlyReport: '月度报告',
    },
    en: {
      title: 'Pesticide packaging recovery dashboard', logout: 'Log out', login: 'Official login', username: 'Username', password: 'Password', loginButton: 'Log in',
      from: 'From month', to: 'To month', cohortDays: 'Cohort days', apply: 'Apply', provinceCompare: 'Counties compared', trend: 'Recovery by month', funnel: 'Custody funnel (all time)',
      shops: 'Shops', exportCsv: 'Export CSV', products: 'Products', manufacturers: 'Manufacturers', exceptions: 'Exceptions of the last reconciliation', back: 'Back',
      recentReturns: 'Recent returns (farmers masked)', loading: 'Loading…', loaded: 'Updated', loginFailed: 'Login failed: ', noRun: 'No reconciliation yet.', noExceptions: 'No exceptions.',
      cohortRate: 'Cohort recovery', periodRate: 'Period recovery', massRate: 'Recovery by mass', outstanding: 'Deposits outstanding', awaitingPickup: 'Containers awaiting pickup', openDiscrepancies: 'Open discrepancies',
      sold: 'Sold with deposit', returned: 'Returned', hauled: 'Hauled', disposed: 'Disposed', shop: 'Shop', township: 'Township', position: 'Position (yuan)', atShop: 'At shop', flags: 'Flags',
      name: 'Name', county: 'County', returns_above_sales: 'returns above sales', overdue_pickup: 'overdue pickup', likely_counterfeit: 'likely counterfeit codes', refunds_held: 'refunds held for review', yuan: 'yuan', units: '', run: 'Run', time: 'Time', returner: 'Returner',
      refund: 'Refund (yuan)', accepted: 'Accepted', pct: '%', chooseCounty: 'Click a county for its dashboard', forbidden: 'You may not see this', severity: 'Severity', error: 'error', warning: 'warning', info: 'info',
      monthlyReport: 'Monthly report',
    },
  };
  var state = { lang: localStorage.getItem('agrireturn.lang') || 'zh', token: sessionStorage.getItem('agrireturn.token'), user: JSON.parse(sessionStorage.getItem('agrireturn.user') || 'null'), countyId: null, county: null, shops: [], sort: { key: 'name', dir: 1 }, shopDetail: null, province: null, charts: {} };
  var $ = function (sel) { return document.querySelector(sel); };
  var t = function (k) { return (T[state.lang] && T[state.lang][k]) || k; };
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
    return fetch(path, { method: opts.method || 'GET', headers: headers }).then(function (res) {
      if (res.status === 401) { logout(); throw new Error('401'); }
      if (opts.raw) return res;
      return res.json().then(function (body) {
        if (!res.ok) { var e = new Error(body && body.error ? body.error.code : String(res.status)); e.code = body && body.error && body.error.code; throw e; }
        return body;
      });
    });
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
    var c = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: 'svg' });
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

  function renderFunnel(f) {
    chart('funnel-chart').setOption({
      tooltip: { trigger: 'item' },
      series: [{ type: 'funnel', sort: 'none', left: '4%', width: '62%', label: { formatter: '{b}: {c}' },
        data: [{ name: t('sold'), value: f.sold }, { name: t('returned'), value: f.returned }, { name: t('hauled'), value: f.hauled }, { name: t('disposed'), value: f.disposed }] }],
    }, true);
  }

  var SHOP_COLS = [
    ['name', 'shop'], ['township', 'township'], ['soldUnits', 'sold', 'n'], ['returnedUnits', 'returned', 'n'], ['periodRatePct', 'periodRate', 'pct'],
    ['cohortRatePct', 'cohortRate', 'pct'], ['massRatePct', 'massRate', 'pct'], ['positionFen', 'position', 'fen'], ['containersAtShop', 'atShop', 'n'], ['flags', 'flags'],
  ];

  function renderShops() {
    var th = SHOP_COLS.map(function (c) {
      var cls = state.sort.key === c[0] ? (state.sort.dir > 0 ? 'asc' : 'desc') : '';
      return '<th data-key="' + c[0] + '" class="' + cls + '">' + esc(t(c[1])) + '</th>';
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
        if (c[2] === 'fen') return '<td class="n">' + yuan(v) + '</td>';
        if (c[2] === 'n') return '<td class="n">' + num(v) + '</td>';
        return '<td>' + esc(v) + '</td>';
      }).join('') + '</tr>';
    }).join('');
  }

  function rateTable(sel, rows) {
    $(sel + ' thead').innerHTML = '<tr><th>' + esc(t('name')) + '</th><th>' + esc(t('sold')) + '</th><th>' + esc(t('returned')) + '</th><th>' + esc(t('periodRate')) + '</th><th>' + esc(t('cohortRate')) + '</th><th>' + esc(t('massRate')) + '</th></tr>';
    $(sel + ' tbody').innerHTML = rows.map(function (r) {
      return '<tr><td>' + esc(r.name) + '</td><td class="n">' + num(r.soldUnits) + '</td><td class="n">' + num(r.returnedUnits) + '</td><td class="n">' + pct(r.periodRatePct) + '</td><td class="n">' + pct(r.cohortRatePct) + '</td><td class="n">' + pct(r.massRatePct) + '</td></tr>';
    }).join('');
  }

  function renderExceptions(run) {
    if (!run) { $('#exceptions').textContent = t('noRun'); return; }
    var head = '<p>' + esc(t('run')) + ' ' + esc(run.period) + ' · ' + esc(run.asOf) + '</p>';
    if (!run.exceptions.length) { $('#exceptions').innerHTML = head + '<p>' + esc(t('noExceptions')) + '</p>'; return; }
    $('#exceptions').innerHTML = head + '<table class="grid"><tbody>' + run.exceptions.map(function (e) {
      return '<tr><td class="sev-' + e.severity + '">' + esc(t(e.severity)) + '</td><td>' + esc(state.lang === 'zh' ? e.messageZh : e.messageEn) + '</td></tr>';
    }).join('') + '</tbody></table>';
  }

  function renderCounty() {
    var s = state.county;
    if (!s) return;
    $('#county-name').textContent = state.lang === 'zh' ? s.county.nameZh : s.county.nameEn;
    renderTiles(s);
    renderTrend('trend-chart', s.trend);
    renderFunnel(s.funnel);
    renderShops();
    rateTable('#products', s.rankings.products);
    rateTable('#manufacturers', s.rankings.manufacturers);
    renderExceptions(s.lastRun);
  }

  function loadCounty(countyId) {
    state.countyId = countyId;
    status(t('loading'));
    $('#shop-detail').hidden = true;
    return Promise.all([
      api('/api/v1/dashboard/counties/' + countyId + '?' + query()),
      api('/api/v1/dashboard/counties/' + countyId + '/shops?' + query()),
    ]).then(function (r) {
      state.county = r[0];
      state.shops = r[1].shops;
      var f = $('#filters');
      if (!f.from.value) f.from.value = r[0].range.from;
      if (!f.to.value) f.to.value = r[0].range.to;
      $('#county').hidden = false;
      renderCounty();
      status(t('loaded'));
      document.body.setAttribute('data-loaded', 'county');
    }).catch(function (e) { status(e.code === 'OUT_OF_SCOPE' || e.code === 'FORBIDDEN' ? t('forbidden') : String(e.message)); document.body.setAttribute('data-loaded', 'error'); });
  }

  function renderProvince() {
    var p = state.province;
    if (!p) return;
    var rows = p.counties;
    $('#counties thead').innerHTML = '<tr><th>' + esc(t('county')) + '</th><th>' + esc(t('sold')) + '</th><th>' + esc(t('returned')) + '</th><th>' + esc(t('periodRate')) + '</th><th>' + esc(t('cohortRate')) + '</th><th>' + esc(t('massRate')) + '</th><th>' + esc(t('outstanding')) + '</th></tr>';
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
  }

  function loadProvince(code) {
    status(t('loading'));
    return api('/api/v1/dashboard/provinces/' + code + '?' + query()).then(function (p) {
      state.province = p;
      $('#province').hidden = false;
      renderProvince();
      status(t('loaded') + ' · ' + t('chooseCounty'));
      document.body.setAttribute('data-loaded', 'province');
    });
  }

  function openShop(shopId) {
    status(t('loading'));
    return api('/api/v1/dashboard/counties/' + state.countyId + '/shops/' + shopId + '?' + query()).then(function (d) {
      state.shopDetail = d;
      $('#county').hidden = true;
      $('#province').hidden = true;
      $('#shop-detail').hidden = false;
      renderShopDetail();
      status(t('loaded'));
      document.body.setAttribute('data-loaded', 'shop');
    });
  }

  function renderShopDetail() {
    var d = state.shopDetail;
    if (!d) return;
    $('#shop-name').textContent = d.shop.name;
    $('#shop-facts').textContent = t('township') + ': ' + d.shop.township + ' · ' + t('position') + ': ' + yuan(d.positionFen);
    renderTrend('shop-trend', d.trend);
    rateTable('#shop-products', d.products);
    $('#shop-returns thead').innerHTML = '<tr><th>' + esc(t('time')) + '</th><th>' + esc(t('returner')) + '</th><th>' + esc(t('accepted')) + '</th><th>' + esc(t('refund')) + '</th></tr>';
    $('#shop-returns tbody').innerHTML = d.recentReturns.map(function (r) {
      return '<tr><td>' + esc(r.eventTime.slice(0, 16).replace('T', ' ')) + '</td><td class="returner">' + esc(r.returner || '—') + '</td><td class="n">' + r.accepted + '</td><td class="n">' + yuan(r.refundFen) + '</td></tr>';
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
    $('#who').textContent = u.displayName || u.username;
    if (u.role === 'province_official' || u.role === 'admin') {
      loadProvince(u.provinceCode || '510000');
    } else {
      loadCounty(u.countyId);
    }
  }

  function logout() {
    sessionStorage.removeItem('agrireturn.token');
    sessionStorage.removeItem('agrireturn.user');
    state.token = null; state.user = null;
    $('#main').hidden = true; $('#login').hidden = false; $('#logout').hidden = true; $('#who').textContent = '';
  }

  $('#login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target;
    fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: f.username.value, password: f.password.value }) })
      .then(function (res) { return res.json().then(function (b) { return { res: res, b: b }; }); })
      .then(function (x) {
        if (!x.res.ok) { $('#login-error').textContent = t('loginFailed') + (x.b.error ? x.b.error.code : x.res.status); return; }
        state.token = x.b.accessToken; state.user = x.b.user;
        sessionStorage.setItem('agrireturn.token', state.token);
        sessionStorage.setItem('agrireturn.user', JSON.stringify(state.user));
        start();
      });
  });
  $('#logout').addEventListener('click', logout);
  $('#lang-toggle').addEventListener('click', function () {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('agrireturn.lang', state.lang);
    applyLang();
    renderProvince(); renderCounty(); if (!$('#shop-detail').hidden) renderShopDetail();
  });
  $('#filters').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (state.province && !$('#province').hidden) loadProvince(state.province.provinceCode);
    if (state.countyId) loadCounty(state.countyId);
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
    if (link) loadCounty(link.getAttribute('data-county'));
  });
  $('#back').addEventListener('click', function () { $('#shop-detail').hidden = true; $('#county').hidden = false; if (state.province) $('#province').hidden = false; });
  $('#export-shops').addEventListener('click', function () { download('/api/v1/dashboard/counties/' + state.countyId + '/shops?format=csv&' + query(), 'shops.csv'); });
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
  window.addEventListener('resize', function () { Object.keys(state.charts).forEach(function (k) { state.charts[k].resize(); }); });

  applyLang();
  if (state.token && state.user) start();
})();
