// The user interface's strings and the formatting of numbers and dates for the current
// language. The languages offered come from the server (the page's bootstrap element, from
// the config's [[language]] entries): their codes, names, writing direction, number locale
// and any interface strings the config gives. The client carries translations for English,
// Arabic and Kurdish (Sorani); a language it has none for shows the config's strings, then
// English. A right-to-left language switches the document's direction.

const CATALOGUES = {
  en: {
    provenance_published: 'Published',
    provenance_computed_from_published: 'Computed from published figures',
    provenance_illustrative: 'Illustrative',
    provenance_computed_from_illustrative: 'Computed from illustrative figures',
    provenanceTitle_published: 'A figure as published, with its source.',
    provenanceTitle_computed_from_published: 'Summed or counted from published figures only.',
    provenanceTitle_illustrative: 'Synthetic figures, for illustration only: not real counts.',
    provenanceTitle_computed_from_illustrative: 'Summed or counted from figures of which some are illustrative: not a real count.',
    overBreakdown: 'The total is published; its breakdown is illustrative.',
    changeIllustrative: 'not a real change: it involves illustrative figures',
    dataAsOf: 'Data as of {date}',
    disclaimer: 'The boundaries and names shown and the designations used on this map do not imply official endorsement or acceptance.',
    search: 'Search',
    searchPlaceholder: 'Search by name',
    noMatches: 'No match',
    round: 'Round',
    roundOf: 'Round {label}',
    metric: 'Count shown',
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
    site: 'Site',
    close: 'Close',
    acrossRounds: '{metric} across rounds',
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
    language: 'Language',
    sitesInName: 'Sites in {name}',
    showLegend: 'Show legend',
    hideLegend: 'Hide legend',
    zoomInMap: 'Zoom in',
    zoomOutMap: 'Zoom out',
    attribution: 'Toggle attribution',
    km: 'km',
    m: 'm',
    selfCrossing: 'The polygon crosses itself. Draw it again without crossing lines.',
    errorStatus: 'Something went wrong (error {status}). Please try again.',
    errorNetwork: 'The server could not be reached. Please try again.',
    pickArea: 'Sites in an area…',
    byCoordinates: 'Coordinates…',
    longitude: 'Longitude',
    latitude: 'Latitude',
    radiusKm: 'Radius (km)',
    findSites: 'Find sites',
    badCoordinates: 'Enter a longitude (−180 to 180), a latitude (−90 to 90) and a radius above 0.',
    downloadImage: 'Download image',
    print: 'Print',
    allRoundsCsv: 'All rounds (CSV)',
    allRoundsXlsx: 'All rounds (XLSX)',
    downloads: 'Downloads',
    disclaimer: 'The boundaries and names shown and the designations used on this map do not imply official endorsement or acceptance.',
    play: 'Play rounds',
    pause: 'Pause',
    resultsCount: '{n} results',
    markedSite: 'Selected site',
    querySites: 'Sites found',
    licence: 'Licence',
    latestRound: 'Latest round',
    allData: 'All data',
  },
  ar: {
    provenance_published: 'رقم منشور',
    provenance_computed_from_published: 'محسوب من أرقام منشورة',
    provenance_illustrative: 'بيانات توضيحية',
    provenance_computed_from_illustrative: 'محسوب من أرقام توضيحية',
    provenanceTitle_published: 'رقم كما نُشر، مع مصدره.',
    provenanceTitle_computed_from_published: 'مجموع أو عدد من أرقام منشورة فقط.',
    provenanceTitle_illustrative: 'أرقام اصطناعية للتوضيح فقط، وليست أعداداً حقيقية.',
    provenanceTitle_computed_from_illustrative: 'مجموع أو عدد من أرقام بعضها توضيحي: ليس عدداً حقيقياً.',
    overBreakdown: 'المجموع منشور؛ أما تفصيله فتوضيحي.',
    changeIllustrative: 'ليس تغيراً حقيقياً: يشمل أرقاماً توضيحية',
    dataAsOf: 'البيانات حتى {date}',
    disclaimer: 'لا تعني الحدود والأسماء المبيّنة والتسميات المستخدمة على هذه الخريطة أي تأييد أو قبول رسمي.',
    search: 'بحث',
    searchPlaceholder: 'ابحث بالاسم',
    noMatches: 'لا توجد نتائج',
    round: 'الجولة',
    roundOf: 'الجولة {label}',
    metric: 'العدد المعروض',
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
    site: 'الموقع',
    close: 'إغلاق',
    acrossRounds: '{metric} عبر الجولات',
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
    language: 'اللغة',
    sitesInName: 'المواقع في {name}',
    showLegend: 'إظهار مفتاح الخريطة',
    hideLegend: 'إخفاء مفتاح الخريطة',
    zoomInMap: 'تكبير',
    zoomOutMap: 'تصغير',
    attribution: 'إظهار المصادر أو إخفاؤها',
    km: 'كم',
    m: 'م',
    selfCrossing: 'المضلع يتقاطع مع نفسه. ارسمه مرة أخرى دون أن تتقاطع خطوطه.',
    errorStatus: 'حدث خطأ (رمز الخطأ {status}). يرجى المحاولة مرة أخرى.',
    errorNetwork: 'تعذّر الوصول إلى الخادم. يرجى المحاولة مرة أخرى.',
    pickArea: 'المواقع في منطقة…',
    byCoordinates: 'الإحداثيات…',
    longitude: 'خط الطول',
    latitude: 'خط العرض',
    radiusKm: 'نصف القطر (كم)',
    findSites: 'ابحث عن المواقع',
    badCoordinates: 'أدخل خط طول (من −180 إلى 180) وخط عرض (من −90 إلى 90) ونصف قطر أكبر من صفر.',
    downloadImage: 'تنزيل صورة',
    print: 'طباعة',
    allRoundsCsv: 'كل الجولات (CSV)',
    allRoundsXlsx: 'كل الجولات (XLSX)',
    downloads: 'التنزيلات',
    disclaimer: 'الحدود والأسماء المبيّنة والتسميات المستخدمة في هذه الخريطة لا تعني تأييداً أو قبولاً رسمياً.',
    play: 'تشغيل الجولات',
    pause: 'إيقاف مؤقت',
    resultsCount: '{n} نتيجة',
    markedSite: 'الموقع المحدد',
    querySites: 'المواقع التي عُثر عليها',
    licence: 'الترخيص',
    latestRound: 'أحدث جولة',
    allData: 'كل البيانات',
  },
  ckb: {
    provenance_published: 'ژمارەی بڵاوکراوە',
    provenance_computed_from_published: 'ژمێردراو لە ژمارە بڵاوکراوەکان',
    provenance_illustrative: 'داتای نموونەیی',
    provenance_computed_from_illustrative: 'ژمێردراو لە ژمارە نموونەییەکان',
    provenanceTitle_published: 'ژمارەیەک وەک بڵاوکراوەتەوە، لەگەڵ سەرچاوەکەی.',
    provenanceTitle_computed_from_published: 'کۆکراوە یان ژمێردراو تەنها لە ژمارە بڵاوکراوەکان.',
    provenanceTitle_illustrative: 'ژمارەی دەستکرد، تەنها بۆ نموونە: ژمارەی ڕاستەقینە نین.',
    provenanceTitle_computed_from_illustrative: 'کۆکراوە یان ژمێردراو لە ژمارانێک کە هەندێکیان نموونەیین: ژمارەی ڕاستەقینە نییە.',
    overBreakdown: 'کۆی گشتی بڵاوکراوەیە؛ دابەشکردنەکەی نموونەییە.',
    changeIllustrative: 'گۆڕانی ڕاستەقینە نییە: ژمارەی نموونەیی تێدایە',
    dataAsOf: 'داتا تا {date}',
    disclaimer: 'ئەو سنوور و ناوانەی لەم نەخشەیەدا پیشان دراون و ناونانە بەکارهاتووەکان مانای پشتگیری یان پەسەندکردنی فەرمی نییە.',
    search: 'گەڕان',
    searchPlaceholder: 'بە ناو بگەڕێ',
    noMatches: 'هیچ ئەنجامێک نییە',
    round: 'خول',
    roundOf: 'خولی {label}',
    metric: 'ژمارەی پیشاندراو',
    share: 'جێگیرکردن / هاوبەشکردن',
    map: 'نەخشە',
    queryTools: 'ئامرازەکانی پرسین',
    sitesWithin: 'شوێنەکان لەناو:',
    rectangle: 'لاکێشە',
    polygon: 'فرەگۆشە',
    circle: 'بازنە',
    finish: 'تەواوکردن',
    cancel: 'هەڵوەشاندنەوە',
    hintRectangle: 'کرتە لە گۆشەیەک بکە، پاشان لە گۆشەی بەرامبەر.',
    hintPolygon: 'کرتە لە هەر گۆشەیەک بکە؛ بۆ داخستن کرتە لە گۆشەی یەکەم بکە، دووجار کرتە بکە یان «تەواوکردن» دابگرە.',
    hintCircle: 'کرتە لە ناوەند بکە، پاشان لە خاڵێکی لێوار.',
    legendTitle: '{metric} بەپێی {admin}',
    noData: 'داتا نییە',
    sitesSized: 'شوێنەکان، قەبارە بەپێی {metric}',
    cluster: 'چەند شوێنێک (نزیک بکەرەوە)',
    nationalTotal: 'کۆی گشتی',
    change: 'گۆڕان بەراورد بە {round}',
    firstRound: 'خولی یەکەم: هیچ ژمارەیەکی پێشوو نییە',
    illustrative: 'داتای نموونەیی',
    illustrativeTitle: 'ژمارەی دەستکرد، تەنها بۆ نموونە: ژمارەی ڕاستەقینە نین.',
    published: 'ژمارەی بڵاوکراوە',
    source: 'سەرچاوە',
    site: 'شوێن',
    close: 'داخستن',
    acrossRounds: '{metric} بە درێژایی خولەکان',
    area: 'ناوچە',
    noDataLayer: 'ڕاژەکار هیچ چینێکی ژمارەداری نییە بۆ نەخشە.',
    results: 'شوێنەکان لە ناوچەکەدا',
    resultsArea: 'شوێنەکان لە {name}',
    resultsCircle: 'شوێنەکان لە ماوەی {km} کیلۆمەتر',
    sites: 'شوێنەکان',
    name: 'ناو',
    totals: 'کۆکان',
    downloadGeoJSON: 'داگرتنی GeoJSON',
    downloadCSV: 'داگرتنی CSV',
    clear: 'پاککردنەوە',
    loading: 'بارکردن…',
    error: 'هەڵەیەک ڕوویدا: {message}',
    noSites: 'هیچ شوێنێک لەم ناوچەیەدا نییە.',
    shareTitle: 'ئەم نەخشەیە جێگیر بکە یان هاوبەشی بکە',
    shareIntro: 'دیمەنی ئێستا، خول و زمان لەم بەستەرانەدا دەپارێزرێن.',
    iframeCode: 'کۆدی جێگیرکردن (iframe)',
    pageLink: 'بەستەر بۆ ئەم دیمەنە',
    forOtherMaps: 'بۆ کتێبخانەکانی تری نەخشە',
    styleUrl: 'شێوازی MapLibre',
    tileJSON: 'TileJSON (خانەی ڤێکتەری)',
    geojsonAreas: 'ناوچەکان (GeoJSON)',
    geojsonSites: 'شوێنەکان (GeoJSON)',
    copy: 'لەبەرگرتنەوە',
    copied: 'لەبەرگیرایەوە',
    openFull: 'کردنەوەی نەخشەی تەواو',
    zoomIn: 'بۆ بینینی شوێنەکان نزیک بکەرەوە',
    people: '{n} کەس',
    dashboard: 'داشبۆرد',
    datasets: 'کۆمەڵە داتاکان',
    language: 'زمان',
    sitesInName: 'شوێنەکان لە {name}',
    showLegend: 'پیشاندانی ڕێبەری نەخشە',
    hideLegend: 'شاردنەوەی ڕێبەری نەخشە',
    zoomInMap: 'نزیککردنەوە',
    zoomOutMap: 'دوورخستنەوە',
    attribution: 'پیشاندان یان شاردنەوەی سەرچاوەکان',
    km: 'کم',
    m: 'م',
    selfCrossing: 'فرەگۆشەکە خۆی دەبڕێت. دووبارە بیکێشەوە بەبێ ئەوەی هێڵەکانی یەکتر ببڕن.',
    errorStatus: 'هەڵەیەک ڕوویدا (کۆدی هەڵە {status}). تکایە دووبارە هەوڵ بدەرەوە.',
    errorNetwork: 'ناتوانرێت بگات بە ڕاژەکار. تکایە دووبارە هەوڵ بدەرەوە.',
    pickArea: 'شوێنەکان لە ناوچەیەکدا…',
    byCoordinates: 'کۆئۆردیناتەکان…',
    longitude: 'هێڵی درێژی',
    latitude: 'هێڵی پانی',
    radiusKm: 'نیوەتیرە (کم)',
    findSites: 'شوێنەکان بدۆزەرەوە',
    badCoordinates: 'هێڵی درێژی (−180 تا 180)، هێڵی پانی (−90 تا 90) و نیوەتیرەیەکی سەرووی سفر بنووسە.',
    downloadImage: 'داگرتنی وێنە',
    print: 'چاپکردن',
    allRoundsCsv: 'هەموو خولەکان (CSV)',
    allRoundsXlsx: 'هەموو خولەکان (XLSX)',
    downloads: 'داگرتنەکان',
    disclaimer: 'سنوور و ناوەکانی پیشاندراو و ناونانەکانی ئەم نەخشەیە مانای پشتگیری یان پەسەندکردنی فەرمی نییە.',
    play: 'لێدانی خولەکان',
    pause: 'وەستاندن',
    resultsCount: '{n} ئەنجام',
    markedSite: 'شوێنی هەڵبژێردراو',
    querySites: 'شوێنە دۆزراوەکان',
    licence: 'مۆڵەت',
    latestRound: 'دوایین خول',
    allData: 'هەموو داتاکان',
  },
};

