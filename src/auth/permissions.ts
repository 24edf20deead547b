// Who may do what, and for whom. A route names one permission and how to find the county, shop,
// hauler or facility it touches; `authorize` decides from those two facts alone, so the
// authorisation-matrix test can enumerate every route × role × scope.

export const ROLES = ['admin', 'province_official', 'county_official', 'inspector', 'clerk', 'hauler', 'facility_operator', 'manufacturer'] as const;
export type Role = (typeof ROLES)[number];
/** A POS terminal acts like a clerk of its one shop. */
export type ActorRole = Role | 'terminal';
export const ACTOR_ROLES: readonly ActorRole[] = [...ROLES, 'terminal'];

export const PERMISSIONS = {
  'reference:read': 'Read counties, townships, shops, facilities, haulers, products, container types and deposit schedules',
  'reference:write': 'Create, change and deactivate reference data of a county',
  'counties:write': 'Create counties and change their policies',
  'farmers:read': 'Look up farmers (officials see masked names and numbers)',
  'farmers:write': 'Register farmers and change their details',
  'users:read': 'List users of a county',
  'users:write': 'Create users and change their roles',
  'terminals:manage': 'Issue enrolment codes for POS terminals and revoke them',
  'history:read': 'Read the change history of reference records',
  'sales:write': 'Record sales with deposit for a shop',
  'returns:write': 'Record returns and the refunds paid for a shop',
  'reversals:write': 'Reverse a sale or return (clerks and terminals: own shop, only records the server stored today; docs/ledger.md)',
  'ledger:read': 'Read ledger balances, settlement statements, farmer balances and fraud flags',
  'ledger:admin': 'Run the ledger check and the deposit expiry job',
  'settlements:write': 'Record settlement payments between the scheme and a shop',
  'incentive_fund:write': 'Record money allocated to the county incentive fund (the budget buy-back is paid from; docs/incentives.md)',
  'reconciliation:read': 'Read reconciliation runs of a county and export them (CSV, printable page)',
  'reconciliation:run': 'Run a reconciliation of a county and refresh its recovery aggregates',
  'periods:close': 'Close a month of a county after its reconciliation (late records are then booked in the first open month)',
  'dashboard:read': 'Read the officials\' dashboard: recovery rates, shop table, rankings (farmers masked)',
  'custody:read': 'Read collection bags and manifests (clerks: own shop; haulers: own manifests; facilities: what is sent to them)',
  'custody:export': 'Export the inspectors\' ledger (台账) of a shop: quantities received, bags and their destinations',
  'custody:sign': 'Sign a custody hand-over on behalf of own shop, hauler company or facility',
  'custody:verify': 'Verify the custody hash chain and the mass balance of a county',
  'bags:write': 'Open, fill and seal collection bags of a shop',
  'manifests:write': 'Create pickup manifests, put bags on them and add transporters (haulers: own company)',
  'receiving:write': 'Inspect and weigh bags delivered to own facility, and record corrections',
  'disposal:write': 'Record the disposal of bags held by a facility',
  'held_refunds:review': 'Review refunds held for unit codes nobody sold: list, approve, decline, record mobile payments (farmers masked)',
  'code_registry:import': 'Import and read the registry of issued unit codes of a product',
  'integrations:manage': 'Create the accounts integrators use (a manufacturer\'s read-only account for the event feed of its products in a province)',
  'trace:read': 'Follow one container (unit code) or a lot from sale to disposal certificate, with its custody events and their hash-chain links',
  'access_log:read': 'Export the log of personal-data reads by inspectors and officials (who, when, which record, why)',
  'points:expire': 'Run the points expiry of a county (points lapse per counties.points_expire_after_years; docs/incentives-points.md)',
  'events:read': 'Follow the event feed of a county (manufacturers: only events about their own products; docs/events.md)',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const ALL = Object.keys(PERMISSIONS) as Permission[];
const OFFICIAL_DASHBOARD: Permission[] = ['reconciliation:read', 'dashboard:read'];
const READ_ONLY: Permission[] = ['reference:read'];
const SHOP_CUSTODY: Permission[] = ['custody:read', 'custody:export', 'custody:sign', 'bags:write'];
/** An inspector (执法人员) reads: ledgers, traces, custody and reconciliation exceptions; never money operations. */
const INSPECTOR: Permission[] = [
  'reference:read', 'farmers:read', 'history:read', 'trace:read',
  'custody:read', 'custody:export', 'custody:verify', 'reconciliation:read', 'dashboard:read',
];

export const ROLE_PERMISSIONS: Record<ActorRole, ReadonlySet<Permission>> = {
  admin: new Set(ALL),
  province_official: new Set<Permission>(['events:read', 'reference:read', 'farmers:read', 'users:read', 'history:read', 'ledger:read', ...OFFICIAL_DASHBOARD, 'custody:read', 'custody:export', 'custody:verify', 'trace:read']),
  county_official: new Set<Permission>([
    'reference:read', 'reference:write', 'farmers:read', 'farmers:write', 'users:read', 'users:write',
    'terminals:manage', 'history:read',
    'reversals:write', 'ledger:read', 'settlements:write', 'incentive_fund:write',
    ...OFFICIAL_DASHBOARD, 'reconciliation:run', 'periods:close',
    'custody:read', 'custody:export', 'custody:verify', 'disposal:write',
    'held_refunds:review', 'code_registry:import', 'trace:read', 'events:read', 'points:expire',
  ]),
  inspector: new Set<Permission>(INSPECTOR),
  clerk: new Set<Permission>(['reference:read', 'farmers:read', 'farmers:write', 'sales:write', 'returns:write', 'reversals:write', ...SHOP_CUSTODY]),
  terminal: new Set<Permission>(['reference:read', 'farmers:read', 'farmers:write', 'sales:write', 'returns:write', 'reversals:write', ...SHOP_CUSTODY]),
  hauler: new Set<Permission>([...READ_ONLY, 'custody:read', 'custody:sign', 'manifests:write']),
  facility_operator: new Set<Permission>([...READ_ONLY, 'custody:read', 'custody:sign', 'receiving:write', 'disposal:write']),
  // An integration principal: a manufacturer's traceability system follows the events of its own
  // products in the counties of its province, and reads the reference data (products, shops) to
  // interpret them; nothing else.
  manufacturer: new Set<Permission>(['events:read', 'reference:read']),
};

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  username: string;
  role: Role;
  sessionId: string;
  provinceCode: string | null;
  countyId: string | null;
  shopId: string | null;
  haulerId: string | null;
  facilityId: string | null;
  /** The manufacturer's name as products carry it (role manufacturer only). */
  manufacturer: string | null;
}

