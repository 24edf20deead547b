// Plain words for every code a clerk or official can meet: one Chinese and one English sentence that
// say what happened and what to do next. The server's error catalogue (src/http/errors.ts) keeps the
// stable codes and the technical messages; this catalogue is what screens show, with the code in
// small print for support calls. test/shared/plain-words.test.ts fails when a code of the error
// catalogue, or one the terminal raises, has no text here.

export interface PlainWords {
  zh: string;
  en: string;
}

/** Codes of the server's error catalogue (src/http/errors.ts). */
const SERVER: Record<string, PlainWords> = {
  VALIDATION_FAILED: { zh: '填写的内容有误或缺项。请按标红的提示改正后再提交。', en: 'Something entered is missing or wrong. Correct what is marked and send it again.' },
  MALFORMED_JSON: { zh: '程序发出的数据无法读取。请刷新页面再试；仍不行请联系技术支持。', en: 'The program sent data that cannot be read. Reload the page and try again; if it persists, call support.' },
  BODY_TOO_LARGE: { zh: '一次提交的内容太多。请分几次提交。', en: 'Too much was sent at once. Send it in smaller parts.' },
  UNSUPPORTED_MEDIA_TYPE: { zh: '程序发出的数据格式不对。请刷新页面再试；仍不行请联系技术支持。', en: 'The program sent data in the wrong format. Reload the page and try again; if it persists, call support.' },
  BODY_UNREADABLE: { zh: '数据在传输中损坏或不完整。请再提交一次。', en: 'The data was damaged or cut off on the way. Send it again.' },
  MALFORMED_PATH: { zh: '网址有误。请从菜单重新打开该页面。', en: 'The web address is malformed. Open the page again from the menu.' },
  ROUTE_NOT_FOUND: { zh: '没有这个功能或页面。请从菜单重新打开；仍不行请联系技术支持。', en: 'This function or page does not exist. Open it again from the menu; if it persists, call support.' },
  METHOD_NOT_ALLOWED: { zh: '这个功能不能这样使用。请从菜单重新打开；仍不行请联系技术支持。', en: 'This function cannot be used this way. Open it again from the menu; if it persists, call support.' },
  UNAUTHENTICATED: { zh: '您还没有登录或登录已失效。请重新登录。', en: 'You are not logged in, or your login has ended. Log in again.' },
  INVALID_CREDENTIALS: { zh: '用户名或密码不对。请检查后重新输入（注意大小写）。', en: 'The username or password is wrong. Check them and type them again (mind capitals).' },
  TOKEN_INVALID: { zh: '登录凭证无效。请重新登录。', en: 'Your login is not valid. Log in again.' },
  TOKEN_EXPIRED: { zh: '登录已过期。请重新登录，刚才的操作没有保存。', en: 'Your login has expired. Log in again; what you just did was not saved.' },
  SESSION_REVOKED: { zh: '您已退出登录或被管理员注销。请重新登录。', en: 'You were logged out, or an administrator ended your session. Log in again.' },
  ACCOUNT_DISABLED: { zh: '您的账户已停用。请联系县农业农村局。', en: 'Your account is disabled. Contact the county agriculture bureau.' },
  TERMINAL_REVOKED: { zh: '县里已撤销本终端，不能再同步。请向县农业农村局申请新的注册码，重新注册。', en: 'The county revoked this terminal; it can no longer sync. Ask the county bureau for a new enrolment code and enrol again.' },
  RATE_LIMITED: { zh: '失败次数太多，已暂时限制。请等一会儿再试。', en: 'Too many failed attempts; tries are paused for now. Wait a little and try again.' },
  LOT_TRACE_QUERY_INVALID: { zh: '批次追溯要填销售单号，或者填商品条码和起止日期。请补全后再查。', en: 'A lot trace needs a sale number, or a product barcode with a first and last day. Fill them in and look again.' },
  YEAR_ARCHIVED: { zh: '这些记录属于已归档的年度，现在不在系统里直接显示。审计需要时，请系统管理员先恢复该年度，再来查询。', en: 'These records belong to a year that has been archived, so they are not shown now. For an audit, ask the administrator to restore that year, then look again.' },
  RECEIPT_AMBIGUOUS: { zh: '本县不止一家店打印过这个小票号（较早的小票），无法确定是哪一笔销售。请向卖药的农资店询问，或按包装上的追溯码逐个查询。', en: 'More than one shop of the county printed this receipt number (an older receipt), so it cannot tell which sale it is. Ask the shop that sold it, or check the containers by their trace codes one by one.' },
  CHECK_RATE_LIMITED: { zh: '这台设备查询得太频繁了，请等一会儿再扫码查询。', en: 'This device has checked too often. Wait a little, then scan again.' },
  ACCOUNT_LOCKED: { zh: '登录失败次数太多，账户已暂时锁定。请稍后再试，或请县级管理人员解锁。', en: 'Too many failed logins locked the account for now. Try later, or ask a county official to unlock it.' },
  ENROLMENT_CODE_INVALID: { zh: '注册码不对、已用过或已过期。请核对注册码，或向县农业农村局要新的。', en: 'The enrolment code is wrong, already used or expired. Check it, or ask the county bureau for a new one.' },
  FORBIDDEN: { zh: '您的岗位不能做这项操作。如确需办理，请找有权限的人员。', en: 'Your role may not do this. Ask someone who may.' },
  OUT_OF_SCOPE: { zh: '这是其他县、店或单位的数据，您无权查看或修改。', en: 'This belongs to another county, shop or company; you may not see or change it.' },
  NOT_FOUND: { zh: '没有找到这条记录。请核对单号或编号后再查。', en: 'No such record was found. Check the number and look again.' },
  REFERENCE_NOT_FOUND: { zh: '所选的商品、店或人员在本县不存在。请刷新后重新选择。', en: 'A product, shop or person chosen does not exist in this county. Reload and choose again.' },
  VERSION_CONFLICT: { zh: '这条记录刚被别人改过。请刷新后再改。', en: 'Someone else just changed this record. Reload it and make your change again.' },
  DUPLICATE: { zh: '已经有一条相同的记录，无需重复录入。', en: 'The same record already exists; no need to enter it again.' },
  RECORD_INACTIVE: { zh: '该记录已停用，不能再使用。请选择在用的记录。', en: 'This record is deactivated and cannot be used. Choose an active one.' },
  EVENT_CURSOR_INVALID: { zh: '续读事件的位置不对。请用上次处理的最后一条事件的游标续读，或不带游标从头读取。', en: 'The place to read events on from is wrong. Use the cursor of the last event you processed, or read from the start without one.' },
  INVALID_PHONE: { zh: '手机号不对。请输入11位手机号码。', en: 'That is not a valid mobile number. Type the 11-digit number.' },
  INVALID_REGISTRATION_NO: { zh: '农药登记证号格式不对，应像 PD20120345。请照包装上的证号输入。', en: 'The registration number should look like PD20120345. Type it as printed on the package.' },
  INVALID_GTIN: { zh: '商品条码有误（校验位不对）。请重新扫码或核对条码。', en: 'The product barcode is wrong (check digit). Scan again or check the number.' },
  SCHEDULE_OVERLAP: { zh: '这个押金标准的时间与已有标准重叠。请调整生效日期。', en: 'This deposit schedule overlaps an existing one. Change its dates.' },
  SCHEDULE_IN_PAST: { zh: '押金标准不能从过去的日期生效。请选择今天或以后的日期。', en: 'A deposit schedule cannot start in the past. Choose today or a later date.' },
  CANNOT_DEACTIVATE_SELF: { zh: '不能停用自己的账户。请由其他管理人员操作。', en: 'You cannot deactivate your own account. Ask another official.' },
  LAST_ACTIVE_OFFICIAL: { zh: '这是本县最后一位在用的管理人员。请先新增或启用另一位，再停用。', en: 'This is the county’s last active official. Add or reactivate another one first.' },
  SCOPE_MISMATCH: { zh: '该用户的管辖范围与岗位不符。请重新选择县、店或单位。', en: 'The user’s county, shop or company does not fit the role. Choose them again.' },
  IDEMPOTENCY_CONFLICT: { zh: '同一单号已用于不同的内容。请新开一单重新录入。', en: 'This record number was already used for something else. Start a new record.' },
  EVENT_TIME_IN_FUTURE: { zh: '单据时间晚于现在，电脑时钟可能不准。请校正电脑时间。', en: 'The record’s time is in the future: this PC’s clock is probably wrong. Set the clock right.' },
  EVENT_TIME_TOO_OLD: { zh: '单据太旧，超过了本县允许的离线期限。请联系县农业农村局补录。', en: 'The record is older than the county allows offline. Ask the county bureau to enter it.' },
  PRODUCT_NOT_FOUND: { zh: '本县的回收产品里没有这个商品。请换一个商品，或请县里把它加入目录。', en: 'This is not a product of the county’s scheme. Choose another, or ask the county to add it.' },
  NO_DEPOSIT_SCHEDULE: { zh: '这种包装今天没有押金标准，无法收押金。请联系县农业农村局。', en: 'No deposit is set for this container today, so none can be charged. Contact the county bureau.' },
  FARMER_NAME_REQUIRED: { zh: '这是新农户，请先填写姓名再继续。', en: 'This is a new farmer: enter the name, then continue.' },
  UNIT_CODE_INVALID: { zh: '这不是有效的追溯码（应有32位数字）。请重新扫包装上的二维码。', en: 'This is not a valid trace code (32 digits). Scan the QR code on the package again.' },
  UNIT_CODE_PRODUCT_MISMATCH: { zh: '追溯码属于另一个商品。请确认选对了商品，或重新扫码。', en: 'The trace code belongs to another product. Check the product, or scan again.' },
  UNIT_CODE_DUPLICATE: { zh: '同一个追溯码扫了两次，只算一次。请继续扫下一个。', en: 'The same trace code was scanned twice; it counts once. Go on with the next one.' },
  TOO_MANY_UNIT_CODES: { zh: '扫的追溯码比数量多。请把数量改大，或删掉多扫的码。', en: 'More trace codes than containers. Raise the quantity or remove the extra scans.' },
  UNIT_CODE_ALREADY_SOLD: { zh: '这个追溯码已经卖出过，不能再卖。请检查这件商品。', en: 'This trace code was already sold and cannot be sold again. Check the item.' },
  PAYMENT_REFERENCE_REQUIRED: { zh: '移动支付退款要填支付流水号。请填写后再确认；现金退款不用填。', en: 'A mobile refund needs the payment reference. Fill it in; a cash refund needs none.' },
  REASON_CODE_REQUIRED: { zh: '拒收的包装要选拒收原因。请在该行选择原因。', en: 'A rejected container needs a reason. Choose one on its row.' },
  REVERSAL_WINDOW_CLOSED: { zh: '这张单据已不能在店里冲正（只能冲正当天的单据）。请联系县农业农村局。', en: 'This record can no longer be reversed at the shop (same day only). Contact the county bureau.' },
  ALREADY_REVERSED: { zh: '这张单据已经冲正过了，无需再冲正。', en: 'This record was already reversed; nothing more to do.' },
  REVERSAL_NOT_POSSIBLE: { zh: '这张单据的包装已退回或押金已到期，不能冲正。请联系县农业农村局。', en: 'Containers of this record were already returned or expired, so it cannot be reversed. Contact the county bureau.' },
  INVALID_PERIOD: { zh: '结算期写法不对（如 2026-03）。请按本县结算周期填写。', en: 'The period is written wrongly (e.g. 2026-03). Use the county’s settlement period.' },
  PERIOD_NOT_ENDED: { zh: '这个期间还没结束，现在不能结算或结账。请期末后再办。', en: 'This period has not ended yet. Settle or close it after it ends.' },
  PERIOD_CLOSED: { zh: '这个月已结账，不能再改。迟到的单据会记入下一个未结账月份。', en: 'This month is closed and does not change. Late records go into the next open month.' },
  PERIOD_ALREADY_CLOSED: { zh: '这个月已经结账了，无需再结。', en: 'This month is already closed; nothing more to do.' },
  PERIOD_NOT_RECONCILED: { zh: '结账前要先对账。请先运行该月的对账。', en: 'Reconcile the month before closing it. Run its reconciliation first.' },
  NOTHING_TO_SETTLE: { zh: '这张结算单没有待结金额，无需付款。', en: 'This statement leaves nothing to pay.' },
  SETTLEMENT_AMOUNT_MISMATCH: { zh: '金额与结算单的待结金额不一致。请核对金额后再录入。', en: 'The amount differs from what the statement leaves to pay. Check it and enter it again.' },
  HELD_REFUND_ALREADY_DECIDED: { zh: '这笔待审退款已经审核过了，不能再审。', en: 'This held refund was already decided; it cannot be decided again.' },
  DECLINE_REASON_REQUIRED: { zh: '拒绝退款要写明原因。请填写原因后再提交。', en: 'Declining needs a reason. Write it, then send.' },
  HELD_REFUND_NOT_APPROVED: { zh: '这笔退款还没有被县里批准（或已拒绝、作废），现在不能付。请让农户等县里审核。', en: 'The county has not approved this refund (or declined or voided it), so it cannot be paid. Ask the farmer to wait for the review.' },
  HELD_REFUND_ALREADY_PAID: { zh: '这笔退款已经付过了，不能重复付款。', en: 'This refund was already paid; do not pay it again.' },
  HELD_REFUND_PHONE_MISMATCH: { zh: '这笔退款不属于这个手机号。请核对农户的手机号。', en: 'This refund is owed to another phone number. Check the farmer’s phone.' },
  CODE_REGISTRY_FORMAT: { zh: '发码清单的文件格式不对。请上传 CSV 或 JSON 文件（不要压缩）。', en: 'The code list is in the wrong format. Upload a CSV or JSON file (not compressed).' },
  CODE_REGISTRY_MALFORMED: { zh: '发码清单有读不懂的地方。请按说明改正文件后再上传。', en: 'Parts of the code list cannot be read. Fix the file where shown and upload it again.' },
  CODE_REGISTRY_EMPTY: { zh: '清单里没有这个商品的追溯码。请检查是否选错了商品或文件。', en: 'The list holds no trace code of this product. Check the product and the file.' },
  LEDGER_BOUND_BROKEN: { zh: '这笔账会让账户余额超出允许范围，没有记账。请联系技术支持。', en: 'This would push an account beyond its limits, so nothing was booked. Call support.' },
  INCENTIVE_RATE_OVERLAP: { zh: '这个回收激励标准与已有标准在同样的包装和日期上重叠。请先结束原标准，或缩小本标准的范围。', en: 'This incentive rate overlaps an existing one for the same containers and days. End the old rate first, or narrow this one.' },
  INCENTIVE_RATE_IN_PAST: { zh: '回收激励标准不能从过去的日期开始或结束。请选择今天或以后的日期。', en: 'An incentive rate cannot start or end in the past. Choose today or a later date.' },
  POINTS_INSUFFICIENT: { zh: '这位农户的积分不够。请先查积分余额，再按余额兑换。', en: 'This farmer does not have that many points. Check the points balance and redeem no more than it.' },
  SYNC_KIND_UNAVAILABLE: { zh: '服务器暂时不能接收这类记录。记录已保存在本机，稍后会自动重发。', en: 'The server cannot take this kind of record yet. It is kept on this PC and sent again later.' },
  BAG_SEALED: { zh: '这个袋子已封口，不能再装或改。请另开一个新袋。', en: 'This bag is sealed and cannot change. Open a new bag.' },
  BAG_WRONG_STATE: { zh: '这个袋子当前的状态不能做这项操作。请刷新后查看它的状态。', en: 'The bag’s current state does not allow this. Reload and check its state.' },
  BAG_EMPTY: { zh: '空袋不能封口。请先装入包装。', en: 'An empty bag cannot be sealed. Put containers in first.' },
  BAG_MATERIAL_MISMATCH: { zh: '这个包装的材质与袋子不同。请放进对应材质的袋子。', en: 'This container is of another material than the bag. Put it in a bag of its material.' },
  BAG_EXCEEDS_RETURNED: { zh: '装袋数量超过了本店回收的数量。请核对装袋的包装。', en: 'More containers would be bagged than this shop took back. Check what goes in.' },
  UNIT_CODE_NOT_RETURNED_HERE: { zh: '这个追溯码不是在本店回收的，不能装袋。请检查这个包装。', en: 'This trace code was not returned at this shop, so it cannot be bagged. Check the container.' },
  UNIT_CODE_ALREADY_BAGGED: { zh: '这个包装已经装进别的袋子了，不用再装。', en: 'This container is already in a bag; no need to bag it again.' },
  SEAL_NO_DUPLICATE: { zh: '这个封条号已经用过了。请换一个新封条。', en: 'This seal number is already used. Take a new seal.' },
  BAG_ALREADY_ON_MANIFEST: { zh: '这个袋子已经列入转运联单。', en: 'This bag is already on a manifest.' },
  MANIFEST_LOCKED: { zh: '转运联单已进入下一环节，不能再改。', en: 'The manifest has moved on and cannot change.' },
  SIGNATURE_OUT_OF_ORDER: { zh: '现在还不该您签字。请等前一方签字后再签。', en: 'It is not your turn to sign. Wait for the one before you.' },
  SIGNER_NOT_PARTY: { zh: '您不是这一环节应签字的一方，不能签字。', en: 'You are not the party that signs here.' },
  MANIFEST_NOT_DELIVERED: { zh: '双方签字交接后才能验收。请先完成交接签字。', en: 'Bags can be inspected only after both sides signed the delivery. Sign the hand-over first.' },
  BAG_NOT_ON_MANIFEST: { zh: '这个袋子不在这张联单上。请核对封条号。', en: 'This bag is not on this manifest. Check the seal number.' },
  BAG_ALREADY_INSPECTED: { zh: '这个袋子已经验收过了。如需更正，请登记更正。', en: 'This bag was already inspected. Record a correction instead.' },
  BAG_NOT_INSPECTED: { zh: '这个袋子还没有验收。请先验收。', en: 'This bag has not been inspected yet. Inspect it first.' },
  DISCREPANCY_REQUIRED: { zh: '验收发现差异，要登记差异类型并写明情况。', en: 'The inspection found a difference: record its kind with a comment.' },
  INVALID_TRACKING_NUMBER: { zh: '联单编号不对（应为16位数字）。请核对后重新输入。', en: 'The tracking number is wrong (16 digits). Check and type it again.' },
  DISPOSAL_LICENCE_MISMATCH: { zh: '许可证号与处置单位不符。请核对许可证号。', en: 'The licence number is not this facility’s. Check it.' },
  CERTIFICATE_DUPLICATE: { zh: '这个处置证明编号已经登记过了。', en: 'This disposal certificate number is already recorded.' },
  BAGS_NOT_AT_ONE_FACILITY: { zh: '一次处置只能包含同一处置单位的袋子。请分开登记。', en: 'One disposal covers bags at one facility. Record them separately.' },
  RECONCILIATION_PERIOD_INVALID: { zh: '对账期写法不对，应为月份（2026-03）或年份（2026）。', en: 'The reconciliation period must be a month (2026-03) or a year (2026).' },
  RECONCILIATION_AS_OF_IN_FUTURE: { zh: '截止时间不能晚于现在。请选择现在或更早的时间。', en: 'The cut-off cannot be in the future. Choose now or earlier.' },
  INVALID_MONTH_RANGE: { zh: '起止月份不对：起始月份不能晚于结束月份。请重新选择。', en: 'The months are wrong: the first may not be after the last. Choose them again.' },
  REPORT_MONTH_IN_FUTURE: { zh: '这个月还没开始，没有月报。请选择本月或更早的月份。', en: 'That month has not begun, so there is no report yet. Choose this month or an earlier one.' },
  REPORT_PDF_UNAVAILABLE: { zh: '现在无法生成 PDF 月报。请先打开网页版月报用浏览器打印，或稍后再试。', en: 'The PDF report cannot be made right now. Print the web page of the report instead, or try later.' },
  SMS_NOT_CONFIGURED: { zh: '本服务器没有开通短信。请联系系统管理员。', en: 'SMS is not set up on this server. Contact the administrator.' },
  SMS_SECRET_INVALID: { zh: '短信网关的密钥不对。请系统管理员检查短信设置。', en: 'The SMS gateway’s secret is wrong. The administrator should check the SMS settings.' },
  SMS_OUTBOX_NOT_FOUND: { zh: '没有找到这条短信。请刷新后再看。', en: 'No such text message. Reload and look again.' },
  SERVER_BUSY: { zh: '服务器正忙。请等几秒再试。', en: 'The server is busy. Wait a few seconds and try again.' },
  DATABASE_UNAVAILABLE: { zh: '县服务器的数据库暂时不可用。请稍后再试；柜台的记录已保存在本机，会自动补传。', en: 'The county server’s database is down for now. Try again shortly; the counter keeps its records and sends them later.' },
  INTERNAL: { zh: '县服务器出了故障，已记录。请稍后再试；仍不行请联系技术支持。', en: 'The county server had a fault; it has been logged. Try again shortly; if it persists, call support.' },
};

