/**
 * A problem is data (code + path + message), as zod does it: formatting it for a terminal,
 * JSON or an email is a separate step (see format-problem.ts).
 */
import { errorCatalog, type ErrorCode } from './error-catalog.ts';

export type Severity = 'error' | 'warning';
export type ProblemPath = ReadonlyArray<string | number>;

export interface Problem {
  code: ErrorCode;
  severity: Severity;
  message: string;
  /** Path inside the plan's frontmatter (`stages[1].tasks[2].owner`), when it concerns a field. */
  path?: ProblemPath;
  hint?: string;
  /** Set by whoever knows the file: the CLI, the build. */
  file?: string;
  line?: number;
}

export function problem(
  code: ErrorCode,
  message: string,
  extra: Partial<Omit<Problem, 'code' | 'message'>> = {},
): Problem {
  const spec = errorCatalog[code];
  return {
    code,
    severity: extra.severity ?? spec.severity,
    message,
    ...(extra.path ? { path: extra.path } : {}),
    ...(extra.hint ?? spec.hint ? { hint: extra.hint ?? spec.hint } : {}),
    ...(extra.file ? { file: extra.file } : {}),
    ...(extra.line ? { line: extra.line } : {}),
  };
}

/** An expected failure that stops a command. The CLI prints it without a stack trace. */
export class TwofoldError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly problems: Problem[];
  constructor(code: ErrorCode, message: string, options: { hint?: string; problems?: Problem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TwofoldError';
    this.code = code;
    const hint = options.hint ?? errorCatalog[code].hint;
    if (hint) this.hint = hint;
    this.problems = options.problems ?? [];
  }
}

export function isTwofoldError(value: unknown): value is TwofoldError {
  return value instanceof TwofoldError;
}

/** `stages[1].tasks[2].owner` */
export function formatPath(path: ProblemPath | undefined): string {
  if (!path || path.length === 0) return '';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}
