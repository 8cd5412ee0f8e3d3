import { formatPath, type Problem } from './problem.ts';

/** `content/plans/acme.md:12: stages[0].tasks[1].owner: message` and an indented hint line. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line].filter((x) => x !== undefined && x !== '').join(':');
  const path = formatPath(p.path);
  const head = [where, path].filter(Boolean).join(': ');
  const tag = p.severity === 'warning' ? 'warning' : 'error';
  const line = `${head ? `${head}: ` : ''}${tag}: ${p.message} [${p.code}]`;
  return p.hint ? `${line}\n    hint: ${p.hint}` : line;
}

export function problemToJson(p: Problem): Record<string, unknown> {
  return {
    file: p.file ?? null,
    line: p.line ?? null,
    path: formatPath(p.path) || null,
    severity: p.severity,
    code: p.code,
    message: p.message,
    hint: p.hint ?? null,
  };
}
