// A small WebAssembly text → binary assembler, enough for the resize kernel in
// pillow-resize-wasm-kernel.ts: one module with an exported memory and exported functions
// whose bodies use the flat (non-folded) instruction syntax. Doing this at load time keeps the
// `.wat` text the only source of the kernel, with no build step and no generated blob to keep
// in sync. Anything outside the supported subset is rejected with an error naming it.

type ValueType = 'i32' | 'v128';
const VALUE_TYPE_CODE: Record<ValueType, number> = { i32: 0x7f, v128: 0x7b };

/** How an instruction's immediates are written after its name. */
type Immediates = 'none' | 'local' | 'label' | 'block' | 'i32' | 'memarg' | 'lane' | 'lanes16' | 'v128';

interface OpcodeInfo {
  /** Opcode bytes before the immediates (SIMD: 0xfd then the LEB128 sub-opcode). */
  readonly code: readonly number[];
  readonly immediates: Immediates;
  /** log2 of the natural alignment, for memory instructions (the default `align=`). */
  readonly naturalAlign?: number;
}

const simd = (subOpcode: number, immediates: Immediates = 'none', naturalAlign?: number): OpcodeInfo => ({
  code: [0xfd, ...unsignedLeb(subOpcode)],
  immediates,
  naturalAlign,
});

/** The instructions the kernel uses (opcodes from the WebAssembly core spec 2.0, SIMD included). */
const OPCODES: Record<string, OpcodeInfo> = {
  block: { code: [0x02], immediates: 'block' },
  loop: { code: [0x03], immediates: 'block' },
  end: { code: [0x0b], immediates: 'none' },
  br: { code: [0x0c], immediates: 'label' },
  br_if: { code: [0x0d], immediates: 'label' },
  'local.get': { code: [0x20], immediates: 'local' },
  'local.set': { code: [0x21], immediates: 'local' },
  'local.tee': { code: [0x22], immediates: 'local' },
  'i32.load': { code: [0x28], immediates: 'memarg', naturalAlign: 2 },
  'i32.store': { code: [0x36], immediates: 'memarg', naturalAlign: 2 },
  'i32.store8': { code: [0x3a], immediates: 'memarg', naturalAlign: 0 },
  'i32.store16': { code: [0x3b], immediates: 'memarg', naturalAlign: 1 },
  'i32.const': { code: [0x41], immediates: 'i32' },
  select: { code: [0x1b], immediates: 'none' },
  'i32.ne': { code: [0x47], immediates: 'none' },
  'i32.lt_u': { code: [0x49], immediates: 'none' },
  'i32.gt_s': { code: [0x4a], immediates: 'none' },
  'i32.add': { code: [0x6a], immediates: 'none' },
  'i32.sub': { code: [0x6b], immediates: 'none' },
  'i32.mul': { code: [0x6c], immediates: 'none' },
  'i32.shl': { code: [0x74], immediates: 'none' },
  'i32.shr_u': { code: [0x76], immediates: 'none' },
  'v128.load': simd(0x00, 'memarg', 4),
  'v128.load8x8_u': simd(0x02, 'memarg', 3),
  'v128.store': simd(0x0b, 'memarg', 4),
  'v128.const': simd(0x0c, 'v128'),
  'i8x16.shuffle': simd(0x0d, 'lanes16'),
  'i32x4.extract_lane': simd(0x1b, 'lane'),
  'i8x16.narrow_i16x8_u': simd(0x66),
  'i16x8.narrow_i32x4_s': simd(0x85),
  'i16x8.extend_low_i8x16_u': simd(0x89),
  'i16x8.extend_high_i8x16_u': simd(0x8a),
  'i32x4.shl': simd(0xab),
  'i32x4.shr_s': simd(0xac),
  'i32x4.add': simd(0xae),
  'i32x4.dot_i16x8_s': simd(0xba),
};

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A section or vector: its byte length (LEB128) followed by the bytes. */
function sized(bytes: readonly number[]): number[] {
  return [...unsignedLeb(bytes.length), ...bytes];
}

function utf8Name(name: string): number[] {
  return sized([...new TextEncoder().encode(name)]);
}

type SExpression = string | SExpression[];

