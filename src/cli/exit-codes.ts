import type { ErrorCode } from '../core/errors.js';

/** Exit codes; documented in `wharf --help`. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  accessDenied: 4,
  conflict: 5,
  interrupted: 130,
  /** 128 + SIGTERM's number, as a shell reports a process SIGTERM ended. */
  terminated: 143,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'VALIDATION':
      return EXIT.usage;
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'ACCESS_DENIED':
      return EXIT.accessDenied;
    case 'PRECONDITION_FAILED':
    case 'CONFLICT':
      return EXIT.conflict;
    case 'ABORTED':
      return EXIT.interrupted;
    default:
      return EXIT.failure;
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  failure (some objects failed, I/O error, refused key)
  2  usage error (bad arguments or options)
  3  not found (bucket, object, folder)
  4  access denied or bad credentials
  5  conflict or failed precondition
  130 interrupted (Ctrl-C)
  143 terminated (SIGTERM)`;
