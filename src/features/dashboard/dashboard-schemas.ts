// The answers of the dashboard and recovery-rate routes, as JSON Schemas (the OpenAPI document and
// the suite's response check use them). Mirrors dashboard-service.ts, recovery-rates.ts and county-map.ts.
import { COUNTY_CODE, arr, bool, date, dateTime, enumOf, int, nullable, obj, str, uuid, type JsonSchema } from '../../shared/schemas/builders.js';
import { COHORT_DAYS } from '../recovery-rates/aggregation-job.js';
import { RATE_DIMENSIONS } from '../recovery-rates/recovery-rates.js';

export const MONTH = str({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM', examples: ['2026-03'] });
const num = (description: string): JsonSchema => ({ type: 'number', description });
export const PCT = nullable(num('Percent with one decimal; null when there is no base'));
export const UNITS = (description: string): JsonSchema => int({ min: 0, description: `${description} (containers)` });

export const RANGE = obj({
  from: MONTH, to: MONTH,
  days: { type: 'integer', enum: [...COHORT_DAYS], description: 'N of the cohort rate: returned within N days of the sale' },
  asOfDay: date('The county business day the figures are as of; cohorts are counted complete from it'),
});

export const DEFINITIONS = arr(obj({
  key: enumOf(['cohort', 'period', 'mass']),
  label_zh: str(), label_en: str(), definition_zh: str(), definition_en: str(),
}), {});

export const RATE_PROPS = {
  key: str({ description: 'The id of what the row is about: county code, township, shop or product id, or the manufacturer\'s name' }),
  name: str(),
  soldUnits: UNITS('Sold with deposit'),
  returnedUnits: UNITS('Returned'),
  soldKg: num('Packaging mass sold, kg'),
  returnedKg: num('Packaging mass returned, kg'),
  cohortSoldUnits: UNITS('Cohort base: sold in months complete for N days'),
  cohortReturnedUnits: UNITS('Of the cohort base, returned within N days'),
  periodRatePct: PCT, cohortRatePct: PCT, massRatePct: PCT,
} satisfies Record<string, JsonSchema>;
export const RATE_ROW = obj(RATE_PROPS);

export const TREND = arr(obj({
  month: MONTH,
  soldUnits: UNITS('Sold with deposit'),
  returnedUnits: UNITS('Returned'),
  periodRatePct: PCT, cohortRatePct: PCT,
  cohortComplete: bool('Whether N days have passed since the month\'s end (the cohort rate is null until then)'),
  massRatePct: PCT,
}));

export const TILES = obj({
  cohortRatePct: PCT, periodRatePct: PCT, massRatePct: PCT,
  soldUnits: UNITS('Sold with deposit in the range'),
  returnedUnits: UNITS('Returned in the range'),
  depositsOutstandingFen: int({ description: 'Deposits not yet refunded or expired, fen' }),
  unredeemedFen: int({ description: 'Expired deposits never redeemed, fen' }),
  containersAwaitingPickup: UNITS('At shops, loose or bagged'),
  bagsAwaitingPickup: int({ min: 0 }),
  openDiscrepancies: int({ min: 0 }),
});

export const FUNNEL = obj({
  scope: enumOf(['period']),
  from: MONTH, to: MONTH,
  stages: arr(obj({
    key: enumOf(['sold', 'returned', 'hauled', 'disposed']),
    containers: UNITS('At this stage'),
    kg: num('Packaging mass, kg'),
    bags: nullable(int({ min: 0, description: 'Bags (custody stages only)' })),
    exceedsPrevious: bool('More than the stage before (explained on the page: returns of earlier sales, hauls of earlier returns)'),
  })),
});

export const COUNTY_DASHBOARD = obj({
  county: obj({ id: COUNTY_CODE, nameZh: str(), nameEn: str(), timeZone: str({ examples: ['Asia/Shanghai'] }), prefectureZh: str(), provinceCode: COUNTY_CODE }),
  range: RANGE,
  definitions: DEFINITIONS,
  tiles: TILES,
  trend: TREND,
  funnel: FUNNEL,
  rankings: obj({ products: arr(RATE_ROW), manufacturers: arr(RATE_ROW), townships: arr(RATE_ROW) }),
  reconciliation: obj({
    period: MONTH,
    run: nullable(obj({
      id: uuid(), period: str(), asOf: dateTime(), runAt: dateTime(), trigger: enumOf(['api', 'scheduled']),
      exceptionCount: int({ min: 0 }), errorCount: int({ min: 0 }),
      recordsSince: bool('Records of the period arrived after the run: run it again'),
    })),
  }),
});

export const SHOP_FLAGS = ['returns_above_sales', 'overdue_pickup', 'likely_counterfeit', 'refunds_held'] as const;

export const SHOP_ROW = obj({
  ...RATE_PROPS,
  township: str(),
  positionFen: int({ description: 'What the shop owes the scheme (negative: is owed), fen' }),
  containersAtShop: UNITS('At the shop, loose or bagged'),
  bagsAwaitingPickup: int({ min: 0 }),
  overdueBags: int({ min: 0 }),
  flags: arr(enumOf(SHOP_FLAGS)),
});

export const PROVINCE_COUNTY_PROPS = {
  countyId: COUNTY_CODE, nameZh: str(), nameEn: str(),
  soldUnits: UNITS('Sold with deposit'), returnedUnits: UNITS('Returned'),
  periodRatePct: PCT, cohortRatePct: PCT, massRatePct: PCT,
  depositsOutstandingFen: int(),
} satisfies Record<string, JsonSchema>;

export const SHOP_TABLE = obj({ range: RANGE, definitions: DEFINITIONS, shops: arr(SHOP_ROW) });

export const SHOP_DETAIL = obj({
  shop: obj({ id: uuid(), name: str(), township: str(), licenceNo: str() }),
  range: RANGE,
  definitions: DEFINITIONS,
  timeZone: str({ examples: ['Asia/Shanghai'] }),
  returnsWindow: obj({ fromDay: date(), toDay: date() }),
  positionFen: int({ description: 'What the shop owes the scheme (negative: is owed), fen' }),
  trend: TREND,
  products: arr(RATE_ROW),
  recentReturns: arr(obj({
    id: uuid(), eventTime: dateTime(),
    refundFen: int({ min: 0, description: 'Deposits refunded by the return (and the untracked policy\'s refunds), fen; buy-back is not in it' }),
    buybackFen: int({ min: 0, description: 'Buy-back the return paid from the county incentive fund, fen' }),
    accepted: UNITS('Accepted'),
    returner: nullable(str({ description: 'The farmer\'s phone, masked (+86 174****0777)' })),
  }), { max: 20 }),
});

export const PROVINCE_DASHBOARD = obj({
  provinceCode: COUNTY_CODE,
  range: RANGE,
  definitions: DEFINITIONS,
  trend: TREND,
  counties: arr(obj(PROVINCE_COUNTY_PROPS)),
});

export const RUN_EXCEPTIONS_PAGE = obj({
  runId: uuid(),
  period: str(),
  total: int({ min: 0 }), offset: int({ min: 0 }), limit: int({ min: 1, max: 200 }),
  groupBy: enumOf(['none', 'kind', 'shop']),
  groups: arr(obj({ key: nullable(str({ description: 'The kind, or the shop id (null: no shop)' })), count: int({ min: 0 }) })),
  items: arr(obj({
    no: int({ min: 1 }), kind: str(), severity: enumOf(['error', 'warning', 'info']), book: enumOf(['money', 'units', 'custody']),
    shopId: nullable(uuid()), shopName: nullable(str()),
    reasonZh: str(), reasonEn: str(), messageZh: str(), messageEn: str(),
    records: int({ min: 0, description: 'How many records are behind the exception' }),
  })),
});

const POSITION: JsonSchema = { type: 'array', items: { type: 'number' }, minItems: 2 };
export const FEATURE_COLLECTION = obj({
  type: enumOf(['FeatureCollection']),
  features: arr(obj({
    type: enumOf(['Feature']),
    properties: obj({
      name: str({ description: 'The GB/T 2260 code when matched, else "prefecture/county"' }),
      label: str(),
      code: nullable(COUNTY_CODE),
      prefecture: str(),
    }),
    geometry: obj({
      type: enumOf(['Polygon', 'MultiPolygon']),
      coordinates: {
        description: 'GeoJSON coordinates: rings of [longitude, latitude] (Polygon), or polygons of them (MultiPolygon)',
        anyOf: [arr(arr(POSITION)), arr(arr(arr(POSITION)))],
      },
    }),
  })),
  unmatched: arr(COUNTY_CODE),
}, [], { description: 'GeoJSON (RFC 7946)' });

export const RECOVERY_RATES = obj({
  range: RANGE,
  by: enumOf(RATE_DIMENSIONS),
  definitions: DEFINITIONS,
  rows: arr(RATE_ROW),
});

export const RECOVERY_REFRESH = obj({
  countyId: COUNTY_CODE,
  monthsRebuilt: arr(MONTH),
  watermark: dateTime('Records stored up to here are in the aggregates'),
});

const SIGNED = (description: string): JsonSchema => int({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, description });
const PER_YUAN = (what: string): JsonSchema => nullable(num(`Containers recovered per yuan of ${what}, two decimals; null when nothing was spent`));

/** What each incentive cost and brought back (src/features/dashboard/incentive-costs.ts, docs/incentives.md). */
export const INCENTIVE_COSTS = obj({
  range: RANGE,
  by: enumOf(['county', 'township', 'shop']),
  fund: obj({
    balanceFen: SIGNED('Money left in the county incentive fund now, in fen'),
    allocatedFen: SIGNED('Allocated to the fund in all, in fen'),
    paidFen: SIGNED('Buy-back paid out of the fund in all, in fen'),
    year: int({ min: 1900, max: 2999, description: 'The year of the range\'s last month' }),
    allocatedThisYearFen: SIGNED('Allocated for that budget year, in fen'),
    paidThisYearFen: SIGNED('Buy-back paid in that calendar year, in fen'),
  }),
  shopBuybackCapFen: nullable(int({ min: 0, description: 'The county\'s yearly buy-back cap per shop, in fen; null: no cap' })),
  rows: arr(obj({
    key: str(), name: str(), township: nullable(str()),
    depositRefundsFen: SIGNED('Deposit refunds paid in the period (refunds, late and policy refunds, held refunds paid, counter differences), in fen'),
    buybackFen: SIGNED('Buy-back paid out of the incentive fund in the period, in fen'),
    pointsIssuedMilli: SIGNED('Points earned by farmers in the period, thousandths of a point'),
    pointsRedeemedMilli: SIGNED('Points redeemed for goods in the period, thousandths of a point'),
    pointsRedeemedGoodsFen: SIGNED('Value of the goods shops gave for points in the period, in fen'),
    containersRecovered: UNITS('Containers accepted in the period, whatever the incentive'),
    depositContainers: UNITS('Containers whose deposit was refunded'),
    buybackContainers: UNITS('Containers that got buy-back'),
    pointsContainers: UNITS('Containers that earned points'),
    incentiveContainers: UNITS('Containers that got buy-back, points or both (each once)'),
    noIncentiveContainers: UNITS('Containers accepted with nothing due'),
    incentiveSpendFen: SIGNED('Buy-back plus the value of goods given for points: what incentives beyond the deposit cost, in fen'),
    containersPerYuan: obj({ deposit: PER_YUAN('deposit refunded'), buyback: PER_YUAN('buy-back'), points: PER_YUAN('goods given for points'), incentives: PER_YUAN('buy-back and goods for points together') }),
    budgetLeftFen: nullable(SIGNED('County: money left in the fund; shop: its yearly buy-back cap less what it paid this year (null without a cap); township: null')),
  })),
});