function parse(text: string): SExpression[] {
  const tokens = text
    .replace(/;;[^\n]*/g, ' ')
    .replace(/[()]/g, ' $& ')
    .split(/\s+/)
    .filter((t) => t !== '');
  let i = 0;
  const list = (): SExpression[] => {
    const items: SExpression[] = [];
    while (i < tokens.length && tokens[i] !== ')') {
      const token = tokens[i++];
      if (token === '(') {
        items.push(list());
        if (tokens[i++] !== ')') throw new SyntaxError('wat: unbalanced parentheses');
      } else {
        items.push(token);
      }
    }
    return items;
  };
  const top = list();
  if (i !== tokens.length) throw new SyntaxError('wat: unbalanced parentheses');
  return top;
}

function atom(e: SExpression | undefined, what: string): string {
  if (typeof e !== 'string') throw new SyntaxError(`wat: expected ${what}`);
  return e;
}

function parseInteger(token: string): number {
  const value = Number(token.replace(/_/g, ''));
  if (!Number.isInteger(value)) throw new SyntaxError(`wat: '${token}' is not an integer`);
  return value;
}

function valueType(token: string): ValueType {
  if (token !== 'i32' && token !== 'v128') throw new SyntaxError(`wat: value type '${token}' is not supported`);
  return token;
}

interface FunctionDefinition {
  readonly exportName: string | undefined;
  readonly params: ValueType[];
  readonly results: ValueType[];
  readonly body: number[];
}

function assembleFunction(form: SExpression[]): FunctionDefinition {
  let exportName: string | undefined;
  const params: ValueType[] = [];
  const results: ValueType[] = [];
  const locals: ValueType[] = [];
  const localIndex = new Map<string, number>();
  const instructions: string[] = [];
  for (const item of form.slice(1)) {
    if (typeof item === 'string') {
      if (item.startsWith('$') && instructions.length === 0 && localIndex.size === 0 && exportName === undefined) continue; // the function's own name
      instructions.push(item);
      continue;
    }
    const head = atom(item[0], 'a field name');
    if (head === 'export') exportName = JSON.parse(atom(item[1], 'an export name'));
    else if (head === 'param' || head === 'local') {
      const name = atom(item[1], `a ${head} name`);
      if (!name.startsWith('$')) throw new SyntaxError(`wat: ${head}s must be named ($name type)`);
      localIndex.set(name, params.length + locals.length);
      (head === 'param' ? params : locals).push(valueType(atom(item[2], 'a value type')));
    } else if (head === 'result') results.push(...item.slice(1).map((t) => valueType(atom(t, 'a value type'))));
    else throw new SyntaxError(`wat: folded instruction or field '(${head} …)' is not supported`);
  }

  const code: number[] = [];
  const labels: Array<string | undefined> = [];
  let i = 0;
  const next = (what: string) => atom(instructions[i++], what);
  while (i < instructions.length) {
    const name = next('an instruction');
    const info = OPCODES[name];
    if (info === undefined) throw new SyntaxError(`wat: instruction '${name}' is not supported by this assembler`);
    code.push(...info.code);
    switch (info.immediates) {
      case 'none':
        if (name === 'end') labels.pop();
        break;
      case 'block': {
        const label = instructions[i]?.startsWith('$') ? next('a label') : undefined;
        labels.push(label);
        code.push(0x40); // empty block type
        break;
      }
      case 'label': {
        const label = next('a label');
        const depth = labels.lastIndexOf(label);
        if (depth < 0) throw new SyntaxError(`wat: unknown label ${label}`);
        code.push(...unsignedLeb(labels.length - 1 - depth));
        break;
      }
      case 'local': {
        const local = next('a local');
        const index = localIndex.get(local);
        if (index === undefined) throw new SyntaxError(`wat: unknown local ${local}`);
        code.push(...unsignedLeb(index));
        break;
      }
      case 'i32':
        code.push(...signedLeb(parseInteger(next('an integer')) | 0));
        break;
      case 'memarg': {
        let offset = 0;
        let align = info.naturalAlign!;
        while (/^(offset|align)=/.test(instructions[i] ?? '')) {
          const [key, value] = next('a memarg').split('=');
          if (key === 'offset') offset = parseInteger(value);
          else align = Math.log2(parseInteger(value));
        }
        code.push(...unsignedLeb(align), ...unsignedLeb(offset));
        break;
      }
      case 'lane':
        code.push(parseInteger(next('a lane index')));
        break;
      case 'lanes16':
        for (let lane = 0; lane < 16; lane++) code.push(parseInteger(next('a shuffle lane')));
        break;
      case 'v128': {
        const shape = next('a v128 shape');
        const laneBytes = shape === 'i32x4' ? 4 : shape === 'i16x8' ? 2 : 0;
        if (laneBytes === 0) throw new SyntaxError(`wat: v128.const shape '${shape}' is not supported`);
        for (let lane = 0; lane < 16 / laneBytes; lane++) {
          const value = parseInteger(next('a v128 lane'));
          for (let b = 0; b < laneBytes; b++) code.push((value >> (8 * b)) & 0xff); // little endian
        }
        break;
      }
    }
  }
  if (labels.length !== 0) throw new SyntaxError('wat: a block or loop is missing its end');

  // Locals are declared as runs of one type: (count, type) pairs.
  const runs: Array<[number, ValueType]> = [];
  for (const type of locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === type) last[0]++;
    else runs.push([1, type]);
  }
  const declarations = runs.flatMap(([n, type]) => [...unsignedLeb(n), VALUE_TYPE_CODE[type]]);
  const body = sized([...unsignedLeb(runs.length), ...declarations, ...code, 0x0b]);
  return { exportName, params, results, body };
}

