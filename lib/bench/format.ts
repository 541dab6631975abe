import type { BenchResults, MethodFigure } from './run.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function methodRow(name: string, f: MethodFigure, note = ''): string {
  return row([name, int(f.legacyRows), secs(f.elapsedMs), int(f.rowsPerSecond), int(f.statements), note]);
}

/** The results as Markdown tables (what BENCHMARKS.md shows). */
export function formatResults(r: BenchResults): string {
  const lines: string[] = [];
  const s = r.sizes;
  lines.push(
    `Scale ${r.scale}: ${int(s.companyRecords)} legacy company records, ${int(s.personnelLinks)} personnel links, ` +
      `${int(s.projectLinks)} project links, ${int(s.projects)} projects, ${int(s.people)} people ` +
      `(built in ${secs(r.buildMs)}). Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ` +
      `Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}.`,
    '',
    row(['Method', 'Legacy rows', 'Wall time', 'Rows/s', 'Statements', 'Note']),
    row(['---', '---:', '---:', '---:', '---:', '---']),
  );
  for (const [step, f] of Object.entries(r.ours.backfill.steps))
    lines.push(methodRow(`ours: backfill ${step}`, f, `${int(f.chunks)} chunks`));
  lines.push(methodRow('**ours: backfill (3 steps)**', r.ours.backfill, 'default settings, run journal on'));
  lines.push(
    methodRow(
      'ours: validation',
      r.ours.validation,
      r.ours.validation.passed ? 'passed' : `did not pass: ${r.ours.validation.failedCriteria.join('; ')}`,
    ),
  );
  lines.push(methodRow('lower bound (set-based SQL)', r.lowerBound, 'one INSERT … SELECT per target table'));
  lines.push(
    methodRow(
      `row-by-row (sample, scale ${r.rowByRow.sampleScale})`,
      r.rowByRow.sample,
      `extrapolated to scale ${r.scale}: ${secs(r.rowByRow.extrapolatedMs)}`,
    ),
  );
  lines.push(methodRow(`ours on the same sample`, r.rowByRow.oursOnSample));
  lines.push('', row(['Target (issue)', 'Target', 'Measured', 'Met']), row(['---', '---', '---:', '---']));
  for (const [name, t] of Object.entries(r.targets))
    lines.push(
      row([
        name,
        t.target,
        typeof t.value === 'number' ? t.value.toLocaleString('en-US') : t.value,
        t.met ? 'yes' : '**no**',
      ]),
    );
  lines.push(
    '',
    row(['End-state check (natural keys)', 'Matches', 'Differing tables']),
    row(['---', '---', '---']),
  );
  for (const [name, c] of Object.entries(r.endStateChecks))
    lines.push(row([name, c.matches ? 'yes' : '**no**', c.differingTables.join(', ') || '—']));
  if (r.dataApi) {
    lines.push(
      '',
      `Data API (test double, ${int(r.dataApi.legacyRows)} legacy rows): ${int(r.dataApi.requests)} requests ` +
        `(${int(r.dataApi.executeStatements)} ExecuteStatement) = ${r.dataApi.requestsPer10kRows} per 10,000 legacy rows; ` +
        `largest response ${int(r.dataApi.maxResponseBytes)} bytes. ` +
        `Projected from the main run's statements and chunks at scale ${r.scale}: ` +
        `${r.projectedDataApiRequestsPer10kRows} requests per 10,000 legacy rows.`,
    );
  }
  if (r.bundles) {
    lines.push(
      '',
      row(['Lambda bundle', 'Minified bytes', 'Import ms (median of 5)']),
      row(['---', '---:', '---:']),
    );
    for (const b of r.bundles)
      lines.push(row([b.function, int(b.minifiedBytes), b.medianImportMs.toFixed(1)]));
  }
  return lines.join('\n');
}