/** Codes and states of the shop terminal itself (terminals/), and of the officials' pages. */
const TERMINAL: Record<string, PlainWords> = {
  OFFLINE: { zh: '连不上县服务器。记录已保存在本机，联网后会自动上传，可以继续营业。', en: 'The county server cannot be reached. Records are kept on this PC and sent when the line is back; keep serving.' },
  SERVER_URL_MISSING: { zh: '没有填写县服务器地址。请填写县农业农村局给的服务器地址（如 https://…），再注册。', en: 'The county server address is missing. Type the address the county bureau gave you (https://…), then enrol.' },
  ENROLMENT_FAILED: { zh: '注册没有成功。请核对服务器地址和注册码后再试。', en: 'Enrolment did not succeed. Check the server address and the code, and try again.' },
  NOT_ENROLLED: { zh: '本终端还没有注册。请先输入县里发的注册码完成注册。', en: 'This terminal is not enrolled yet. Enter the county’s enrolment code first.' },
  NO_REFERENCE_DATA: { zh: '还没有下载商品和押金目录。请联网后稍等片刻，或点“立即同步”。', en: 'Products and deposits are not downloaded yet. Connect to the internet and wait, or press “Sync now”.' },
  UNAUTHORIZED: { zh: '没有权限做这项操作。请使用正确的回放令牌。', en: 'Not allowed without the right token. Use the correct replay token.' },
  BAD_REPLAY_FILE: { zh: '回放文件无法读取。请检查文件是否完整。', en: 'The replay file cannot be read. Check that the file is complete.' },
  BAD_SPEED: { zh: '回放速度无效。请输入0或正数。', en: 'The replay speed is not valid. Give 0 or a positive number.' },
  MISREAD: { zh: '读码不全，请重扫。', en: 'Misread — scan again.' },
  FOREIGN_BARCODE: { zh: '这个条码不是本县回收的农药产品，没有押金。请把包装还给农户。', en: 'This barcode is not a pesticide of the county’s scheme; it carries no deposit. Hand the item back.' },
  SALE_RECEIPT: { zh: '这是农户的销售小票，已打开这笔销售，列出可以退回的包装。', en: 'This is the farmer’s sale receipt: the sale is open, with what can come back.' },
  RECEIPT_NOT_FOUND: { zh: '找不到这张销售小票。请核对小票，或按追溯码逐个扫描。', en: 'This sale receipt was not found. Check the receipt, or scan the containers one by one.' },
  PRINTER_UNREACHABLE: { zh: '连不上打印机。请检查打印机电源和网线，然后点“重试”；也可以手写收据。', en: 'The printer cannot be reached. Check its power and cable, then press “Retry”, or give a handwritten receipt.' },
  PRINTER_TIMEOUT: { zh: '打印机没有回应。请检查打印机后点“重试”；也可以手写收据。', en: 'The printer did not answer. Check it and press “Retry”, or give a handwritten receipt.' },
  PRINTER_PAPER_OUT: { zh: '打印机没纸了。请装上纸卷后点“重试”。', en: 'The printer is out of paper. Load a roll and press “Retry”.' },
  PRINTER_IO: { zh: '打印中途出错。请检查打印机后点“重试”；也可以手写收据。', en: 'Printing failed part-way. Check the printer and press “Retry”, or give a handwritten receipt.' },
  PRINT_JOB_NOT_FOUND: { zh: '找不到这个打印任务。请刷新记录页后再试。', en: 'This print job was not found. Reload the records screen and try again.' },
  PRINT_QUEUE_CLOSED: { zh: '打印队列已关闭（终端正在退出）。请重新启动终端。', en: 'The print queue is closed (the terminal is stopping). Start the terminal again.' },
  PRINT_QUEUE_LOCKED: { zh: '另一个终端程序正在使用打印队列。请关掉多余的终端程序。', en: 'Another terminal program is using the print queue. Close the extra program.' },
  PRINT_RENDER: { zh: '小票排版失败，没有打印。请联系技术支持；可先手写收据。', en: 'The receipt could not be laid out and was not printed. Call support; give a handwritten receipt meanwhile.' },
  PRINT_MODEL_INVALID: { zh: '小票内容有误，没有打印。请联系技术支持；可先手写收据。', en: 'The receipt data is inconsistent and was not printed. Call support; give a handwritten receipt meanwhile.' },
  BAG_NOT_FOUND: { zh: '本终端没有这个袋子。请刷新收集袋页面。', en: 'This terminal has no such bag. Reload the bags screen.' },
  BAG_NOT_SEALED: { zh: '袋子还没封口，不能打印袋签。请先封袋。', en: 'The bag is not sealed yet, so it has no label. Seal it first.' },
  BAG_REFUSED: { zh: '县服务器拒绝了这个袋子。请另开一个新袋。', en: 'The county server refused this bag. Open a new one.' },
  SEAL_NO_REQUIRED: { zh: '封袋要填封条号。请输入或扫描封条号。', en: 'Sealing needs the seal number. Type or scan it.' },
  NOTHING_TO_ADD: { zh: '没有可装袋的包装。请先扫码或选择回收单。', en: 'Nothing to put in the bag. Scan containers or choose a return first.' },
  RETURN_NOT_FOUND: { zh: '本终端没有这张回收单。请重新选择。', en: 'This terminal has no such return. Choose again.' },
  CONTAINER_TYPE_NOT_FOUND: { zh: '目录里没有这种包装类型。请联网同步后再试。', en: 'This container type is not in the catalogue. Sync, then try again.' },
  UNASSIGNED_CONTAINERS: { zh: '计数机数到的包装还没选商品。请在“按商品计数”里选择商品。', en: 'Counted containers have no product yet. Choose it under “Count by product”.' },
  POINTS_NEED_SERVER: { zh: '积分只能在连上县服务器时兑换：余额只有县服务器知道。请联网后再兑换，今天可以先登记农户要的物品。', en: 'Points can only be redeemed when the terminal reaches the county server: only the server knows the balance. Redeem once the line is back.' },
  POINTS_FARMER_UNKNOWN: { zh: '没有这个手机号的农户，还没有积分。请核对手机号。', en: 'No farmer has this phone number, so there are no points yet. Check the number.' },
  POINTS_FARMER_NOT_SYNCED: { zh: '这位农户刚在本店登记，还没同步到县服务器。请点“立即同步”，稍后再查积分。', en: 'This farmer was just registered here and is not at the county server yet. Press “Sync now”, then look up the points again.' },
  REDEMPTION_UNFINISHED: { zh: '这个手机号上次的积分兑换没有收到县服务器的回复。请先按原样再确认那一笔（不会重复扣分），再办新的。', en: 'The last redemption for this phone got no answer from the county server. Confirm it again as it was first (points are never taken twice), then start a new one.' },
  RECORD_NOT_FOUND: { zh: '本终端没有这条记录。请刷新后再试。', en: 'This terminal has no such record. Reload and try again.' },
  VOID_OTHER_TERMINAL: { zh: '这张单据不是本终端开的，不能在这里作废。请到开单的终端作废，或联系县农业农村局。', en: 'This record was not made at this terminal, so it cannot be voided here. Void it at the terminal that made it, or contact the county bureau.' },
  VOID_EARLIER_DAY: { zh: '只能作废本终端今天的单据。这张是更早营业日的，请联系县农业农村局冲正。', en: 'Only today’s records of this terminal can be voided. This one is of an earlier day: ask the county bureau to reverse it.' },
  VOID_TARGET_REFUSED: { zh: '县服务器已拒绝这张单据，它没有入账，不需要作废。', en: 'The county server refused this record; it was never booked, so there is nothing to void.' },
  VOID_NOT_VOIDABLE: { zh: '只有销售和退押单据可以作废。请在记录页选择销售或退押单据。', en: 'Only sales and returns can be voided. Choose a sale or a return on the records screen.' },
  VOID_REASON_REQUIRED: { zh: '作废要选原因。请在列表中选择作废原因。', en: 'A void needs a reason. Choose one from the list.' },
  NO_PAYABLE_REFUNDS: { zh: '这个手机号没有县里已批准、可在本店领取的退款。', en: 'This phone has no county-approved refund to collect here.' },
  HTTP_ERROR: { zh: '出了点问题，没有完成。请再试一次；仍不行请联系技术支持。', en: 'Something went wrong and nothing was done. Try again; if it persists, call support.' },
};