export interface TerminalPrincipal {
  kind: 'terminal';
  role: 'terminal';
  terminalId: string;
  countyId: string;
  shopId: string;
}

export type Principal = UserPrincipal | TerminalPrincipal;

/** What a request touches. Absent fields are not constrained. */
export interface Target {
  countyId?: string;
  shopId?: string;
  haulerId?: string;
  facilityId?: string;
}

export function provinceOf(countyId: string): string {
  return `${countyId.slice(0, 2)}0000`;
}

export function can(principal: Principal, permission: Permission): boolean {
  return ROLE_PERMISSIONS[principal.role].has(permission);
}

/** Whether the principal acts for the target's county and, where it names them, shop/hauler/facility. */
export function inScope(principal: Principal, target: Target): boolean {
  if (principal.role === 'admin') return true;
  if (target.countyId !== undefined) {
    if (principal.role === 'province_official' || principal.role === 'manufacturer') {
      if (principal.provinceCode === null || provinceOf(target.countyId) !== provinceOf(principal.provinceCode)) return false;
    } else if (principal.countyId !== target.countyId) {
      return false;
    }
  }
  const p = principal as Partial<UserPrincipal> & Partial<TerminalPrincipal>;
  if (target.shopId !== undefined && (principal.role === 'clerk' || principal.role === 'terminal') && p.shopId !== target.shopId) return false;
  if (target.haulerId !== undefined && principal.role === 'hauler' && p.haulerId !== target.haulerId) return false;
  if (target.facilityId !== undefined && principal.role === 'facility_operator' && p.facilityId !== target.facilityId) return false;
  return true;
}

/** The counties a principal may read lists of; null = all. */
export function countyFilter(principal: Principal): { all: true } | { provincePrefix: string } | { countyId: string } {
  if (principal.role === 'admin') return { all: true };
  if (principal.role === 'province_official' || principal.role === 'manufacturer') return { provincePrefix: (principal.provinceCode ?? '00').slice(0, 2) };
  return { countyId: principal.countyId as string };
}

/** Officials and inspectors see farmers only as masked identifiers (privacy rule 11). */
export function seesFarmerIdentity(principal: Principal): boolean {
  return principal.role === 'clerk' || principal.role === 'terminal' || principal.role === 'admin';
}

/** Whose reads of personal data (even masked) go to the access log: inspectors and officials. */
export function readsAreLogged(principal: Principal): principal is UserPrincipal {
  return principal.role === 'inspector' || principal.role === 'county_official' || principal.role === 'province_official';
}
