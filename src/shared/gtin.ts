// GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) check digit: products scanned only by their barcode are
// counted per product, so a misread barcode must not silently become another product.
export function gtinCheckDigitOk(gtin: string): boolean {
  if (!/^(\d{8}|\d{12,14})$/.test(gtin)) return false;
  const digits = gtin.split('').map(Number);
  const check = digits.pop() as number;
  let sum = 0;
  // Weights 3,1,3,1… from the rightmost digit before the check digit.
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += (digits[i] as number) * w;
  return (10 - (sum % 10)) % 10 === check;
}

/** Appends the check digit to a GTIN body (for generators and tests). */
export function withGtinCheckDigit(body: string): string {
  const digits = body.split('').map(Number);
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += (digits[i] as number) * w;
  return `${body}${(10 - (sum % 10)) % 10}`;
}
