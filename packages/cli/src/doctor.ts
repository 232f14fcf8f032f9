import type { StorageCheckReport } from '@modelstore/core';

/**
 * `modelstore doctor`'s text: one line per check (`ok`, `FAIL`, or `skip`, its name and
 * what was seen), what the store claims and was seen to do, and what to set for each
 * claim that does not hold.
 */
export function formatStorageReport(report: StorageCheckReport, store: string): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const mark = (check: StorageCheckReport['checks'][number]) => (!check.ok ? 'FAIL' : check.skipped ? 'skip' : 'ok  ');
  const seen = (value: boolean | undefined) => (value === undefined ? 'not determined' : value ? 'honoured' : 'NOT honoured');
  const failed = report.checks.filter((check) => !check.ok).length;
  return (
    `store: ${store}\n` +
    `claims: conditionalWrites ${report.claims.conditionalWrites}, rangeReads ${report.claims.rangeReads}\n` +
    `seen:   conditional writes ${seen(report.observed.conditionalWrites)}, range reads ${seen(report.observed.rangeReads)}\n\n` +
    report.checks.map((check) => `  ${mark(check)}  ${check.name.padEnd(width)}  ${check.detail}\n`).join('') +
    (report.staleRemoved.length ? `\nremoved ${report.staleRemoved.length} probe key(s) over an hour old left by an earlier check\n` : '') +
    (report.advice.length ? `\nwhat to do:\n${report.advice.map((line) => `  - ${line}\n`).join('')}` : '') +
    `\n${report.ok ? `ok: everything this store claims holds (${report.checks.length} checks, ${report.durationMs} ms)` : `${failed} of ${report.checks.length} checks failed: this store does not do what it claims`}\n`
  );
}
