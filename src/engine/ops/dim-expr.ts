// The small integer expression language of the op table: shape dims ('T+1', 'T*P', '2*P') and constraints
// ('D % H == 0', 'T <= S - 1'). The same text is evaluated here and pasted verbatim into the generated C++
// glue, where the identifiers are int64_t dims, so it must mean the same in both: integers only, '/' and
// '%' truncate (as C++ does), comparisons give 1 or 0.
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'sym'; name: string }
  | { kind: 'bin'; op: BinOp; left: Expr; right: Expr };

type BinOp = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '&&' | '||';

const LEVELS: readonly (readonly BinOp[])[] = [['||'], ['&&'], ['==', '!=', '<=', '>=', '<', '>'], ['+', '-'], ['*', '/', '%']];
const TOKEN = /\s*(\d+|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|&&|\|\||[-+*/%<>()])/y;

const cache = new Map<string, Expr>();

/** Parses (and caches) an expression; throws on anything outside the language. */
export function parseExpr(text: string): Expr {
  const hit = cache.get(text);
  if (hit) return hit;
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) {
      if (/^\s*$/.test(text.slice(at))) break;
      throw new Error(`dim expression '${text}': unexpected '${text.slice(at).trim()}'`);
    }
    tokens.push(m[1]);
  }
  let pos = 0;
  const level = (i: number): Expr => {
    if (i === LEVELS.length) return atom();
    let left = level(i + 1);
    while (pos < tokens.length && (LEVELS[i] as readonly string[]).includes(tokens[pos])) {
      const op = tokens[pos++] as BinOp;
      left = { kind: 'bin', op, left, right: level(i + 1) };
    }
    return left;
  };
  const atom = (): Expr => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error(`dim expression '${text}' ends early`);
    if (t === '(') {
      const e = level(0);
      if (tokens[pos++] !== ')') throw new Error(`dim expression '${text}': missing ')'`);
      return e;
    }
    if (/^\d+$/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]/.test(t)) return { kind: 'sym', name: t };
    throw new Error(`dim expression '${text}': unexpected '${t}'`);
  };
  const e = level(0);
  if (pos !== tokens.length) throw new Error(`dim expression '${text}': unexpected '${tokens[pos]}'`);
  cache.set(text, e);
  return e;
}

const symbolCache = new Map<string, readonly string[]>();

/** The identifiers an expression reads, in order of first appearance (cached: every op call asks). */
export function symbolsOf(text: string): readonly string[] {
  const hit = symbolCache.get(text);
  if (hit) return hit;
  const out: string[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === 'sym' && !out.includes(e.name)) out.push(e.name);
    if (e.kind === 'bin') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(parseExpr(text));
  Object.freeze(out);
  symbolCache.set(text, out);
  return out;
}

function evalNode(e: Expr, env: Readonly<Record<string, number>>): number {
  if (e.kind === 'num') return e.value;
  if (e.kind === 'sym') {
    const v = env[e.name];
    if (v === undefined) throw new Error(`dim expression: ${e.name} is not bound`);
    return v;
  }
  const a = evalNode(e.left, env), b = evalNode(e.right, env);
  switch (e.op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? NaN : Math.trunc(a / b);
    case '%': return b === 0 ? NaN : a % b;
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    case '<': return a < b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
  }
}

export function evalExpr(text: string, env: Readonly<Record<string, number>>): number {
  return evalNode(parseExpr(text), env);
}

function bound(e: Expr, env: Readonly<Record<string, number>>): boolean {
  if (e.kind === 'num') return true;
  if (e.kind === 'sym') return env[e.name] !== undefined;
  return bound(e.left, env) && bound(e.right, env);
}

/**
 * Solves `text == target` for its one unbound identifier when the expression is linear in it through + - *
 * (as shapes are: 'T+1', 'T*P', '2*P'). Returns [name, value], or null when it cannot (two unknowns, an
 * unknown under '/' or '%'), or [name, NaN] when no integer solves it (7 = 2*P).
 */
export function solveFor(text: string, target: number, env: Readonly<Record<string, number>>): [string, number] | null {
  let e = parseExpr(text), t = target;
  for (;;) {
    if (e.kind === 'sym') return env[e.name] === undefined ? [e.name, t] : null;
    if (e.kind !== 'bin') return null;
    const lb = bound(e.left, env), rb = bound(e.right, env);
    if (lb === rb) return null;
    const k = evalNode(lb ? e.left : e.right, env);
    const rest = lb ? e.right : e.left;
    switch (e.op) {
      case '+': t -= k; break;
      case '-': t = lb ? k - t : t + k; break;
      case '*':
        if (k === 0 || t % k !== 0) return [symbolsOf(text).find((s) => env[s] === undefined) as string, NaN];
        t /= k;
        break;
      default: return null;
    }
    e = rest;
  }
}
