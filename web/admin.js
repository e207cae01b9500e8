// The admin page (/admin): log in, upload a new round's master list, review the draft (its
// load report, its changes against the latest round and a preview map of its figures),
// publish it, and roll back to an earlier version. Every change is a POST carrying the
// session's CSRF token; the session itself is an HttpOnly cookie the page never sees.
// Page parameter: ?lang={a configured language}

import {
  addStrings, currentLang, fillLanguageMenu, formatNumber, inLanguage, setLang, t, translatePage,
} from './i18n.js';

addStrings({
  en: {
    adminTitle: 'Publishing',
    mapLink: 'Map',
    dashboard: 'Dashboard',
    logout: 'Log out',
    loginTitle: 'Log in',
    userName: 'User name',
    password: 'Password',
    logIn: 'Log in',
    loggedInAs: 'Logged in as {user}',
    loginFailed: 'Wrong user name or password.',
    loginBlocked: 'Too many failed logins. Wait a few minutes and try again.',
    uploadTitle: 'Upload a new round',
    uploadHint: 'The master list as XLSX or CSV: the site code column, the count columns and, optionally, the area column.',
    masterList: 'Master list',
    roundId: 'Round id',
    roundLabel: 'Label',
    roundDate: 'Date',
    source: 'Source',
    illustrative: 'The figures are illustrative',
    skipBadRows: 'Leave out rows with errors (they are listed as warnings)',
    uploadButton: 'Upload and check',
    uploading: 'Checking the master list…',
    draftTitle: 'Draft',
    draftSummary: 'Round {round}: {errors} errors, {warnings} warnings.',
    draftBlocked: 'It has errors and cannot be published: correct the master list and upload it again.',
    draftReady: 'It can be published.',
    publish: 'Publish',
    discard: 'Discard',
    published: 'Version {version} is published and served now.',
    rolledBack: 'Version {version} is served again.',
    discarded: 'The draft was discarded.',
    reportTitle: 'Load report',
    reportEmpty: 'No problem found.',
    diffTitle: 'Changes against the latest round',
    previewTitle: 'Preview of the draft\'s figures',
    totalsTitle: 'National totals',
    figure: 'Figure',
    before: 'Latest round ({round})',
    beforeNone: 'Latest round',
    after: 'New round ({round})',
    change: 'Change',
    sitesWithFigures: 'Sites with figures: {after} (before: {before})',
    added: 'Locations added: {count}',
    gone: 'Locations gone: {count}',
    moved: 'Locations counted in another area than on the map: {count}',
    movedRow: '{site}: {from} → {to}',
    suspicious: 'Suspicious coordinates',
    areasTitle: 'By area',
    area: 'Area',
    increases: 'Largest increases',
    decreases: 'Largest decreases',
    site: 'Site',
    draftsTitle: 'Drafts waiting',
    noDrafts: 'No draft is waiting.',
    open: 'Open',
    versionsTitle: 'Published versions',
    noVersions: 'Nothing has been published from here yet.',
    version: 'Version',
    when: 'When',
    who: 'Who',
    rounds: 'Rounds added',
    totals: 'Totals of the latest round',
    current: 'served now',
    rollback: 'Serve this version again',
    initial: 'The data before the first publish',
    auditTitle: 'Audit log',
    action: 'Action',
    action_upload: 'upload',
    action_publish: 'publish',
    action_rollback: 'rollback',
    action_discard: 'discard',
    action_login: 'login',
    action_login_failed: 'failed login',
    action_login_refused: 'login refused',
    action_reload: 'reload',
    errorStatus: 'The server answered with an error ({status}).',
    errorNetwork: 'The server cannot be reached.',
    language: 'Language',
  },
  ar: {
    adminTitle: 'النشر',
    mapLink: 'الخريطة',
    dashboard: 'لوحة المعلومات',
    logout: 'تسجيل الخروج',
    loginTitle: 'تسجيل الدخول',
    userName: 'اسم المستخدم',
    password: 'كلمة المرور',
    logIn: 'دخول',
    loggedInAs: 'المستخدم: {user}',
    loginFailed: 'اسم المستخدم أو كلمة المرور غير صحيحة.',
    loginBlocked: 'محاولات فاشلة كثيرة. انتظر بضع دقائق ثم حاول مجددًا.',
    uploadTitle: 'رفع جولة جديدة',
    uploadHint: 'القائمة الرئيسية بصيغة إكسل أو نص مفصول بفواصل: عمود رمز الموقع وأعمدة الأعداد، وعمود المنطقة اختياريًا.',
    masterList: 'القائمة الرئيسية',
    roundId: 'رمز الجولة',
    roundLabel: 'التسمية',
    roundDate: 'التاريخ',
    source: 'المصدر',
    illustrative: 'الأرقام توضيحية',
    skipBadRows: 'استبعاد الصفوف التي فيها أخطاء (تُذكر كتحذيرات)',
    uploadButton: 'رفع وفحص',
    uploading: 'جارٍ فحص القائمة الرئيسية…',
    draftTitle: 'مسودة',
    draftSummary: 'الجولة {round}: {errors} أخطاء، {warnings} تحذيرات.',
    draftBlocked: 'فيها أخطاء ولا يمكن نشرها: صحّح القائمة الرئيسية وارفعها مجددًا.',
    draftReady: 'يمكن نشرها.',
    publish: 'نشر',
    discard: 'حذف المسودة',
    published: 'نُشر الإصدار {version} وهو المعروض الآن.',
    rolledBack: 'عاد الإصدار {version} ليكون المعروض.',
    discarded: 'حُذفت المسودة.',
    reportTitle: 'تقرير التحميل',
    reportEmpty: 'لم يُعثر على أي مشكلة.',
    diffTitle: 'التغييرات مقارنة بآخر جولة',
    previewTitle: 'معاينة أرقام المسودة',
    totalsTitle: 'المجاميع الوطنية',
    figure: 'الرقم',
    before: 'آخر جولة ({round})',
    beforeNone: 'آخر جولة',
    after: 'الجولة الجديدة ({round})',
    change: 'التغيّر',
    sitesWithFigures: 'المواقع التي لها أرقام: {after} (سابقًا: {before})',
    added: 'مواقع مضافة: {count}',
    gone: 'مواقع لم تعد موجودة: {count}',
    moved: 'مواقع تُحسب في منطقة غير منطقتها على الخريطة: {count}',
    movedRow: '{site}: {from} ← {to}',
    suspicious: 'إحداثيات مشكوك فيها',
    areasTitle: 'حسب المنطقة',
    area: 'المنطقة',
    increases: 'أكبر الزيادات',
    decreases: 'أكبر الانخفاضات',
    site: 'الموقع',
    draftsTitle: 'مسودات بانتظار النشر',
    noDrafts: 'لا توجد مسودة بانتظار النشر.',
    open: 'فتح',
    versionsTitle: 'الإصدارات المنشورة',
    noVersions: 'لم يُنشر شيء من هنا بعد.',
    version: 'الإصدار',
    when: 'الوقت',
    who: 'المستخدم',
    rounds: 'الجولات المضافة',
    totals: 'مجاميع آخر جولة',
    current: 'المعروض الآن',
    rollback: 'عرض هذا الإصدار مجددًا',
    initial: 'البيانات قبل أول نشر',
    auditTitle: 'سجل التدقيق',
    action: 'الإجراء',
    action_upload: 'رفع',
    action_publish: 'نشر',
    action_rollback: 'استرجاع',
    action_discard: 'حذف',
    action_login: 'دخول',
    action_login_failed: 'دخول فاشل',
    action_login_refused: 'دخول مرفوض',
    action_reload: 'إعادة تحميل',
    errorStatus: 'أجاب الخادم بخطأ ({status}).',
    errorNetwork: 'تعذّر الوصول إلى الخادم.',
    language: 'اللغة',
  },
  ckb: {
    adminTitle: 'بڵاوکردنەوە',
    mapLink: 'نەخشە',
    dashboard: 'داشبۆرد',
    logout: 'چوونەدەرەوە',
    loginTitle: 'چوونەژوورەوە',
    userName: 'ناوی بەکارهێنەر',
    password: 'وشەی نهێنی',
    logIn: 'چوونەژوورەوە',
    loggedInAs: 'بەکارهێنەر: {user}',
    loginFailed: 'ناوی بەکارهێنەر یان وشەی نهێنی هەڵەیە.',
    loginBlocked: 'هەوڵی شکستخواردووی زۆر. چەند خولەکێک چاوەڕێ بکە و دووبارە هەوڵ بدەوە.',
    uploadTitle: 'بارکردنی خولێکی نوێ',
    uploadHint: 'لیستی سەرەکی بە شێوەی ئێکسڵ یان دەقی جیاکراوە بە کۆما: ستوونی کۆدی شوێن، ستوونەکانی ژمارە، و بە دڵخوازی ستوونی ناوچە.',
    masterList: 'لیستی سەرەکی',
    roundId: 'کۆدی خول',
    roundLabel: 'ناونیشان',
    roundDate: 'بەروار',
    source: 'سەرچاوە',
    illustrative: 'ژمارەکان نموونەیین',
    skipBadRows: 'ڕیزە هەڵەدارەکان لاببە (وەک ئاگادارکردنەوە دەنووسرێن)',
    uploadButton: 'بارکردن و پشکنین',
    uploading: 'لیستی سەرەکی دەپشکنرێت…',
    draftTitle: 'ڕەشنووس',
    draftSummary: 'خولی {round}: {errors} هەڵە، {warnings} ئاگادارکردنەوە.',
    draftBlocked: 'هەڵەی تێدایە و بڵاو ناکرێتەوە: لیستی سەرەکی ڕاست بکەوە و دووبارە باری بکە.',
    draftReady: 'دەتوانرێت بڵاو بکرێتەوە.',
    publish: 'بڵاوکردنەوە',
    discard: 'سڕینەوەی ڕەشنووس',
    published: 'وەشانی {version} بڵاوکرایەوە و ئێستا پیشان دەدرێت.',
    rolledBack: 'وەشانی {version} دووبارە پیشان دەدرێتەوە.',
    discarded: 'ڕەشنووسەکە سڕایەوە.',
    reportTitle: 'ڕاپۆرتی بارکردن',
    reportEmpty: 'هیچ کێشەیەک نەدۆزرایەوە.',
    diffTitle: 'گۆڕانکارییەکان بەراورد بە دوایین خول',
    previewTitle: 'پێشبینینی ژمارەکانی ڕەشنووس',
    totalsTitle: 'کۆی گشتی نیشتمانی',
    figure: 'ژمارە',
    before: 'دوایین خول ({round})',
    beforeNone: 'دوایین خول',
    after: 'خولی نوێ ({round})',
    change: 'گۆڕان',
    sitesWithFigures: 'شوێنەکانی خاوەن ژمارە: {after} (پێشتر: {before})',
    added: 'شوێنی زیادکراو: {count}',
    gone: 'شوێنی نەماو: {count}',
    moved: 'شوێنەکان کە لە ناوچەیەکی تر دەژمێردرێن نەک ئەوەی سەر نەخشە: {count}',
    movedRow: '{site}: {from} ← {to}',
    suspicious: 'پۆتانی گوماناوی',
    areasTitle: 'بەپێی ناوچە',
    area: 'ناوچە',
    increases: 'گەورەترین زیادبوون',
    decreases: 'گەورەترین کەمبوونەوە',
    site: 'شوێن',
    draftsTitle: 'ڕەشنووسەکانی چاوەڕوان',
    noDrafts: 'هیچ ڕەشنووسێک چاوەڕوان نییە.',
    open: 'کردنەوە',
    versionsTitle: 'وەشانە بڵاوکراوەکان',
    noVersions: 'هێشتا هیچ شتێک لێرەوە بڵاو نەکراوەتەوە.',
    version: 'وەشان',
    when: 'کات',
    who: 'بەکارهێنەر',
    rounds: 'خولە زیادکراوەکان',
    totals: 'کۆی دوایین خول',
    current: 'ئێستا پیشان دەدرێت',
    rollback: 'دووبارە پیشاندانی ئەم وەشانە',
    initial: 'داتاکان پێش یەکەم بڵاوکردنەوە',
    auditTitle: 'تۆماری چاودێری',
    action: 'کردار',
    action_upload: 'بارکردن',
    action_publish: 'بڵاوکردنەوە',
    action_rollback: 'گەڕاندنەوە',
    action_discard: 'سڕینەوە',
    action_login: 'چوونەژوورەوە',
    action_login_failed: 'چوونەژوورەوەی شکستخواردوو',
    action_login_refused: 'چوونەژوورەوەی ڕەتکراوە',
    action_reload: 'بارکردنەوە',
    errorStatus: 'ڕاژەکار بە هەڵە وەڵامی دایەوە ({status}).',
    errorNetwork: 'ناگەینە ڕاژەکار.',
    language: 'زمان',
  },
});

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));
/** Data shown as it is (ids, names, file names): never translated, written left to right. */
const data = (text) => `<bdi class="data" dir="auto">${escape(text)}</bdi>`;
const num = (n) => (n === null || n === undefined ? '–' : `<bdi dir="ltr" class="num">${formatNumber(n)}</bdi>`);
const signed = (n) => `<bdi dir="ltr" class="num">${n > 0 ? '+' : n < 0 ? '−' : ''}${formatNumber(Math.abs(n))}</bdi>`;

