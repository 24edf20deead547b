// Structured JSON logs. Phone numbers, passwords and tokens never reach a log line: the redact list
// covers the fields that carry them, and request logging records routes, never bodies.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password', '*.password', 'phone', '*.phone', '*.*.phone', 'token', '*.token', 'refreshToken', '*.refreshToken',
  'accessToken', '*.accessToken', 'authorization', '*.authorization', 'req.headers.authorization',
  'headers.authorization', 'secret', '*.secret', 'credential', '*.credential', 'enrolmentCode', '*.enrolmentCode',
];

/** Matches anything that looks like a phone number so free text is scrubbed too. */
const PHONE_LIKE = /(\+?\d[\d\s-]{9,}\d)/g;

export function scrubPhones(text: string): string {
  return text.replace(PHONE_LIKE, (m) => (m.replace(/\D/g, '').length >= 11 ? '[phone]' : m));
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'agrireturn' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Messages are free text written by us; scrub them anyway so a careless interpolation of a
        // phone number cannot leak.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubPhones(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