/** The page's bootstrap: `{title, languages: [{code, name, dir, locale, fallback, strings}]}`. */
function readBootstrap() {
  try {
    return JSON.parse(document.getElementById('dtmap-bootstrap')?.textContent || '{}');
  } catch {
    return {};
  }
}

const BOOTSTRAP = readBootstrap();

/** The collections' metadata the map pages come with (as `/collections` gives it), if any. */
export const PAGE_COLLECTIONS = Array.isArray(BOOTSTRAP.collections) ? BOOTSTRAP.collections : null;

/** The languages offered, in menu order; the first is the default. */
export const LANGUAGES = BOOTSTRAP.languages?.length
  ? BOOTSTRAP.languages
  : [{ code: 'en', dir: 'ltr', locale: 'en' }];

export const DEFAULT_LANG = LANGUAGES[0].code;

let lang = DEFAULT_LANG;

/** Adds a module's own strings (e.g. the dashboard's), by language code. */
export function addStrings(catalogues) {
  for (const [code, strings] of Object.entries(catalogues)) {
    CATALOGUES[code] = { ...(CATALOGUES[code] || {}), ...strings };
  }
}

export function currentLang() {
  return lang;
}

/** The language entry of `code` (the current language by default). */
export function languageOf(code = lang) {
  return LANGUAGES.find((l) => l.code === code) || LANGUAGES[0];
}

