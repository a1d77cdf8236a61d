// One table per figure, printed as it is measured and written to bench/results.md at the end.

export interface Row {
  measure: string;
  value: string;
  /** What the issue asks for, when it sets a target. */
  target?: string;
  met?: boolean;
}

export interface Figure {
  title: string;
  rows: Row[];
  /** How it was measured and, for a missed target, what holds it back. */
  notes?: string[];
}

const cell = (text: string) => text.replaceAll('|', '\\|');

export function toMarkdown(figure: Figure): string {
  const lines = [
    `## ${figure.title}`,
    '',
    '| measure | value | target | |',
    '| --- | --- | --- | --- |',
    ...figure.rows.map((row) => {
      const verdict = row.met === undefined ? '' : row.met ? 'met' : '**missed**';
      return `| ${cell(row.measure)} | ${cell(row.value)} | ${cell(row.target ?? '')} | ${verdict} |`;
    }),
  ];
  if (figure.notes?.length) lines.push('', ...figure.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

export function printFigure(figure: Figure): void {
  console.log(`\n${figure.title}`);
  console.table(
    figure.rows.map((row) => ({
      measure: row.measure,
      value: row.value,
      target: row.target ?? '',
      met: row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
    })),
  );
  for (const note of figure.notes ?? []) console.log(`  - ${note}`);
}
