// What a shop terminal caches to keep selling offline: the county's products, container types,
// deposit schedules and incentive rates (all of them, so an offline till finds the one in force on
// any later day), the county's incentive settings, the
// shop, and the county's farmers for lookup by phone (only for callers who may see farmers). Also what
// the terminal prints with: the server's public address (PUBLIC_URL, the receipt QR's check page) and
// the calling terminal's number in the county (its receipt numbers: XS20261130-T007-0001).
import type { AppDeps } from '../../app-deps.js';
import { can, seesFarmerIdentity, type Principal } from '../../auth/permissions.js';
import { AppError } from '../../http/errors.js';
import { depositInForce } from '../deposit-schedules/deposit-schedule-entity.js';
import { businessDay } from '../../shared/business-day.js';
import { latestResendRequest } from './resend-requests.js';
import { matchIncentiveRate, type IncentiveRateRow } from '../../shared/incentive-rate-match.js';

export class SnapshotService {
  constructor(private readonly deps: AppDeps) {}

  async build(principal: Principal, countyId: string, shopId: string | null) {
    const knex = this.deps.db.knex;
    const county = await knex('counties').where({ id: countyId }).first();
    if (!county) throw new AppError('NOT_FOUND', `No county ${countyId}`);
    const now = this.deps.clock.now();
    const day = businessDay(now, county.timezone);
    const shop = shopId ? await knex('shops').where({ county_id: countyId, id: shopId }).first() : null;
    if (shopId && !shop) throw new AppError('NOT_FOUND', 'No such shop in this county');
    const containerTypes = await knex('container_types').where({ county_id: countyId, active: true }).orderBy('code');
    const products = await knex('products').where({ county_id: countyId, active: true }).orderBy('name');
    const schedules = await knex('deposit_schedules').where({ county_id: countyId, active: true }).orderBy('effective_from');
    const incentiveRates = (await knex('incentive_rates').where({ county_id: countyId, active: true }).orderBy(['effective_from', 'id'])).map((r: any) => ({
      id: r.id as string, containerTypeId: r.container_type_id as string | null, containerKind: r.container_kind as IncentiveRateRow['containerKind'],
      minVolumeMl: r.min_volume_ml as number | null, maxVolumeMl: r.max_volume_ml as number | null,
      buybackFen: r.buyback_fen as number, pointsMilli: r.points_milli as number, effectiveFrom: r.effective_from as string, effectiveTo: r.effective_to as string | null, active: true,
    }));
    const inForce = [];
    for (const t of containerTypes) inForce.push({ containerTypeId: t.id, depositFen: (await depositInForce(knex, countyId, t.id, day))?.depositFen ?? null });
    // The calling terminal's own number (users have none): in every receipt number it prints.
    const terminal = principal.kind === 'terminal' && principal.countyId === countyId
      ? ((await knex('terminals').where({ county_id: countyId, id: principal.terminalId }).first('id', 'terminal_no')) as { id: string; terminal_no: number } | undefined)
      : undefined;
    const withFarmers = can(principal, 'farmers:read') && seesFarmerIdentity(principal);
    const farmers = withFarmers ? await knex('farmers').where({ county_id: countyId, active: true }).orderBy('phone_e164').select('id', 'name', 'phone_e164', 'village') : [];
    // date columns come back as 'YYYY-MM-DD' strings (src/db/connection.ts), never as instants.
    const asDate = (v: unknown) => v as string | null;
    return {
      serverTime: now.toISOString(),
      businessDay: day,
      county: {
        id: county.id, nameZh: county.name_zh, nameEn: county.name_en, timezone: county.timezone,
        untrackedRefundPolicy: county.untracked_refund_policy, lateReturnPolicy: county.late_return_policy,
        depositValidityDays: county.deposit_validity_days as number,
        incentiveHouseholdBuybackCapFen: county.incentive_household_buyback_cap_fen as number | null,
        incentiveHouseholdPointsCapMilli: county.incentive_household_points_cap_milli as number | null,
        incentiveShopBuybackCapFen: county.incentive_shop_buyback_cap_fen as number | null,
        incentiveWhenFundEmpty: county.incentive_when_fund_empty as 'nothing' | 'points_only',
        pointsExpireAfterYears: county.points_expire_after_years as number | null,
      },
      shop: shop ? { id: shop.id, name: shop.name, licenceNo: shop.licence_no, address: shop.address } : null,
      containerTypes: containerTypes.map((t: any) => ({ id: t.id, code: t.code, nameZh: t.name_zh, nameEn: t.name_en, material: t.material, volumeMl: t.volume_ml as number })),
      products: products.map((p: any) => ({
        id: p.id, name: p.name, registrationNo: p.registration_no, manufacturer: p.manufacturer, gtin: p.gtin,
        containerTypeId: p.container_type_id, packSizeCode: p.pack_size_code, packSizeLabel: p.pack_size_label,
      })),
      depositSchedules: schedules.map((s: any) => ({
        id: s.id, containerTypeId: s.container_type_id, depositFen: s.deposit_fen, effectiveFrom: asDate(s.effective_from) as string, effectiveTo: asDate(s.effective_to),
      })),
      depositsInForce: inForce,
      incentiveRates,
      incentivesInForce: containerTypes.map((t: any) => {
        const r = matchIncentiveRate(incentiveRates, { id: t.id, material: t.material, volumeMl: t.volume_ml }, day);
        return { containerTypeId: t.id as string, rateId: r?.id ?? null, buybackFen: r?.buybackFen ?? 0, pointsMilli: r?.pointsMilli ?? 0 };
      }),
      farmers: farmers.map((f: any) => ({ id: f.id, name: f.name, phoneE164: f.phone_e164, village: f.village })),
      farmersIncluded: withFarmers,
      /** Days the terminal keeps synced records (its journal archives) before removing them. */
      terminalJournalKeepDays: county.terminal_journal_keep_days as number,
      /** The newest request to send again everything recorded since an instant (after a restore); null if none. */
      resend: await latestResendRequest(knex, countyId),
      /** The address farmers' phones reach the server at (PUBLIC_URL): sale receipts' QR codes open its check page. */
      publicUrl: this.deps.config.publicUrl,
      /** The calling terminal and its number in the county; null for users. */
      terminal: terminal ? { id: terminal.id, terminalNo: Number(terminal.terminal_no) } : null,
    };
  }
}