/** The language and the ones standing in for it, in order: `ckb`, then its fallback `ar`. */
export function languageChain(code = lang) {
  const chain = [];
  for (let l = languageOf(code); l && !chain.includes(l.code); l = l.fallback && LANGUAGES.find((x) => x.code === l.fallback)) {
    chain.push(l.code);
  }
  return chain;
}

/** A text given per language (a layer's word or label) in the current language, or the
 * one standing in for it, else English; null when there is none. */
export function inLanguage(texts) {
  for (const code of [...languageChain(), 'en']) if (texts?.[code]) return texts[code];
  return null;
}

/** A language's name in itself: the configured one, else the browser's. */
export function languageName(entry) {
  if (entry.name) return entry.name;
  try {
    const name = new Intl.DisplayNames([entry.code], { type: 'language' }).of(entry.code);
    if (name && name !== entry.code) return name;
  } catch { /* an unknown code */ }
  return entry.code;
}

/** Fills a <select> with the languages (hidden when there is only one). */
export function fillLanguageMenu(select) {
  if (!select) return;
  select.innerHTML = '';
  for (const entry of LANGUAGES) {
    const option = document.createElement('option');
    option.value = entry.code;
    option.lang = entry.code;
    option.dir = entry.dir || 'auto';
    option.textContent = languageName(entry);
    select.append(option);
  }
  select.value = lang;
  select.hidden = LANGUAGES.length < 2;
}

