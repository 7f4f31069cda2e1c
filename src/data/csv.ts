// Numeric CSV: every field a decimal number (optionally "quoted"), every row the same number of
// columns, an optional header row. One column holds the label (classification, integers 0..255)
// or the target (regression); the rest are the features.
import { DataError, IDENTITY_NORMALIZATION, type RawDataset, type Task } from './dataset.js';
import { readFileBytes } from './files.js';

export interface CsvOptions {
  /** Column index (negative counts from the end) or header name. Default −1: the last column. */
  labelColumn?: number | string;
  /** true: the first row is a header; false: data; 'auto' (default): a header if any field of the first row is not a number. */
  header?: boolean | 'auto';
  /** 'classification' (default): labels are integers 0..255. 'regression': the label column is a float target. */
  task?: Task;
  /** Classification: labels must be < numClasses (default: largest label + 1). */
  numClasses?: number;
  /** Field separator (default ','). */
  delimiter?: string;
  /** Dataset name (default: the file name, or 'csv'). */
  name?: string;
  /** Refuse files with more columns than this (default 100,000), before splitting a single row. */
  maxColumns?: number;
}

export const DEFAULT_MAX_CSV_COLUMNS = 100_000;

/** Fields in `line` if it has no more than `max` (counting delimiters, quotes ignored), else -1. */
function roughColumns(line: string, delimiter: string, max: number): number {
  let n = 1;
  for (let i = line.indexOf(delimiter); i >= 0; i = line.indexOf(delimiter, i + delimiter.length)) {
    if (++n > max) return -1;
  }
  return n;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function splitFields(line: string, delimiter: string, where: () => string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field: string;
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let j = i + 1,
        s = '';
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new DataError(`slimgpu.data: ${where()}: unterminated quoted field`);
        s += line.slice(j, q);
        if (line[q + 1] === '"') {
          s += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      while (line[j] === ' ' || line[j] === '\t') j++;
      if (j < line.length && !line.startsWith(delimiter, j)) throw new DataError(`slimgpu.data: ${where()}: unexpected text after a quoted field`);
      field = s;
      i = j;
    } else {
      const d = line.indexOf(delimiter, i);
      field = (d < 0 ? line.slice(i) : line.slice(i, d)).trim();
      i = d < 0 ? line.length : d;
    }
    out.push(field);
    if (i >= line.length) return out;
    i += delimiter.length; // past the delimiter; a trailing delimiter yields a final empty field
    if (i === line.length) {
      out.push('');
      return out;
    }
  }
}

/** Parses numeric CSV text into a dataset. `source` names the text in errors. */
/** The options' checks and the non-blank rows of a CSV text, all of the same column count (≥ 2). */
function csvRows(text: string, opts: CsvOptions, source: string): { line: number; fields: string[] }[] {
  const delimiter = opts.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || delimiter === '"')
    throw new DataError(`slimgpu.data: CSV delimiter must be a non-empty string other than '"', got ${JSON.stringify(delimiter)}`);
  const task = opts.task ?? 'classification';
  if (task !== 'classification' && task !== 'regression')
    throw new DataError(`slimgpu.data: CSV task must be 'classification' or 'regression', got ${String(task)}`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
  const maxColumns = opts.maxColumns ?? DEFAULT_MAX_CSV_COLUMNS;
  if (!Number.isSafeInteger(maxColumns) || maxColumns < 2)
    throw new DataError(`slimgpu.data: CSV maxColumns must be an integer ≥ 2, got ${maxColumns}`);
  const lines = text.split(/\r\n|\n|\r/);
  const rows: { line: number; fields: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue; // blank lines (e.g. the final newline) are skipped
    // a huge row is refused before it becomes millions of strings
    if (roughColumns(lines[i]!, delimiter, maxColumns) < 0)
      throw new DataError(`slimgpu.data: ${source} line ${i + 1} has more than ${maxColumns} columns (maxColumns); refused`);
    rows.push({ line: i + 1, fields: splitFields(lines[i]!, delimiter, () => `${source} line ${i + 1}`) });
  }
  if (rows.length === 0) throw new DataError(`slimgpu.data: ${source} has no rows`);
  const cols = rows[0]!.fields.length;
  for (const r of rows) {
    if (r.fields.length !== cols)
      throw new DataError(`slimgpu.data: ${source} line ${r.line} has ${r.fields.length} columns, expected ${cols} like line ${rows[0]!.line}`);
  }
  if (cols < 2) throw new DataError(`slimgpu.data: ${source} has ${cols} column; it needs at least one feature and the label column`);
  return rows;
}