const page = { csrf: null, draft: null, versions: null, drafts: null, audit: null, meta: {}, map: null };
window.dtmapAdmin = page;

async function request(path, { method = 'GET', body, json } = {}) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = page.csrf || '';
  if (json !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: json !== undefined ? JSON.stringify(json) : body, credentials: 'same-origin' });
  } catch {
    throw Object.assign(new Error('network'), { text: t('errorNetwork') });
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(answer.description || String(response.status)), {
      status: response.status, detail: answer.description || '', text: t('errorStatus', { status: formatNumber(response.status) }),
    });
  }
  return answer;
}

function showError(error) {
  const box = $('error');
  if (!error) { box.hidden = true; box.innerHTML = ''; return; }
  box.hidden = false;
  box.innerHTML = `${escape(error.text || error.message)}${error.detail ? ` <span class="data" lang="en" dir="ltr">${escape(error.detail)}</span>` : ''}`;
}

function say(text) {
  const box = $('error');
  box.hidden = false;
  box.className = 'status';
  box.textContent = text;
}

/** The label of a count column, from the collections' metadata. */
function label(column) {
  for (const meta of Object.values(page.meta)) {
    const text = inLanguage(meta?.countLabels?.[column]);
    if (text) return escape(text);
  }
  return data(column);
}