/** The language a page parameter asks for, when it is offered; else the default. */
export function pickLang(asked) {
  const wanted = String(asked || '').toLowerCase();
  return (LANGUAGES.find((l) => l.code.toLowerCase() === wanted) || LANGUAGES[0]).code;
}

export function setLang(next) {
  lang = pickLang(next);
  document.documentElement.lang = lang;
  document.documentElement.dir = languageOf(lang).dir === 'rtl' ? 'rtl' : 'ltr';
  const menu = document.getElementById('lang');
  if (menu?.tagName === 'SELECT') menu.value = lang;
  return lang;
}

/** The string `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const entry = languageOf(lang);
  const primary = lang.split('-')[0];
  const text = entry.strings?.[key] ?? CATALOGUES[lang]?.[key] ?? CATALOGUES[primary]?.[key]
    ?? CATALOGUES.en[key] ?? key;
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

const supported = (tag) => {
  try {
    return tag && Intl.NumberFormat.supportedLocalesOf([tag]).length > 0;
  } catch {
    return false;
  }
};

/** The locale numbers are written in: the language's configured one when the browser knows
 * it, else its code, else English. */
const locale = () => {
  const entry = languageOf(lang);
  return [entry.locale, entry.code].find(supported) || 'en';
};

/** The locale dates are written in when the browser has the language's own (its locale,
 * e.g. fr-CA, else its code); null when it has not, and dates are then numeric so no
 * other language's month names appear. */