/** Assembles `(module (memory (export "…") pages) (func …)*)` into WebAssembly binary bytes. */
export function assembleWat(text: string): Uint8Array {
  const top = parse(text);
  const module = top[0];
  if (top.length !== 1 || typeof module === 'string' || module[0] !== 'module') throw new SyntaxError('wat: expected one (module …)');
  const functions: FunctionDefinition[] = [];
  let memory: { exportName: string | undefined; pages: number } | undefined;
  const exports: number[] = []; // in text order, as other assemblers emit them
  let exportCount = 0;
  const addExport = (name: string | undefined, kind: number, index: number) => {
    if (name === undefined) return;
    exports.push(...utf8Name(name), kind, ...unsignedLeb(index));
    exportCount++;
  };
  for (const field of module.slice(1)) {
    if (typeof field === 'string') throw new SyntaxError(`wat: unexpected '${field}' in module`);
    if (field[0] === 'func') {
      const definition = assembleFunction(field);
      addExport(definition.exportName, 0x00, functions.push(definition) - 1);
    }
    else if (field[0] === 'memory') {
      let exportName: string | undefined;
      let pages: number | undefined;
      for (const item of field.slice(1)) {
        if (typeof item === 'string') pages = parseInteger(item);
        else if (item[0] === 'export') exportName = JSON.parse(atom(item[1], 'an export name'));
      }
      if (pages === undefined) throw new SyntaxError('wat: memory needs an initial page count');
      if (memory !== undefined) throw new SyntaxError('wat: only one memory is supported');
      memory = { exportName, pages };
      addExport(exportName, 0x02, 0);
    } else throw new SyntaxError(`wat: module field '${String(field[0])}' is not supported`);
  }

  const signatures: string[] = [];
  const typeEntries: number[] = [];
  const typeIndex = functions.map((f) => {
    const key = `${f.params.join(',')}->${f.results.join(',')}`;
    let index = signatures.indexOf(key);
    if (index < 0) {
      index = signatures.push(key) - 1;
      const types = (list: ValueType[]) => [...unsignedLeb(list.length), ...list.map((t) => VALUE_TYPE_CODE[t])];
      typeEntries.push(0x60, ...types(f.params), ...types(f.results));
    }
    return index;
  });

  const section = (id: number, count: number, bytes: readonly number[]) => [id, ...sized([...unsignedLeb(count), ...bytes])];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, signatures.length, typeEntries),
    ...section(3, functions.length, typeIndex.flatMap((t) => unsignedLeb(t))),
    ...(memory ? section(5, 1, [0x00, ...unsignedLeb(memory.pages)]) : []),
    ...section(7, exportCount, exports),
    ...section(10, functions.length, functions.flatMap((f) => f.body)),
  ];
  return Uint8Array.from(bytes);
}
