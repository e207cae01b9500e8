// Every string of the user interface, in English and Arabic, and the formatting of numbers
// and dates for the current language. Arabic switches the document to right-to-left.

const STRINGS = {
  en: {
    title: 'Displacement in Iraq',
    otherLanguage: 'العربية',
    search: 'Search',
    searchPlaceholder: 'Search by name',
    noMatches: 'No match',
    round: 'Round',
    roundOf: 'Round {label}',
    metric: 'Count shown',
    individuals: 'Individuals',
    families: 'Families',
    idp_individuals: 'IDP individuals',
    idp_families: 'IDP families',
    share: 'Embed / share',
    map: 'Map',
    queryTools: 'Query tools',
    sitesWithin: 'Sites within:',
    rectangle: 'Rectangle',
    polygon: 'Polygon',
    circle: 'Circle',
    finish: 'Finish',
    cancel: 'Cancel',
    hintRectangle: 'Click one corner, then the opposite corner.',
    hintPolygon: 'Click each corner; click the first corner, double-click or press Finish to close.',
    hintCircle: 'Click the centre, then a point on the edge.',
    legendTitle: '{metric} by {admin}',
    noData: 'No data',
    sitesSized: 'Sites, sized by {metric}',
    cluster: 'Several sites (zoom in)',
    nationalTotal: 'Total',
    change: 'Change since {round}',
    firstRound: 'First round: no earlier figure',
    illustrative: 'Illustrative data',
    illustrativeTitle: 'Synthetic figures, for illustration only: not real counts.',
    published: 'Published figure',
    source: 'Source',
    governorate: 'Governorate',
    site: 'Site',
    close: 'Close',
    acrossRounds: '{metric} across rounds',
    sitesInArea: 'Sites in this {admin}',
    area: 'Area',
    noDataLayer: 'The server has no layer with counts to map.',
    results: 'Sites in the area',
    resultsArea: 'Sites in {name}',
    resultsCircle: 'Sites within {km} km',
    sites: 'Sites',
    name: 'Name',
    totals: 'Totals',
    downloadGeoJSON: 'Download GeoJSON',
    downloadCSV: 'Download CSV',
    clear: 'Clear',
    loading: 'Loading…',
    error: 'Something went wrong: {message}',
    noSites: 'No site in this area.',
    shareTitle: 'Embed or share this map',
    shareIntro: 'The current view, round and language are kept in these links.',
    iframeCode: 'Embed code (iframe)',
    pageLink: 'Link to this view',
    forOtherMaps: 'For other map libraries',
    styleUrl: 'MapLibre style',
    tileJSON: 'TileJSON (vector tiles)',
    geojsonAreas: 'Areas (GeoJSON)',
    geojsonSites: 'Sites (GeoJSON)',
    copy: 'Copy',
    copied: 'Copied',
    openFull: 'Open the full map',
    zoomIn: 'Zoom in to see the sites',
    people: '{n} people',
    dashboard: 'Dashboard',
    datasets: 'Datasets',
  },
  ar: {
    title: 'النزوح في العراق',
    otherLanguage: 'English',
    search: 'بحث',
    searchPlaceholder: 'ابحث بالاسم',
    noMatches: 'لا توجد نتائج',
    round: 'الجولة',
    roundOf: 'الجولة {label}',
    metric: 'العدد المعروض',
    individuals: 'الأفراد',
    families: 'الأسر',
    idp_individuals: 'الأفراد النازحون',
    idp_families: 'الأسر النازحة',
    share: 'تضمين / مشاركة',
    map: 'الخريطة',
    queryTools: 'أدوات الاستعلام',
    sitesWithin: 'المواقع داخل:',
    rectangle: 'مستطيل',
    polygon: 'مضلع',
    circle: 'دائرة',
    finish: 'إنهاء',
    cancel: 'إلغاء',
    hintRectangle: 'انقر على زاوية، ثم على الزاوية المقابلة.',
    hintPolygon: 'انقر على كل زاوية؛ انقر على الزاوية الأولى أو انقر مرتين أو اضغط «إنهاء» للإغلاق.',
    hintCircle: 'انقر على المركز، ثم على نقطة على الحافة.',
    legendTitle: '{metric} حسب {admin}',
    noData: 'لا توجد بيانات',
    sitesSized: 'المواقع، بحجم يتناسب مع {metric}',
    cluster: 'عدة مواقع (قرّب الخريطة)',
    nationalTotal: 'المجموع',
    change: 'التغير منذ {round}',
    firstRound: 'الجولة الأولى: لا يوجد رقم سابق',
    illustrative: 'بيانات توضيحية',
    illustrativeTitle: 'أرقام اصطناعية للتوضيح فقط، وليست أعداداً حقيقية.',
    published: 'رقم منشور',
    source: 'المصدر',
    governorate: 'المحافظة',
    site: 'الموقع',
    close: 'إغلاق',
    acrossRounds: '{metric} عبر الجولات',
    sitesInArea: 'المواقع في هذه {admin}',
    area: 'المنطقة',
    noDataLayer: 'لا توجد على الخادم طبقة بأعداد لعرضها على الخريطة.',
    results: 'المواقع في المنطقة',
    resultsArea: 'المواقع في {name}',
    resultsCircle: 'المواقع ضمن {km} كم',
    sites: 'المواقع',
    name: 'الاسم',
    totals: 'المجاميع',
    downloadGeoJSON: 'تنزيل GeoJSON',
    downloadCSV: 'تنزيل CSV',
    clear: 'مسح',
    loading: 'جارٍ التحميل…',
    error: 'حدث خطأ: {message}',
    noSites: 'لا توجد مواقع في هذه المنطقة.',
    shareTitle: 'تضمين هذه الخريطة أو مشاركتها',
    shareIntro: 'تحتفظ هذه الروابط بالعرض الحالي والجولة واللغة.',
    iframeCode: 'رمز التضمين (iframe)',
    pageLink: 'رابط هذا العرض',
    forOtherMaps: 'لمكتبات الخرائط الأخرى',
    styleUrl: 'نمط MapLibre',
    tileJSON: 'TileJSON (بلاطات متجهية)',
    geojsonAreas: 'المناطق (GeoJSON)',
    geojsonSites: 'المواقع (GeoJSON)',
    copy: 'نسخ',
    copied: 'تم النسخ',
    openFull: 'فتح الخريطة الكاملة',
    zoomIn: 'قرّب الخريطة لرؤية المواقع',
    people: '{n} شخص',
    dashboard: 'لوحة المعلومات',
    datasets: 'مجموعات البيانات',
  },
};

