// The survivors' explanations in bench/mutation.ts against the modules they explain, read from
// disk as they are now: each entry finds exactly the mutants it is about, and still does after the
// module is reformatted, so a new print width or a moved line break cannot lose an explanation.
// No Stryker run: the mutants are made up at every place the source reads an entry's text.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { EQUIVALENT, explanationFor, normalized, type Explanation, type Mutant } from '../../bench/mutation';

const root = fileURLToPath(new URL('../..', import.meta.url));
const files = [...new Set(EQUIVALENT.map((entry) => entry.file))].sort();

/** Print widths to reformat with: the project's is 110. */
const WIDTHS = [60, 40];

interface Place {
  start: number;
  end: number;
  location: Mutant['location'];
}

/** Every node of the source whose text reads `text`, as a mutant's place. */
function placesReading(sourceFile: ts.SourceFile, text: string): Place[] {
  const places = new Map<string, Place>();
  const visit = (node: ts.Node) => {
    if (normalized(node.getText(sourceFile)) === normalized(text)) {
      const [start, end] = [node.getStart(sourceFile), node.getEnd()];
      const at = (offset: number) => {
        const { line, character } = sourceFile.getLineAndCharacterOfPosition(offset);
        return { line: line + 1, column: character + 1 };
      };
      places.set(`${start}:${end}`, { start, end, location: { start: at(start), end: at(end) } });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return [...places.values()];
}

/** Where the nodes that `matches` picks start and end. */
function rangesOf(sourceFile: ts.SourceFile, matches: (node: ts.Node) => boolean) {
  const ranges: { start: number; end: number }[] = [];
  const visit = (node: ts.Node) => {
    if (matches(node)) ranges.push({ start: node.getStart(sourceFile), end: node.getEnd() });
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return ranges;
}

/** Whether a node is a declaration named `name`, of the kinds a scope can name. */
const named = (name: string) => (node: ts.Node) => {
  if (ts.isConstructorDeclaration(node)) return name === 'constructor';
  const declaration =
    ts.isFunctionLike(node) ||
    ts.isClassLike(node) ||
    ts.isVariableDeclaration(node) ||
    ts.isPropertyDeclaration(node);
  return (
    declaration &&
    node.name !== undefined &&
    (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name)) &&
    node.name.text === name
  );
};

/**
 * For every entry of the file, the places its explanation is for: where the source reads its text,
 * inside a declaration named its scope (and inside its `inside` expression).
 */
function intendedPlaces(file: string, source: string, entries: Explanation[]) {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const within = (place: Place, ranges: { start: number; end: number }[]) =>
    ranges.some((range) => range.start <= place.start && place.end <= range.end);
  return entries.map((entry) => {
    const all = placesReading(sourceFile, entry.text);
    const scopes = rangesOf(sourceFile, named(entry.scope));
    const { inside } = entry;
    const insides = inside
      ? rangesOf(sourceFile, (node) => normalized(node.getText(sourceFile)) === normalized(inside))
      : undefined;
    const intended = all.filter(
      (place) => within(place, scopes) && (insides === undefined || within(place, insides)),
    );
    return { entry, all, intended };
  });
}

/** Asks bench/mutation.ts about every made-up mutant; returns, per entry, the places it explained. */
function explainedPlaces(file: string, source: string, entries: Explanation[]) {
  const found = intendedPlaces(file, source, entries);
  // Each place once, though several entries may read the same text.
  const places = [
    ...new Map(
      found.flatMap(({ all }) => all).map((place) => [`${place.start}:${place.end}`, place]),
    ).values(),
  ];
  return found.map(({ entry, intended }) => {
    const explained = places.filter(
      (place) =>
        explanationFor(file, source, {
          mutatorName: entry.mutator,
          replacement: entry.replacement,
          location: place.location,
        }) === entry,
    );
    // No other mutator or replacement at those places takes this entry's explanation.
    for (const place of intended) {
      expect(
        explanationFor(file, source, {
          mutatorName: 'NoSuchMutator',
          replacement: entry.replacement,
          location: place.location,
        }),
      ).toBeUndefined();
      expect(
        explanationFor(file, source, {
          mutatorName: entry.mutator,
          replacement: `${entry.replacement} + 1`,
          location: place.location,
        }),
      ).toBeUndefined();
    }
    return { entry, intended, explained };
  });
}

const label = (entry: Explanation) => `${entry.scope}: ${entry.mutator} ${entry.text}`;
/** Explained mutants the reformats moved onto a line that reads differently, or spread over lines. */
let movedLines = 0;

const sourceLine = (source: string, line: number) => (source.split('\n')[line - 1] ?? '').trim();

describe('the explanations of mutation survivors (bench/mutation.ts)', () => {
  it('key every entry apart', () => {
    const keys = EQUIVALENT.map((entry) =>
      [entry.file, entry.scope, entry.mutator, entry.text, entry.replacement, entry.inside ?? '']
        .map(normalized)
        .join(' '),
    );
    expect(new Set(keys).size).toBe(EQUIVALENT.length);
  });

  it.each(files)(
    'find in %s exactly the mutants they are about, before and after a reformat',
    async (file) => {
      const absolute = path.join(root, file);
      if (!existsSync(absolute))
        expect.fail(`${file} is missing (moved?): its entries in bench/mutation.ts need the new path.`);
      const source = readFileSync(absolute, 'utf8');
      const entries = EQUIVALENT.filter((entry) => entry.file === file);

      const before = explainedPlaces(file, source, entries);
      for (const { entry, intended, explained } of before) {
        // A stale entry (renamed scope, rewritten text) explains nothing: say which.
        expect(intended, label(entry)).not.toHaveLength(0);
        expect(explained, label(entry)).toEqual(intended);
      }

      for (const printWidth of WIDTHS) {
        const options = { ...(await resolveConfig(absolute)), filepath: absolute, printWidth };
        const reformatted = await format(source, options);
        expect(reformatted).not.toBe(source);
        const after = explainedPlaces(file, reformatted, entries);
        for (const [index, { entry, intended, explained }] of after.entries()) {
          const was = before[index]?.explained ?? [];
          expect(explained, label(entry)).toEqual(intended);
          expect(explained.length, label(entry)).toBe(was.length);
          explained.forEach(({ location: { start, end } }, n) => {
            const old = was[n]?.location.start.line ?? 0;
            if (start.line !== end.line || sourceLine(reformatted, start.line) !== sourceLine(source, old))
              movedLines += 1;
          });
        }
      }
    },
  );

  it('are found again where a key by the text of the line would have lost them', () => {
    expect(movedLines).toBeGreaterThan(0);
  });
});
