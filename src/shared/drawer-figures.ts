// The till's figures for one business day: what the terminal computes from its journal, prints on
// the drawer report and sends to the county (amounts in fen).
export interface DrawerFigures {
  depositsTakenFen: number;
  refundsPaidFen: number;
  /** Cash refunds only leave the till; mobile refunds do not. */
  refundsPaidCashFen: number;
  /** Opening float + deposits taken in cash − cash refunds. */
  netCashExpectedFen: number;
  openingFloatFen?: number;
  salesCount: number;
  containersSold: number;
  returnsCount: number;
  containersAccepted: number;
  containersRejected: number;
  clerkName?: string;
  /** Issue 17: buy-back paid out (part of refundsPaidFen; cash buy-back is part of refundsPaidCashFen). */
  buybackPaidFen?: number;
  /** Points the day's returns earned here, and redeemed for goods here (milli-points; 1000 = 1 point). */
  pointsEarnedMilli?: number;
  pointsRedeemedMilli?: number;
  /** Redemptions of points for goods recorded here, and the goods' value (no cash moves). */
  redemptionsCount?: number;
  redeemedGoodsValueFen?: number;
}
