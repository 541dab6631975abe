import { mdTable } from '../reports/render-validation.ts';
import { UNDO_OUTCOMES, type UndoResult } from './undo-contract.ts';

const HEADLINES: Record<UndoResult['status'], (r: UndoResult) => string> = {
  undone: (r) =>
    r.chunks === 0 && r.alreadyUndone > 0
      ? `Run ${r.runId} was already undone: nothing left to do (${r.alreadyUndone} journal entries handled before).`
      : `Run ${r.runId} undone.`,
  planned: (r) => `DRY RUN: nothing was written; undoing run ${r.runId} would do:`,
  stopped: (r) =>
    `STOPPED: ${r.dependents.count} later row(s) depend on rows run ${r.runId} created; nothing was written. ` +
    'Remove or re-point them, or undo again keeping what they depend on (--keep-dependents).',
  'in-progress': (r) => `Run ${r.runId}: undo in progress; run the command again to continue.`,
};

/** The undo's outcome for people: a headline, a table per unified table, the rows it names. */
export function renderUndoMarkdown(result: UndoResult): string {
  const lines = [HEADLINES[result.status](result)];
  const rows = Object.entries(result.tables)
    .filter(([, counts]) => UNDO_OUTCOMES.some((o) => counts[o] > 0))
    .map(([table, counts]) => [table, ...UNDO_OUTCOMES.map((o) => counts[o])]);
  if (rows.length > 0)
    lines.push(
      '',
      mdTable(
        ['table', ...UNDO_OUTCOMES],
        rows,
        UNDO_OUTCOMES.map((_, i) => i + 1),
      ),
    );
  const list = (title: string, sample: UndoResult['dependents']) => {
    if (sample.count === 0) return;
    lines.push('', `${title} (${sample.count}):`);
    for (const entry of sample.sample) {
      lines.push(
        `- ${Object.entries(entry)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
    }
    if (sample.count > sample.sample.length)
      lines.push(
        `- … ${sample.count - sample.sample.length} more (the JSON report lists up to its sample size)`,
      );
  };
  list('later rows that depend on rows the run created', result.dependents);
  list('rows changed after the run (left as they are)', result.changedSince);
  return lines.join('\n');
}