async function loadMeta(ids) {
  for (const id of ids) {
    if (id && !page.meta[id]) page.meta[id] = await request(`collections/${encodeURIComponent(id)}`).catch(() => null);
  }
}

function changeTable(rows, first, diff) {
  if (!rows?.length) return '';
  const before = diff.previousRound ? t('before', { round: diff.previousRound }) : t('beforeNone');
  return `<table class="admin-table"><thead><tr><th>${escape(first)}</th><th>${escape(before)}</th><th>${escape(t('after', { round: diff.round }))}</th><th>${t('change')}</th></tr></thead><tbody>${
    rows.map((r) => `<tr data-id="${escape(r.id)}"><td>${data(r.name || r.id)}</td><td>${num(r.before)}</td><td>${num(r.after)}</td><td>${signed(r.change)}</td></tr>`).join('')
  }</tbody></table>`;
}

function renderDiff(diff) {
  if (!diff) return '';
  const national = Object.keys(diff.nationalAreas || {}).length ? diff.nationalAreas : diff.national;
  const before = diff.previousRound ? t('before', { round: diff.previousRound }) : t('beforeNone');
  const totals = `<h4>${t('totalsTitle')}</h4><table id="diff-totals" class="admin-table"><thead><tr><th>${t('figure')}</th><th>${escape(before)}</th><th>${escape(t('after', { round: diff.round }))}</th><th>${t('change')}</th></tr></thead><tbody>${
    Object.entries(national).map(([column, [was, now]]) => `<tr data-column="${escape(column)}"><td>${label(column)}</td><td>${num(was)}</td><td>${num(now)}</td><td>${signed(now - was)}</td></tr>`).join('')
  }</tbody></table>`;
  const counts = `<ul class="diff-counts">
    <li id="diff-sites">${t('sitesWithFigures', { after: num(diff.sitesAfter), before: num(diff.sitesBefore) })}</li>
    <li id="diff-added">${t('added', { count: num(diff.addedCount) })} ${diff.added.map((c) => data(c.name || c.id)).join(', ')}</li>
    <li id="diff-gone">${t('gone', { count: num(diff.goneCount) })} ${diff.gone.map((c) => data(c.name || c.id)).join(', ')}</li>
    <li id="diff-moved">${t('moved', { count: num(diff.moved.length) })}<ul>${diff.moved.map((m) => `<li data-id="${escape(m.id)}">${t('movedRow', { site: data(m.id), from: data(m.from), to: data(m.to) })}</li>`).join('')}</ul></li>
  </ul>`;
  const suspicious = diff.suspiciousCoordinates.length
    ? `<h4>${t('suspicious')}</h4><ul>${diff.suspiciousCoordinates.map((line) => `<li class="data" lang="en" dir="ltr">${escape(line)}</li>`).join('')}</ul>` : '';
  const areas = diff.areas.length ? `<h4>${t('areasTitle')}</h4><div id="diff-areas">${changeTable(diff.areas, t('area'), diff)}</div>` : '';
  return `${totals}${counts}${areas}
    <div class="columns"><div><h4>${t('increases')}</h4><div id="diff-increases">${changeTable(diff.increases, t('site'), diff)}</div></div>
    <div><h4>${t('decreases')}</h4><div id="diff-decreases">${changeTable(diff.decreases, t('site'), diff)}</div></div></div>${suspicious}`;
}