const dateLocale = () => {
  const entry = languageOf(lang);
  const primary = (tag) => String(tag || '').split('-')[0].toLowerCase();
  return [entry.locale, entry.code]
    .find((tag) => primary(tag) === primary(lang) && supported(tag)) || null;
};

/** A count in the digits of the current language. */
export function formatNumber(n) {
  return n == null ? '–' : new Intl.NumberFormat(locale()).format(n);
}

const PROVENANCE_CLASS = {
  published: 'published',
  computed_from_published: 'computed',
  illustrative: 'synthetic',
  computed_from_illustrative: 'synthetic computed',
};

/** A badge saying where a figure comes from (`published`, `computed_from_published`,
 * `illustrative`, `computed_from_illustrative`: the server's word for it), with the
 * explanation as its title. */
export function provenanceBadge(provenance) {
  if (!PROVENANCE_CLASS[provenance]) return '';
  const esc = (x) => String(x).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  return `<span class="badge ${PROVENANCE_CLASS[provenance]}" data-provenance="${provenance}" title="${esc(t(`provenanceTitle_${provenance}`))}">${esc(t(`provenance_${provenance}`))}</span>`;
}

/** Whether a provenance rests on illustrative figures. */
export const isIllustrative = (provenance) => String(provenance || '').endsWith('illustrative');

/** A share (0..1) as a percentage in the current language. */
export function formatPercent(share) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(share);
}

/** Marks that would reorder numbers in right-to-left text (Intl writes them in Arabic). */
const stripMarks = (text) => text.replace(/[\u061c\u200e\u200f]/g, '');

/** Left-to-right marks keep a figure's pieces in written order inside any paragraph. */
const LRM = '\u200e';

/** A signed change, e.g. "+1,234 (+5.2%)", whose pieces keep their order in right-to-left
 * text: each piece is fenced by left-to-right marks (show it in an ltr isolate). */
export function formatChange(now, before) {
  const diff = now - before;
  const sign = diff > 0 ? '+' : diff < 0 ? '\u2212' : '±';
  const abs = stripMarks(new Intl.NumberFormat(locale()).format(Math.abs(diff)));
  if (!before) return `${LRM}${sign}${abs}${LRM}`;
  const pct = stripMarks(new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 })
    .format(Math.abs(diff / before)));
  return `${LRM}${sign}${abs}${LRM} ${LRM}(${sign}${pct})${LRM}`;
}

/** A signed number (e.g. a class bound) whose minus stays before its digits. */
export function formatSigned(n) {
  if (n == null) return '–';
  const text = stripMarks(new Intl.NumberFormat(locale()).format(Math.abs(n)));
  return `${LRM}${n < 0 ? '\u2212' : ''}${text}${LRM}`;
}

/** The digits in `text` written in the current language's digits (e.g. round labels). */
export function localDigits(text) {
  const format = new Intl.NumberFormat(locale(), { useGrouping: false });
  return String(text ?? '').replace(/\d+/g, (d) => stripMarks(format.format(Number(d))));
}

/** A round's date (YYYY-MM-DD) as the current language writes it. */
export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  const own = dateLocale();
  const style = own
    ? { year: 'numeric', month: 'short', day: 'numeric' }
    : { year: 'numeric', month: '2-digit', day: '2-digit' };
  return new Intl.DateTimeFormat(own || locale(), { ...style, timeZone: 'UTC' }).format(date);
}

/** How a round is named: its date, and its label (e.g. DTM round number) when it has one. */
export function roundName(round) {
  if (!round) return '';
  const date = round.date ? formatDate(round.date) : round.id;
  return round.label ? `${date} · ${t('roundOf', { label: localDigits(round.label) })}` : date;
}

/** Folds case, accents, Arabic diacritics and letter variants, apostrophes and ayn/hamza
 * signs (ʿ ‘ ’ ' ʾ), for searching names. */
export function fold(text) {
  return String(text || '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f\u064b-\u065f\u0670\u0640]/g, '')
    .toLowerCase()
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/ة/g, 'ه')
    .replace(/[ىی]/g, 'ي')
    .replace(/ک/g, 'ك')
    .replace(/['’‘ʿʾʻʼ`´ʹ]/g, '')
    .replace(/[-_.,;:()/]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
