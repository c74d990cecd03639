// The CSV writer's quoting, checked against an independent parser and csv-parse.
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { csvField, toCsv } from '../../src/report/csv';
import { parseCsv } from './csv-parse';

describe('csvField', () => {
  test.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    [' padded', '" padded"'],
    ['padded ', '"padded "'],
    ['', ''],
  ])('%j → %j', (input, expected) => expect(csvField(input)).toBe(expected));

  test('numbers keep full precision; null and undefined are empty', () => {
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(true)).toBe('true');
  });
});

describe('toCsv', () => {
  test('rejects a row whose width differs from the header', () => {
    expect(() => toCsv(['a', 'b'], [['1', '2'], ['3']])).toThrow('toCsv: row 1 has 1 fields, the header has 2');
  });

  test('any table of strings round-trips through both parsers', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '→', '1') });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((w) => fc.array(fc.array(text, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 6 })), (table) => {
        const [header, ...rows] = table;
        const csv = toCsv(header, rows);
        // An all-empty one-column line is a blank line to csv-parse, so compare our parser on every table and
        // csv-parse where no line is blank.
        expect(parseCsv(csv)).toEqual(table);
        if (header.length > 1 || table.every((r) => r[0] !== '')) expect(parse(csv, { relax_column_count: false })).toEqual(table);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