async function renderDraft(draft) {
  page.draft = draft;
  $('draft').hidden = !draft;
  if (!draft) return;
  await loadMeta([draft.diff?.areaLayer, draft.layer]);
  $('draft-summary').innerHTML = `${t('draftSummary', { round: data(draft.round.round), errors: num(draft.errors), warnings: num(draft.warnings) })} ${
    draft.publishable ? t('draftReady') : t('draftBlocked')}`;
  $('publish').disabled = !draft.publishable;
  $('report').textContent = draft.report.text.trim() || t('reportEmpty');
  $('diff').innerHTML = renderDiff(draft.diff);
  await preview(draft);
}

async function preview(draft) {
  const [maplibregl, style, figures] = await Promise.all([
    import('./vendor/maplibre-gl.mjs'),
    request('styles/default.json'),
    request(`admin/drafts/${encodeURIComponent(draft.id)}/preview`),
  ]);
  const metric = draft.diff?.metric;
  // The basemap of the public style, without its data layers: the draft's figures instead.
  const dataSources = new Set(style.layers.filter((l) => l.source && l['source-layer'] && !/countries|rivers/.test(l['source-layer'])).map((l) => l.id));
  style.layers = style.layers.filter((l) => !dataSources.has(l.id));
  style.sources.draft = { type: 'geojson', data: figures };
  const value = ['coalesce', ['get', metric], 0];
  style.layers.push(
    { id: 'draft-areas', type: 'fill', source: 'draft', filter: ['==', ['get', 'kind'], 'area'],
      paint: { 'fill-color': ['interpolate', ['linear'], value, 0, '#ffffb2', 50000, '#fd8d3c', 400000, '#bd0026'], 'fill-opacity': 0.6, 'fill-outline-color': '#666' } },
    { id: 'draft-sites', type: 'circle', source: 'draft', filter: ['==', ['get', 'kind'], 'site'],
      paint: { 'circle-color': '#2171b5', 'circle-opacity': 0.8, 'circle-radius': ['interpolate', ['linear'], ['sqrt', value], 0, 2, 500, 14] } },
  );
  if (page.map) page.map.remove();
  page.map = new maplibregl.Map({ container: 'preview-map', style, bounds: boundsOf(figures), fitBoundsOptions: { padding: 20 }, attributionControl: false,
    locale: { 'Map.Title': t('previewTitle') },
  });
  page.figures = figures;
}