/**
 * Codes of single fields inside a VALIDATION_FAILED answer (`details[].code`, upper-cased here) whose
 * rule is worth saying in words rather than as a regular expression.
 */
const FIELD: Record<string, PlainWords> = {
  INVALID_CLIENT_ID: { zh: '单据编号应为小写的 UUID（8-4-4-4-12 位十六进制，如 crypto.randomUUID() 生成的 v4；推荐按时间排序的 v7）。请由程序重新生成编号再提交。', en: 'The record id must be a lowercase UUID (8-4-4-4-12 hex digits: v4 as crypto.randomUUID() makes, or the time-ordered v7, preferred). Let the program make a new id and send again.' },
};

/** Every code with its plain words: the server's catalogue, the terminal's own and field rules. */
export const PLAIN_WORDS: Readonly<Record<string, PlainWords>> = { ...SERVER, ...TERMINAL, ...FIELD };

export const TERMINAL_CODES: readonly string[] = Object.keys(TERMINAL);

/** The sentence for a code, in the language asked; unknown codes get the general sentence. */
export function plainWords(code: string | null | undefined, lang: 'zh' | 'en'): string {
  const w = (code && Object.prototype.hasOwnProperty.call(PLAIN_WORDS, code) ? PLAIN_WORDS[code] : undefined) ?? PLAIN_WORDS.HTTP_ERROR!;
  return w[lang];
}