/** The label column's index from a name or a (negative: from the end) position. */
function labelIndex(lc: number | string, names: string[] | undefined, cols: number, source: string): number {
  if (typeof lc === 'string') {
    if (!names) throw new DataError(`slimgpu.data: ${source}: labelColumn '${lc}' is a name, but the file has no header row`);
    const label = names.indexOf(lc);
    if (label < 0) throw new DataError(`slimgpu.data: ${source}: no column named '${lc}' (columns: ${names.join(', ')})`);
    return label;
  }
  if (!Number.isInteger(lc) || lc >= cols || lc < -cols)
    throw new DataError(`slimgpu.data: ${source}: labelColumn ${lc} is outside the ${cols} columns`);
  return lc < 0 ? cols + lc : lc;
}

/** Class labels (integers in [0, 255], below numClasses) from the label column's values; errors name `source line L, column`. */
function classLabels(
  values: Float64Array,
  lines: number[],
  numClassesOpt: number | undefined,
  source: string,
  column: string,
): { labels: Uint8Array; numClasses: number } {
  const n = values.length;
  const labels = new Uint8Array(n);
  let maxLabel = 0;
  for (let r = 0; r < n; r++) {
    const v = values[r]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new DataError(
        `slimgpu.data: ${source} line ${lines[r]}, ${column}: label ${v} is not an integer in [0, 255] (use task: 'regression' for real-valued targets)`,
      );
    }
    labels[r] = v;
    if (v > maxLabel) maxLabel = v;
  }
  const numClasses = numClassesOpt ?? maxLabel + 1;
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256)
    throw new DataError(`slimgpu.data: ${source}: numClasses must be an integer in [1, 256], got ${numClasses}`);
  for (let r = 0; r < n; r++) {
    if (labels[r]! >= numClasses)
      throw new DataError(`slimgpu.data: ${source} line ${lines[r]}, ${column}: label ${labels[r]} is not < numClasses = ${numClasses}`);
  }
  return { labels, numClasses };
}

export function parseCsv(text: string, opts: CsvOptions = {}, source = 'CSV'): RawDataset {
  const task = opts.task ?? 'classification';
  const rows = csvRows(text, opts, source);
  const cols = rows[0]!.fields.length;
  const header = opts.header ?? 'auto';
  const hasHeader = header === 'auto' ? rows[0]!.fields.some((f) => !NUMBER.test(f)) : header;
  const names = hasHeader ? rows[0]!.fields : undefined;
  const data = hasHeader ? rows.slice(1) : rows;
  if (data.length === 0) throw new DataError(`slimgpu.data: ${source} has a header row but no data rows`);
  const label = labelIndex(opts.labelColumn ?? -1, names, cols, source);
  const colName = (c: number) => (names ? ` ('${names[c]}')` : '');

  const n = data.length,
    f = cols - 1;
  const inputs = new Float32Array(n * f);
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const { line, fields } = data[r]!;
    let k = r * f;
    for (let c = 0; c < cols; c++) {
      const s = fields[c]!;
      const v = NUMBER.test(s) ? Number(s) : NaN;
      if (!Number.isFinite(v)) {
        throw new DataError(`slimgpu.data: ${source} line ${line}, column ${c + 1}${colName(c)}: ${JSON.stringify(s)} is not a finite number`);
      }
      if (c === label) values[r] = v;
      else inputs[k++] = v;
    }
  }

  const base = { name: opts.name ?? 'csv', n, inputShape: [f], featureCount: f, inputs, normalization: { ...IDENTITY_NORMALIZATION } };
  if (task === 'regression') {
    return { ...base, task, labels: undefined, numClasses: 0, targets: Float32Array.from(values), targetDim: 1 };
  }
  const lines = data.map((d) => d.line);
  const { labels, numClasses } = classLabels(values, lines, opts.numClasses, source, `column ${label + 1}${colName(label)}`);
  return { ...base, task, labels, numClasses, targets: undefined, targetDim: 0 };
}

/** Reads and parses a numeric CSV file (Node). */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<RawDataset> {
  const bytes = await readFileBytes(path, 'CSV file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`slimgpu.data: CSV file '${path}' is not valid UTF-8 text`);
  }
  return parseCsv(text, { name: path.split(/[\\/]/).pop() || 'csv', ...opts }, `CSV file '${path}'`);
}