function boundsOf(collection) {
  let [w, s, e, n] = [180, 90, -180, -90];
  const visit = (c) => {
    if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); } else c.forEach(visit);
  };
  for (const f of collection.features) if (f.geometry) visit(f.geometry.coordinates);
  return w <= e ? [[w, s], [e, n]] : [[-180, -60], [180, 75]];
}

function renderDrafts() {
  const list = page.drafts?.drafts || [];
  $('drafts-list').innerHTML = list.length ? `<ul>${list.map((d) => `<li data-draft="${escape(d.id)}">${data(d.round)} ${data(d.fileName)} · ${data(d.user)} · ${
    t('draftSummary', { round: data(d.round), errors: num(d.errors), warnings: num(d.warnings) })} <button type="button" data-open="${escape(d.id)}">${t('open')}</button></li>`).join('')}</ul>`
    : `<p class="muted">${t('noDrafts')}</p>`;
}

function renderVersions() {
  const list = page.versions?.versions || [];
  $('versions-list').innerHTML = list.length ? `<table class="admin-table"><thead><tr><th>${t('version')}</th><th>${t('when')}</th><th>${t('who')}</th><th>${t('rounds')}</th><th>${t('totals')}</th><th></th></tr></thead><tbody>${
    list.map((v) => `<tr data-version="${v.number}"><td>${num(v.number)}${v.current ? ` <strong class="current">${t('current')}</strong>` : ''}</td><td>${data(v.createdAt)}</td><td>${data(v.user)}</td><td>${
      v.action === 'initial' ? t('initial') : v.rounds.map((r) => data(r.label || r.round)).join(', ')}</td><td>${
      Object.entries(v.totals?.values || {}).map(([c, n]) => `${label(c)}: ${num(n)}`).join('<br>')}</td><td>${
      v.current ? '' : `<button type="button" data-rollback="${v.number}">${t('rollback')}</button>`}</td></tr>`).join('')}</tbody></table>`
    : `<p class="muted">${t('noVersions')}</p>`;
}