export const LANGUAGES = Object.keys(STRINGS);

let lang = 'en';

export function currentLang() {
  return lang;
}

/** Sets the language and the document's direction; returns the language in force. */
export function setLang(next) {
  lang = STRINGS[next] ? next : 'en';
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
  return lang;
}

/** The string `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Fills every element marked with data-i18n (text), -placeholder and -aria (aria-label). */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
}

const locale = () => (lang === 'ar' ? 'ar-IQ' : 'en-GB');

/** A count in the digits of the current language. */
export function formatNumber(n) {
  return n == null ? '–' : new Intl.NumberFormat(locale()).format(n);
}

/** A signed change, e.g. "+1,234 (+5.2%)". */
export function formatChange(now, before) {
  const diff = now - before;
  const sign = diff > 0 ? '+' : diff < 0 ? '−' : '±';
  const abs = new Intl.NumberFormat(locale()).format(Math.abs(diff));
  if (!before) return `${sign}${abs}`;
  const pct = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(
    Math.abs((diff / before) * 100),
  );
  return `${sign}${abs} (${sign}${pct}%)`;
}

/** A round's date (YYYY-MM-DD) as the current language writes it. */
export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC',
  }).format(date);
}

/** How a round is named: its date, and its label (e.g. DTM round number) when it has one. */
export function roundName(round) {
  if (!round) return '';
  const date = round.date ? formatDate(round.date) : round.id;
  return round.label ? `${date} · ${t('roundOf', { label: round.label })}` : date;
}

/** Folds case, accents, Arabic diacritics and letter variants, for searching names. */
export function fold(text) {
  return (text || '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f\u064b-\u065f\u0670\u0640]/g, '')
    .toLowerCase()
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/ة/g, 'ه')
    .replace(/ى/g, 'ي')
    .replace(/['’ʿʾ`-]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
