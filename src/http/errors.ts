// The one catalogue of error codes. Clients and tests match on `code`, never on the message; each
// entry's text is what docs/errors.md shows (a test keeps the two in step).

export interface ErrorSpec {
  status: number;
  /** Default English message; a thrown error may give a more precise one. */
  message: string;
  /** Chinese text for screens a clerk or farmer reads. */
  message_zh: string;
}

export const ERROR_CATALOGUE = {
  // --- request shape ---
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema; see details for each field', message_zh: '请求内容不符合要求，详见各字段说明' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON', message_zh: '请求内容不是有效的 JSON' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the server accepts', message_zh: '请求内容过大' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as application/json, uncompressed or with Content-Encoding gzip, deflate or br', message_zh: '请以 application/json 格式发送（不压缩，或使用 gzip、deflate、br 压缩）' },
  BODY_UNREADABLE: { status: 400, message: 'The request body could not be read: the compressed data is corrupt or the upload was cut off', message_zh: '请求内容无法读取：压缩数据损坏或上传不完整' },
  MALFORMED_PATH: { status: 400, message: 'The URL path holds a malformed percent-escape (such as %E0%A4%A); encode it as UTF-8', message_zh: '网址路径中含有无效的百分号编码' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such endpoint', message_zh: '没有这个接口' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This endpoint does not take this method; the Allow header lists the ones it takes', message_zh: '该接口不支持此请求方法，可用方法见 Allow 响应头' },
  // --- authentication ---
  UNAUTHENTICATED: { status: 401, message: 'Log in first: this endpoint needs a bearer token', message_zh: '请先登录' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong username or password', message_zh: '用户名或密码错误' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid', message_zh: '令牌无效' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired; refresh it or log in again', message_zh: '令牌已过期，请重新登录' },
  SESSION_REVOKED: { status: 401, message: 'This session has been logged out or revoked', message_zh: '会话已注销' },
  ACCOUNT_DISABLED: { status: 401, message: 'This account is disabled', message_zh: '账户已停用' },
  TERMINAL_REVOKED: { status: 401, message: 'This terminal has been revoked by the county; it can no longer sync', message_zh: '本终端已被县里撤销，无法再同步' },
  RATE_LIMITED: { status: 429, message: 'Too many failed attempts from this account or address; wait the seconds in Retry-After and try again', message_zh: '失败次数过多，请按 Retry-After 所示秒数等待后再试' },
  ACCOUNT_LOCKED: { status: 423, message: 'This account is locked after too many failed logins; it unlocks by itself at the time in details, or a county official or administrator can unlock it now', message_zh: '登录失败次数过多，账户已暂时锁定；到详情所示时间自动解锁，也可请县级管理人员或系统管理员立即解锁' },
  ENROLMENT_CODE_INVALID: { status: 401, message: 'The enrolment code is wrong, already used or expired', message_zh: '注册码错误、已使用或已过期' },
  // --- authorisation ---
  FORBIDDEN: { status: 403, message: 'Your role may not do this', message_zh: '您的角色无权执行此操作' },
  OUT_OF_SCOPE: { status: 403, message: 'This belongs to a county, shop or company you do not act for', message_zh: '无权访问其他县、店或单位的数据' },
  // --- resources ---
  NOT_FOUND: { status: 404, message: 'No such record', message_zh: '记录不存在' },
  REFERENCE_NOT_FOUND: { status: 422, message: 'A record this refers to does not exist in this county', message_zh: '引用的记录在本县不存在' },
  VERSION_CONFLICT: { status: 409, message: 'The record was changed by someone else; reload it and try again', message_zh: '记录已被他人修改，请刷新后重试' },
  DUPLICATE: { status: 409, message: 'A record with the same key already exists', message_zh: '已存在相同的记录' },
  RECORD_INACTIVE: { status: 422, message: 'The record is deactivated', message_zh: '该记录已停用' },
  EVENT_CURSOR_INVALID: { status: 422, message: 'The after cursor is not one this county\'s event feed gave out; resume from the cursor of the last event you processed, or leave it out to read from the start', message_zh: '事件游标无效：请使用本县事件流给出的游标续读，或不带游标从头读取' },
  // --- reference data rules ---
  INVALID_PHONE: { status: 422, message: 'The phone number is not a valid mobile number', message_zh: '手机号码无效' },
  INVALID_REGISTRATION_NO: { status: 422, message: 'The registration number must look like PD20120345 (PD, WP or LS and eight digits)', message_zh: '农药登记证号格式应为 PD20120345' },
  INVALID_GTIN: { status: 422, message: 'The GTIN check digit is wrong: a misread or mistyped barcode, not another product; scan again', message_zh: '商品条码校验位错误：读错或输错，请重扫' },
  SCHEDULE_OVERLAP: { status: 409, message: 'The deposit schedule overlaps another schedule of the same container type', message_zh: '押金标准的生效期与已有标准重叠' },
  SCHEDULE_IN_PAST: { status: 422, message: 'A deposit schedule cannot start before today: sales already recorded used the schedule then in force', message_zh: '押金标准不能早于今天生效' },
  CANNOT_DEACTIVATE_SELF: { status: 422, message: 'You cannot deactivate your own account; ask another official', message_zh: '不能停用自己的账户，请由其他管理人员操作' },
  LAST_ACTIVE_OFFICIAL: { status: 409, message: 'This is the last active county official of the county; create or reactivate another before deactivating it', message_zh: '这是本县最后一位在用的县级管理人员，请先新增或启用另一位再停用' },
  SCOPE_MISMATCH: { status: 422, message: "The user's scope does not fit their role", message_zh: '用户的范围与角色不符' },
  // --- ledger ---
  IDEMPOTENCY_CONFLICT: { status: 409, message: 'This client id was already used for a different request; make a new id for a new record', message_zh: '该单据编号已用于其他内容，请生成新编号' },
  EVENT_TIME_IN_FUTURE: { status: 422, message: 'The event time is in the future; check the terminal clock', message_zh: '业务时间晚于当前时间，请检查终端时钟' },
  EVENT_TIME_TOO_OLD: { status: 422, message: 'The event time is older than the county\'s maximum offline age; only a county official may record it', message_zh: '业务时间早于本县允许的最长离线期限，只能由县级管理人员录入' },
  PRODUCT_NOT_FOUND: { status: 422, message: 'No active product of this county has that id or GTIN', message_zh: '本县没有该商品（编号或条码）' },
  NO_DEPOSIT_SCHEDULE: { status: 422, message: 'No deposit schedule is in force for this container type on the day of the event', message_zh: '该包装类型在当日没有生效的押金标准' },
  FARMER_NAME_REQUIRED: { status: 422, message: 'This phone number is not registered yet: give the farmer\'s name to register them', message_zh: '该手机号尚未登记，请填写农户姓名' },
  UNIT_CODE_INVALID: { status: 422, message: 'The scan holds no valid 32-digit unit code', message_zh: '扫描内容中没有有效的32位单元识别码' },
  UNIT_CODE_PRODUCT_MISMATCH: { status: 422, message: 'The unit code does not belong to this product (digits 1–7 differ from its registration number)', message_zh: '单元识别码与该商品的登记证号不符' },
  UNIT_CODE_DUPLICATE: { status: 422, message: 'The same unit code appears twice in this request', message_zh: '同一单元识别码在本单中重复' },
  TOO_MANY_UNIT_CODES: { status: 422, message: 'A line carries more unit codes than containers', message_zh: '扫描的单元识别码多于数量' },
  UNIT_CODE_ALREADY_SOLD: { status: 409, message: 'This unit code has already been sold in this county', message_zh: '该单元识别码在本县已售出' },
  PAYMENT_REFERENCE_REQUIRED: { status: 422, message: 'A mobile refund needs the payment reference; a cash refund has none', message_zh: '移动支付退款需填写支付流水号，现金退款不填' },
  REASON_CODE_REQUIRED: { status: 422, message: 'A rejected item needs a reason code; an accepted one has none', message_zh: '拒收的包装须注明原因，接收的不填' },
  REVERSAL_WINDOW_CLOSED: { status: 403, message: 'A clerk or terminal may reverse only a record the server stored today (a terminal: its own record, of the same journal day); anything older only a county official', message_zh: '店员或终端只能冲正服务器当日收到的单据（终端限本机同一营业日的单据），更早的单据只能由县级管理人员冲正' },
  ALREADY_REVERSED: { status: 409, message: 'This record has already been reversed', message_zh: '该单据已冲正' },
  REVERSAL_NOT_POSSIBLE: { status: 409, message: 'The record cannot be reversed: containers of it were already returned or expired', message_zh: '该单据的包装已回收或押金已到期，无法冲正' },
  INVALID_PERIOD: { status: 422, message: 'The period must match the county\'s settlement period: 2026-03 (monthly), 2026-W11 (weekly) or 2026-03-15 (daily)', message_zh: '结算期格式不符合本县结算周期' },
  PERIOD_NOT_ENDED: { status: 422, message: 'A settlement can be recorded, or a month closed, only for a period that has ended', message_zh: '该期间尚未结束' },
  PERIOD_CLOSED: { status: 409, message: 'This month is closed: its statements and reconciliation no longer change; late records are booked in the first open month', message_zh: '该月已结账，报表不再变动；迟到单据记入第一个未结账月份' },
  PERIOD_ALREADY_CLOSED: { status: 409, message: 'This month is already closed', message_zh: '该月已结账' },
  PERIOD_NOT_RECONCILED: { status: 409, message: 'Run a reconciliation of this month that covers every record of it before closing it', message_zh: '结账前须对该月运行一次涵盖全部单据的对账' },
  NOTHING_TO_SETTLE: { status: 409, message: 'The statement leaves nothing to settle', message_zh: '该结算单没有待结金额' },
  SETTLEMENT_AMOUNT_MISMATCH: { status: 422, message: 'The amount differs from what the statement leaves to settle', message_zh: '金额与结算单待结金额不符' },
  // --- held refunds and the code registry (codes nobody sold, DESIGN rule 13) ---
  HELD_REFUND_ALREADY_DECIDED: { status: 409, message: 'This held refund was already approved, declined or voided; a decision is made once', message_zh: '该待审退款已审核（或已作废），不能重复审核' },
  DECLINE_REASON_REQUIRED: { status: 422, message: 'Declining a held refund needs a reason', message_zh: '拒绝退款须注明原因' },
  HELD_REFUND_NOT_APPROVED: { status: 409, message: 'This held refund is not approved (still held, declined or voided), so it cannot be paid', message_zh: '该退款未经审核批准（待审、已拒绝或已作废），不能支付' },
  HELD_REFUND_ALREADY_PAID: { status: 409, message: 'This held refund has already been paid', message_zh: '该退款已支付，不能重复支付' },
  HELD_REFUND_PHONE_MISMATCH: { status: 422, message: 'The held refund is owed to another phone number', message_zh: '该退款不属于此手机号' },
  CODE_REGISTRY_FORMAT: { status: 415, message: 'Send the code list as text/csv or application/json (uncompressed)', message_zh: '识别码清单请以 text/csv 或 application/json 格式（不压缩）上传' },
  CODE_REGISTRY_MALFORMED: { status: 422, message: 'The code list cannot be read; see details for where', message_zh: '识别码清单格式错误，详见说明' },
  CODE_REGISTRY_EMPTY: { status: 422, message: 'The code list holds no unit code of this product', message_zh: '清单中没有该商品的单元识别码' },
  LEDGER_BOUND_BROKEN: { status: 409, message: 'The transfer would break a balance bound of the ledger', message_zh: '该笔记账会使账户余额越界' },
  INCENTIVE_RATE_OVERLAP: { status: 409, message: 'Another incentive rate just as specific matches the same containers on common days; end it first or narrow this one', message_zh: '已有同样具体的激励标准在重叠日期内适用于相同包装，请先结束该标准或缩小本标准范围' },
  INCENTIVE_RATE_IN_PAST: { status: 422, message: 'An incentive rate cannot start or end before today: returns already recorded used the rate then in force', message_zh: '激励标准不能早于今天生效或结束' },
  POINTS_INSUFFICIENT: { status: 409, message: 'The farmer does not hold that many points', message_zh: '该农户的积分不足' },
  // --- sync ---
  SYNC_KIND_UNAVAILABLE: { status: 503, message: 'This server does not apply records of this kind yet; keep them and send them again later', message_zh: '服务器暂不支持此类记录，终端将保留并稍后重发' },
  // --- custody ---
  BAG_SEALED: { status: 409, message: 'The bag is sealed: its contents and seal can no longer change', message_zh: '该袋已封口，内容不能再更改' },
  BAG_WRONG_STATE: { status: 409, message: 'The bag is not in a state that allows this', message_zh: '该袋当前状态不允许此操作' },
  BAG_EMPTY: { status: 422, message: 'An empty bag cannot be sealed', message_zh: '空袋不能封口' },
  BAG_MATERIAL_MISMATCH: { status: 422, message: 'The container type is of another material than the bag', message_zh: '包装材质与收集袋材质不符' },
  BAG_EXCEEDS_RETURNED: { status: 422, message: 'More containers of this type would be bagged at this shop than were returned there', message_zh: '装袋数量超过本店回收数量' },
  UNIT_CODE_NOT_RETURNED_HERE: { status: 422, message: 'This unit code was not returned (and accepted) at this shop', message_zh: '该单元识别码未在本店回收' },
  UNIT_CODE_ALREADY_BAGGED: { status: 409, message: 'This unit code is already in a collection bag', message_zh: '该单元识别码已装入收集袋' },
  SEAL_NO_DUPLICATE: { status: 409, message: 'Another bag of this county already carries this seal number', message_zh: '本县已有收集袋使用该封条号' },
  BAG_ALREADY_ON_MANIFEST: { status: 409, message: 'The bag is already on a manifest', message_zh: '该袋已列入转运联单' },
  MANIFEST_LOCKED: { status: 409, message: 'The manifest has moved past the stage where this can change', message_zh: '转运联单已进入下一环节，不能再更改' },
  SIGNATURE_OUT_OF_ORDER: { status: 409, message: 'This is not the signature the manifest waits for; see details for who signs next', message_zh: '签字顺序不对，详见下一位签字人' },
  SIGNER_NOT_PARTY: { status: 403, message: 'You do not act for the party that must sign here', message_zh: '您不代表此处应签字的一方' },
  MANIFEST_NOT_DELIVERED: { status: 409, message: 'The facility can inspect bags only after both sides signed the delivery', message_zh: '双方签字交接后才能验收' },
  BAG_NOT_ON_MANIFEST: { status: 422, message: 'The bag is not on this manifest', message_zh: '该袋不在本联单上' },
  BAG_ALREADY_INSPECTED: { status: 409, message: 'The bag has already been inspected; record a correction instead', message_zh: '该袋已验收，请登记更正' },
  BAG_NOT_INSPECTED: { status: 409, message: 'The bag has not been inspected yet', message_zh: '该袋尚未验收' },
  DISCREPANCY_REQUIRED: { status: 422, message: 'The inspection shows a discrepancy that must be recorded with a comment', message_zh: '验收发现差异，须登记差异类型并说明' },
  INVALID_TRACKING_NUMBER: { status: 422, message: 'The tracking number is not 16 digits with valid ISO 7064 MOD 97-10 check digits', message_zh: '联单编号格式或校验位错误' },
  DISPOSAL_LICENCE_MISMATCH: { status: 422, message: 'The licence number is not the disposal facility\'s licence', message_zh: '许可证号与处置设施不符' },
  CERTIFICATE_DUPLICATE: { status: 409, message: 'A disposal with this certificate number is already recorded', message_zh: '该处置证明编号已登记' },
  BAGS_NOT_AT_ONE_FACILITY: { status: 422, message: 'A disposal covers bags held by one facility', message_zh: '一次处置只能包含同一设施的收集袋' },
  // --- traceability ---
  LOT_TRACE_QUERY_INVALID: { status: 422, message: 'A lot trace needs a sale (saleId, optionally lineNo) or a GTIN with a from and to day', message_zh: '批次追溯需要销售单号（可加行号），或商品条码加起止日期' },
  YEAR_ARCHIVED: { status: 410, message: 'These records belong to a year the county has archived; restore that year for the audit (npm run archive:restore -- --county <county> --year <year>, see details), then ask again', message_zh: '这些记录属于本县已归档的年度；请先恢复该年度（npm run archive:restore -- --county 县代码 --year 年份，见详情）再查询' },
  RECEIPT_AMBIGUOUS: { status: 409, message: 'More than one sale of the county carries this receipt number (printed before terminals had numbers of their own in the county); it names no one sale', message_zh: '本县有不止一笔销售使用这个小票号（终端编号启用前打印的小票），无法确定是哪一笔' },
  CHECK_RATE_LIMITED: { status: 429, message: 'Too many status checks from this address; wait the seconds in Retry-After and try again', message_zh: '本地址查询次数过多，请按 Retry-After 所示秒数等待后再试' },
  // --- reconciliation ---
  RECONCILIATION_PERIOD_INVALID: { status: 422, message: 'The reconciliation period must be a month (2026-03) or a year (2026)', message_zh: '对账期应为月份（2026-03）或年份（2026）' },
  RECONCILIATION_AS_OF_IN_FUTURE: { status: 422, message: 'asOf may not be later than the server time: records not yet stored would change the figures', message_zh: '数据截止时间不能晚于服务器当前时间' },
  INVALID_MONTH_RANGE: { status: 422, message: 'from and to must be months (YYYY-MM) with from not after to', message_zh: '起止月份格式应为 YYYY-MM，且起始不晚于结束' },
  // --- monthly report ---
  REPORT_MONTH_IN_FUTURE: { status: 422, message: 'The report month has not begun in the county yet; choose this month or an earlier one', message_zh: '所选月份尚未开始，请选择本月或更早的月份' },
  REPORT_PDF_UNAVAILABLE: { status: 503, message: 'The PDF cannot be made on this server (Chromium is missing or failed); open the HTML report and print it from the browser', message_zh: '本服务器暂时无法生成 PDF（未安装或无法启动 Chromium），请打开网页版报告并用浏览器打印' },
  // --- sms ---
  SMS_NOT_CONFIGURED: { status: 503, message: 'The SMS service is not configured on this server (SMS_COUNTY_ID, SMS_INBOUND_SECRET)', message_zh: '本服务器未配置短信服务' },
  SMS_SECRET_INVALID: { status: 403, message: 'The shared secret of the SMS gateway callback is wrong', message_zh: '短信网关回调密钥错误' },
  SMS_OUTBOX_NOT_FOUND: { status: 404, message: 'No outgoing SMS of this county has that id', message_zh: '本县没有该条待发短信' },
  // --- server ---
  SERVER_BUSY: { status: 503, message: 'The server is busy checking other logins; wait the seconds in Retry-After and try again', message_zh: '服务器正忙，请按 Retry-After 所示秒数等待后再试' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is not reachable; try again shortly', message_zh: '数据库暂不可用，请稍后再试' },
  INTERNAL: { status: 500, message: 'Something went wrong on the server; it has been logged', message_zh: '服务器内部错误，已记录' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorDetail {
  /** JSON pointer of the offending input, e.g. `/body/lines/0/quantity`. */
  field?: string;
  code: string;
  message: string;
  [extra: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;
  /** Response headers that go with the error, e.g. `Retry-After` on 429 and 503. */
  headers: Record<string, string> = {};
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function errorBody(code: ErrorCode, message?: string, details: ErrorDetail[] = []) {
  return { error: { code, message: message ?? ERROR_CATALOGUE[code].message, details } };
}

/** Register error codes of later features here too, so the catalogue stays one file. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}