function renderAudit() {
  const lines = page.audit?.lines || [];
  $('audit-list').innerHTML = `<table class="admin-table"><thead><tr><th>${t('when')}</th><th>${t('who')}</th><th>${t('action')}</th><th></th></tr></thead><tbody>${
    lines.slice(0, 50).map((l) => `<tr><td>${data(l.at)}</td><td>${data(l.user)}</td><td>${t(`action_${l.action}`)}</td><td>${
      data([l.round, l.version, l.draft].filter((x) => x !== undefined && x !== null).join(' '))}</td></tr>`).join('')}</tbody></table>`;
}

async function refresh() {
  [page.drafts, page.versions, page.audit] = await Promise.all([
    request('admin/drafts'), request('admin/versions'), request('admin/audit'),
  ]);
  await loadMeta([page.versions.versions[0]?.totals?.layer]);
  renderDrafts();
  renderVersions();
  renderAudit();
}

function loggedIn(user, csrf) {
  page.csrf = csrf;
  page.user = user;
  $('login').hidden = true;
  $('work').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').innerHTML = t('loggedInAs', { user: data(user) });
}

function rerender() {
  translatePage();
  if (page.user) $('who').innerHTML = t('loggedInAs', { user: data(page.user) });
  if (page.drafts) { renderDrafts(); renderVersions(); renderAudit(); }
  if (page.map) page.map.getCanvas().setAttribute('aria-label', t('previewTitle'));
  if (page.draft) {
    $('diff').innerHTML = renderDiff(page.draft.diff);
    $('draft-summary').innerHTML = `${t('draftSummary', { round: data(page.draft.round.round), errors: num(page.draft.errors), warnings: num(page.draft.warnings) })} ${
      page.draft.publishable ? t('draftReady') : t('draftBlocked')}`;
  }
}

async function act(work) {
  showError(null);
  $('error').className = 'error';
  try {
    await work();
  } catch (error) {
    showError(error);
  }
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  act(async () => {
    try {
      const answer = await request('admin/login', { method: 'POST', json: { user: $('user').value, password: $('password').value } });
      $('password').value = '';
      loggedIn(answer.user, answer.csrf);
      await refresh();
    } catch (error) {
      if (error.status === 401) error.text = t('loginFailed');
      if (error.status === 429) error.text = t('loginBlocked');
      if (error.status === 401 || error.status === 429) error.detail = '';
      throw error;
    }
  });
});

$('upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  act(async () => {
    const form = new FormData($('upload-form'));
    for (const key of [...form.keys()]) if (form.get(key) === '') form.delete(key);
    $('upload-button').disabled = true;
    say(t('uploading'));
    try {
      const draft = await request('admin/rounds', { method: 'POST', body: form });
      showError(null);
      await renderDraft(draft);
      await refresh();
    } finally {
      $('upload-button').disabled = false;
    }
  });
});

$('publish').addEventListener('click', () => act(async () => {
  const answer = await request(`admin/rounds/${encodeURIComponent(page.draft.id)}/publish`, { method: 'POST' });
  await renderDraft(null);
  await refresh();
  say(t('published', { version: formatNumber(answer.version) }));
}));

$('discard').addEventListener('click', () => act(async () => {
  await request(`admin/drafts/${encodeURIComponent(page.draft.id)}/discard`, { method: 'POST' });
  await renderDraft(null);
  await refresh();
  say(t('discarded'));
}));

document.addEventListener('click', (event) => {
  const target = event.target.closest('button[data-rollback], button[data-open]');
  if (!target) return;
  if (target.dataset.open) {
    act(async () => renderDraft(await request(`admin/drafts/${encodeURIComponent(target.dataset.open)}`)));
  } else {
    act(async () => {
      const answer = await request(`admin/rollback/${encodeURIComponent(target.dataset.rollback)}`, { method: 'POST' });
      await refresh();
      say(t('rolledBack', { version: formatNumber(answer.version) }));
    });
  }
});

$('logout').addEventListener('click', () => act(async () => {
  await request('admin/logout', { method: 'POST' });
  location.reload();
}));

$('lang').addEventListener('change', (event) => {
  setLang(event.target.value);
  const next = new URL(location.href);
  next.searchParams.set('lang', currentLang());
  history.replaceState(null, '', next);
  rerender();
});

setLang(params.get('lang'));
fillLanguageMenu($('lang'));
translatePage();
page.ready = (async () => {
  try {
    const session = await request('admin/session');
    loggedIn(session.user, session.csrf);
    await refresh();
  } catch {
    $('login').hidden = false;
  }
})();
