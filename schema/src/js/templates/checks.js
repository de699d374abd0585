const isArray = Array.isArray;
const isInteger = Number.isInteger;
const stringify = JSON.stringify;

function describeShape(shape) {
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string': return 'a string';
      case 'number': return 'a number';
      case 'boolean': return 'a boolean';
      case 'null': return 'null';
      case 'object': return 'an object';
      case 'bytes': return 'bytes (a Uint8Array)';
      case 'date': return 'a Date (years 0 to 9999)';
      case 'bigint': return 'a bigint of at most 64 bits';
      default: return 'any value';
    }
  }
  switch (shape[0]) {
    case 'int': return `an integer from ${shape[1]} to ${shape[2]}`;
    case 'struct': case 'map': return 'an object';
    case 'all': return shape.slice(1).map(describeShape).join(' and ');
    case 'array': return 'an array';
    case 'tuple': return `an array of ${shape.length - 1} items`;
    case 'oneOf': return shape.length === 2 ? stringify(shape[1]) : `one of ${shape.slice(1).map((v) => stringify(v)).join(', ')}`;
    case 'union': return Array.from(new Set(shape.slice(1).map(describeShape))).join(' or ');
    case 'stream': return 'an iterable or async iterable of items (a stream)';
    case 'port': return 'a port received from the other side';
    case 'handle': return 'a capability handle';
    default: return 'any value';
  }
}

// Binary data: an ArrayBuffer or any view of one (a Uint8Array, a Buffer, a DataView), from this
// realm or another (a page's, an isolated world's).
function isBinary(value) {
  return ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

// Timestamps (docs/PROTOCOL.md §4, "Time values"): a `Date` here, RFC 3339 text in UTC on the wire. A Date of
// any realm (a page's, an isolated world's) is known by its tag and read with this realm's
// `getTime` (which throws for anything that only claims the tag).
const dateGetTime = Date.prototype.getTime;
const MIN_DATE_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const MAX_DATE_MS = 253402300799999; // 9999-12-31T23:59:59.999Z
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function isDate(value) {
  return value !== null && typeof value === 'object' && Object.prototype.toString.call(value) === '[object Date]';
}

// The time of a Date in milliseconds since 1970 (NaN when it is invalid or not a Date).
function dateTime(value) {
  try {
    return dateGetTime.call(value);
  } catch (_) {
    return NaN;
  }
}

function isSendableDate(value) {
  const time = isDate(value) ? dateTime(value) : NaN;
  return time >= MIN_DATE_MS && time <= MAX_DATE_MS;
}

// The wire's text of a Date in range (`toISOString` writes four-digit years there).
function dateText(value) {
  return new Date(dateTime(value)).toISOString();
}

// The Date of a timestamp's text; an invalid Date when it is not RFC 3339. Digits past the
// millisecond are dropped (a Date holds milliseconds), always toward the past.
function dateOf(text) {
  const m = typeof text === 'string' ? RFC3339.exec(text) : null;
  if (m === null) return new Date(NaN);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  const date = new Date(0);
  // Not Date.UTC: it reads years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3)));
  // What rolled over (February 30th, 24:00, a leap second) is no such time.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day
    || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute) return new Date(NaN);
  const offset = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60000;
  const time = date.getTime() - offset;
  return new Date(time >= MIN_DATE_MS && time <= MAX_DATE_MS ? time : NaN);
}

// 64-bit integers of a contract that types them `bigint`: what MessagePack carries exactly.
const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

function isInt64(value) {
  return typeof value === 'bigint' && value >= MIN_INT64 && value <= MAX_UINT64;
}

// A port reference as it travels ({"$ipc":"stream","port":7}: docs/PROTOCOL.md 7.1).
function isPortRef(value, kind) {
  return value !== null && typeof value === 'object' && !isArray(value) && value.$ipc === kind
    && isInteger(value.port) && value.port > 0;
}

function describeValue(value) {
  if (value === null) return 'null';
  if (isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number': return `the number ${value}`;
    case 'boolean': return `${value}`;
    case 'undefined': return 'undefined';
    case 'function': return 'a function';
    case 'bigint': return `the bigint ${value}`;
    case 'symbol': return 'a symbol';
    default:
      if (isDate(value)) {
        const time = dateTime(value);
        return Number.isNaN(time) ? 'an invalid Date' : `the Date ${new Date(time).toISOString()}`;
      }
      return isBinary(value) ? 'bytes' : 'an object';
  }
}

// Whether a map's keys are numbers (`HashMap<u32, V>`): in JavaScript they are the keys' digits.
function isNumericKey(shape) {
  return shape === 'number' || (isArray(shape) && shape[0] === 'int');
}

// `value` (which fits `shape`) as the wire needs it: a Date becomes its text, and a map with
// numeric keys a `Map` of numbers (a JavaScript object's keys are strings, and serde reads no
// string as a number; `maps: false` leaves maps as they are). Parts that need nothing are passed
// on as they are, not copied.
function wireValue(shape, value, depth = 0, maps = true) {
  if (shape === 'date') return isSendableDate(value) ? dateText(value) : value;
  if (!needsWire(shape) || value === null || typeof value !== 'object' || depth > 64 || isBinary(value)) return value;
  switch (shape[0]) {
    case 'map': {
      const numeric = maps && isNumericKey(shape[1]);
      let changed = numeric;
      const entries = Object.keys(value).map((key) => {
        const item = wireValue(shape[2], value[key], depth + 1, maps);
        if (item !== value[key]) changed = true;
        return [numeric ? Number(key) : key, item];
      });
      if (!changed) return value;
      return numeric ? new Map(entries) : Object.fromEntries(entries);
    }
    case 'array':
    case 'tuple': {
      if (!isArray(value)) return value;
      const tuple = shape[0] === 'tuple';
      let copy = null;
      for (let i = 0; i < value.length && (!tuple || i + 1 < shape.length); i++) {
        const item = wireValue(tuple ? shape[i + 1] : shape[1], value[i], depth + 1, maps);
        if (item !== value[i]) {
          if (copy === null) copy = value.slice();
          copy[i] = item;
        }
      }
      return copy === null ? value : copy;
    }
    case 'struct': {
      let copy = null;
      for (let i = 1; i < shape.length; i++) {
        const name = shape[i][0];
        if (!Object.prototype.hasOwnProperty.call(value, name)) continue;
        const item = wireValue(shape[i][1], value[name], depth + 1, maps);
        if (item !== value[name]) {
          if (copy === null) copy = Object.assign({}, value);
          copy[name] = item;
        }
      }
      return copy === null ? value : copy;
    }
    case 'all': {
      let out = value;
      for (let i = 1; i < shape.length; i++) out = wireValue(shape[i], out, depth + 1, maps);
      return out;
    }
    case 'union':
      for (let i = 1; i < shape.length; i++) {
        if (shapeProblem(shape[i], value, '', true) === null) return wireValue(shape[i], value, depth + 1, maps);
      }
      return value;
    default:
      return value;
  }
}

// Whether some part of `shape` passes `found`, remembered per shape in `cache`: most contracts
// have no such part, and their values are then not walked at all.
function holds(shape, found, cache, depth = 0) {
  if (!isArray(shape)) return found(shape);
  if (depth > 64) return false;
  let known = cache.get(shape);
  if (known === undefined) {
    known = found(shape);
    // A literal's or a range's items are values, not shapes.
    const leaf = shape[0] === 'oneOf' || shape[0] === 'int';
    for (let i = 1; !known && !leaf && i < shape.length; i++) {
      known = holds(shape[0] === 'struct' ? shape[i][1] : shape[i], found, cache, depth + 1);
    }
    cache.set(shape, known);
  }
  return known;
}

// Whether anything in `shape` needs `wireValue` (a Date, a map with numeric keys).
const wireNeeds = new WeakMap();
function needsWire(shape) {
  return holds(shape, (part) => part === 'date' || (isArray(part) && part[0] === 'map' && isNumericKey(part[1])), wireNeeds);
}

// Whether anything in `shape` is a capability handle.
const handleParts = new WeakMap();
function holdsHandle(shape) {
  return holds(shape, (part) => isArray(part) && part[0] === 'handle', handleParts);
}

// Whether anything in `shape` needs `readValue` (a Date, a bigint).
const readNeeds = new WeakMap();
function needsRead(shape) {
  return holds(shape, (part) => part === 'date' || part === 'bigint', readNeeds);
}

// `value` (of `shape`, as it arrived) as this side gives it out: each timestamp's text a `Date`,
// each 64-bit integer a `bigint` (the decoder gives one beyond 2^53 already, a number below).
// What arrived may be frozen (it crossed contextBridge): the parts that change are copied.
function readValue(shape, value, depth = 0) {
  if (shape === 'date') return typeof value === 'string' ? dateOf(value) : value;
  if (shape === 'bigint') return isInteger(value) ? BigInt(value) : value;
  if (!needsRead(shape) || value === null || depth > 64) return value;
  if (shape[0] === 'union') {
    // The alternative the value is, once read (a variant's timestamps are text until then).
    for (let i = 1; i < shape.length; i++) {
      if (!needsRead(shape[i])) {
        if (shapeProblem(shape[i], value, '', true) === null) return value;
        continue;
      }
      const read = readValue(shape[i], value, depth + 1);
      if (shapeProblem(shape[i], read, '', true) === null) return read;
    }
    return value;
  }
  if (typeof value !== 'object' || isBinary(value)) return value;
  switch (shape[0]) {
    case 'array':
    case 'tuple': {
      if (!isArray(value)) return value;
      const tuple = shape[0] === 'tuple';
      const copy = [];
      for (let i = 0; i < value.length; i++) {
        copy.push(tuple && i + 1 >= shape.length ? value[i] : readValue(tuple ? shape[i + 1] : shape[1], value[i], depth + 1));
      }
      return copy;
    }
    // Copies made with fromEntries, which defines each key (a `__proto__` key stays a key).
    case 'struct': {
      const fields = new Map();
      for (let i = 1; i < shape.length; i++) fields.set(shape[i][0], shape[i][1]);
      return Object.fromEntries(Object.keys(value).map((key) => [key, fields.has(key) ? readValue(fields.get(key), value[key], depth + 1) : value[key]]));
    }
    case 'map': {
      if (value instanceof Map) return new Map(Array.from(value, ([key, item]) => [key, readValue(shape[2], item, depth + 1)]));
      return Object.fromEntries(Object.keys(value).map((key) => [key, readValue(shape[2], value[key], depth + 1)]));
    }
    case 'all': {
      let out = value;
      for (let i = 1; i < shape.length; i++) out = readValue(shape[i], out, depth + 1);
      return out;
    }
    default:
      return value;
  }
}

// The positional values of a message (an event's, a request's) as this side gives them out.
function readArgs(params, args) {
  let copy = null;
  for (let i = 0; i < args.length && i < params.length; i++) {
    if (!needsRead(params[i][1])) continue;
    if (copy === null) copy = Array.from(args);
    copy[i] = readValue(params[i][1], args[i]);
  }
  return copy === null ? args : copy;
}

// The positional arguments of a method (`params`: [name, shape] each) as the wire needs them.
function wireArgs(params, args) {
  let copy = null;
  for (let i = 0; i < args.length && i < params.length; i++) {
    const value = wireValue(params[i][1], args[i]);
    if (value !== args[i]) {
      if (copy === null) copy = args.slice();
      copy[i] = value;
    }
  }
  return copy === null ? args : copy;
}

// Why `value` does not fit `shape` (a sentence starting with `path`), or null when it fits.
// `whole`: an object must have every field its struct requires (how a union's alternatives are
// told apart); otherwise absent fields are left to serde, which may default them.
function shapeProblem(shape, value, path, whole = false) {
  let fits;
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string': fits = typeof value === 'string'; break;
      case 'number': fits = typeof value === 'number'; break;
      case 'boolean': fits = typeof value === 'boolean'; break;
      case 'null': fits = value === null || value === undefined; break;
      case 'object': fits = typeof value === 'object' && value !== null && !isArray(value) && !isBinary(value); break;
      case 'bytes': fits = isBinary(value); break;
      case 'date': fits = isSendableDate(value); break;
      case 'bigint': fits = isInt64(value); break;
      default: fits = true;
    }
  } else {
    switch (shape[0]) {
      case 'int':
        fits = typeof value === 'number' && isInteger(value) && value >= shape[1] && value <= shape[2];
        break;
      case 'array':
        if (!isArray(value)) { fits = false; break; }
        for (let i = 0; i < value.length; i++) {
          const problem = shapeProblem(shape[1], value[i], `${path}[${i}]`);
          if (problem !== null) return problem;
        }
        return null;
      case 'tuple':
        if (!isArray(value) || value.length !== shape.length - 1) { fits = false; break; }
        for (let i = 0; i < value.length; i++) {
          const problem = shapeProblem(shape[i + 1], value[i], `${path}[${i}]`);
          if (problem !== null) return problem;
        }
        return null;
      case 'oneOf':
        fits = shape.indexOf(value, 1) > 0;
        break;
      case 'stream':
        // What a stream argument may be: a source of items, or (on its way) its reference.
        fits = typeof value === 'string' || isPortRef(value, 'stream') || (value !== null && typeof value === 'object'
          && (typeof value[Symbol.asyncIterator] === 'function' || typeof value[Symbol.iterator] === 'function'));
        break;
      case 'port':
        fits = isPortRef(value, 'port');
        break;
      case 'handle':
        fits = value !== null && typeof value === 'object' && !isArray(value);
        break;
      case 'struct': {
        if (typeof value !== 'object' || value === null || isArray(value) || isBinary(value)) { fits = false; break; }
        // Fields that are absent are not checked here (serde may give them a default); the
        // Rust side still refuses a missing field it needs.
        for (let i = 1; i < shape.length; i++) {
          const [name, fieldShape, optional] = shape[i];
          if (!Object.prototype.hasOwnProperty.call(value, name) || value[name] === undefined) {
            if (whole && !optional && shapeProblem(fieldShape, null, path) !== null) {
              return `${propertyPath(path, name)} is missing`;
            }
            continue;
          }
          const problem = shapeProblem(fieldShape, value[name], propertyPath(path, name));
          if (problem !== null) return problem;
        }
        return null;
      }
      case 'map': {
        if (typeof value !== 'object' || value === null || isArray(value) || isBinary(value)) { fits = false; break; }
        const numeric = isNumericKey(shape[1]);
        for (const key of Object.keys(value)) {
          // A numeric key is the digits of its number (`{ 3: 'x' }`, `{ '-1.5': 'y' }`).
          const asKey = numeric && String(Number(key)) === key ? Number(key) : key;
          const keyProblem = shapeProblem(shape[1], asKey, `${propertyPath(path, key)} (its key)`);
          if (keyProblem !== null) return keyProblem;
          const problem = shapeProblem(shape[2], value[key], propertyPath(path, key));
          if (problem !== null) return problem;
        }
        return null;
      }
      case 'all':
        for (let i = 1; i < shape.length; i++) {
          const problem = shapeProblem(shape[i], value, path, whole);
          if (problem !== null) return problem;
        }
        return null;
      case 'union': {
        // An alternative matches whole (required fields present): how variants are told apart.
        for (let i = 1; i < shape.length; i++) {
          if (shapeProblem(shape[i], value, path, true) === null) return null;
        }
        // A tagged enum's variant is named by its tag: the problem is then the one inside it.
        const variant = taggedVariant(shape, value);
        if (variant !== null) return shapeProblem(variant, value, path);
        const tag = unknownTag(shape, value, path);
        if (tag !== null) return tag;
        fits = false;
        break;
      }
      default:
        fits = true;
    }
  }
  return fits ? null : `${path} must be ${describeShape(shape)}, got ${describeValue(value)}`;
}

// The variant of a tagged enum (`{ "kind": "A", ... }` or `{ "A": ... }`) that `value` names, or
// null when the union is not such an enum or the value names none of its variants.
function taggedVariant(shape, value) {
  if (typeof value !== 'object' || value === null || isArray(value)) return null;
  const structs = variantStructs(shape);
  // Internally or adjacently tagged, every variant by one field: only that field tells them apart
  // (another literal field, an adjacently tagged variant's content, names no variant).
  const tag = tagField(structs);
  if (tag !== null && Object.prototype.hasOwnProperty.call(value, tag)) {
    for (const [struct, whole] of structs) {
      if (value[tag] === tagOf(struct, tag)) return whole;
    }
    return null;
  }
  // A union of several representations: a variant whose literal field the value holds.
  for (const [struct, whole] of structs) {
    for (let i = 1; i < struct.length; i++) {
      const name = struct[i][0];
      const literal = tagOf(struct, name);
      if (literal !== undefined && value[name] === literal) return whole;
    }
  }
  // Externally tagged: the variant's name is the object's only key.
  for (const [struct, whole] of structs) {
    if (struct.length === 2 && !struct[1][2] && Object.keys(value).length === 1
      && Object.prototype.hasOwnProperty.call(value, struct[1][0])) return whole;
  }
  return null;
}

// When `value` gives the tag field of an internally or adjacently tagged enum a name none of its
// variants has: that field's problem (`.kind must be one of "a", "b", got ...`); otherwise null.
function unknownTag(shape, value, path) {
  if (typeof value !== 'object' || value === null || isArray(value)) return null;
  const structs = variantStructs(shape);
  // Only when every alternative is a variant of the enum (no unit variants written as strings).
  if (structs.length !== shape.length - 1) return null;
  const tag = tagField(structs);
  if (tag === null || !Object.prototype.hasOwnProperty.call(value, tag)) return null;
  const names = structs.map(([struct]) => stringify(tagOf(struct, tag)));
  return `${propertyPath(path, tag)} must be one of ${names.join(', ')}, got ${describeValue(value[tag])}`;
}

// The field every variant struct names itself in with a literal string (the enum's tag), or
// null when there is none.
function tagField(structs) {
  if (structs.length === 0) return null;
  for (let i = 1; i < structs[0][0].length; i++) {
    const name = structs[0][0][i][0];
    if (structs.every(([struct]) => tagOf(struct, name) !== undefined)) return name;
  }
  return null;
}

// The literal string a struct's required field `name` holds, if it holds one.
function tagOf(struct, name) {
  for (let i = 1; i < struct.length; i++) {
    const [field, fieldShape, optional] = struct[i];
    if (field === name && !optional && isArray(fieldShape) && fieldShape[0] === 'oneOf'
      && fieldShape.length === 2 && typeof fieldShape[1] === 'string') return fieldShape[1];
  }
  return undefined;
}

// The struct of each alternative of a union that is one (an internally tagged variant is the
// struct of its tag and its fields, or `all` of it and a flattened type), with the alternative.
function variantStructs(shape) {
  const structs = [];
  for (let i = 1; i < shape.length; i++) {
    const alternative = shape[i];
    if (isArray(alternative) && alternative[0] === 'all') {
      const struct = alternative.slice(1).find((part) => isArray(part) && part[0] === 'struct');
      if (struct !== undefined) structs.push([struct, alternative]);
    } else if (isArray(alternative) && alternative[0] === 'struct') {
      structs.push([alternative, alternative]);
    }
  }
  return structs;
}

// Plain objects of any realm (a page's iframes have their own `Object.prototype`): the
// prototype is null, or a prototype whose own prototype is null.
function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function withArticle(noun) {
  return /^[AEIO]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

// What a value that is not plain data is, for the sentence "... is <that>, which cannot be sent".
function describeUnsendable(value) {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (tag !== 'Object') return withArticle(tag);
  const proto = Object.getPrototypeOf(value);
  const constructor = proto !== null ? Object.getOwnPropertyDescriptor(proto, 'constructor') : undefined;
  const name = constructor !== undefined && typeof constructor.value === 'function' ? constructor.value.name : '';
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a prototype';
}

function propertyPath(path, key) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${stringify(key)}]`;
}

// Why `value` is not plain data (a sentence starting with `path`), or null when it is: what JSON
// would silently change or drop (functions, symbols, NaN, Dates, Maps, class instances, ...) or
// cannot encode at all (bigints, cycles) is refused here, at the caller, instead. (A Date where
// the contract declares a timestamp is checked as the text it travels as.)
// `ancestors` maps each object on the way down to its path, to name where a cycle closes.
function plainDataProblem(value, path, ancestors) {
  let what = null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      if (Number.isFinite(value)) return null;
      what = `${value}`;
      break;
    case 'undefined': what = 'undefined'; break;
    case 'function': what = 'a function'; break;
    case 'symbol': what = 'a symbol'; break;
    // MessagePack carries one of 64 bits exactly (a `u64` of the contract, or any integer
    // where the contract takes any value).
    case 'bigint':
      if (isInt64(value)) return null;
      what = 'a bigint beyond 64 bits';
      break;
    default: {
      if (value === null) return null;
      const seen = ancestors.get(value);
      if (seen !== undefined) {
        what = `a cycle (a reference back to ${seen})`;
        break;
      }
      if (isArray(value)) {
        ancestors.set(value, path);
        for (let i = 0; i < value.length; i++) {
          const problem = plainDataProblem(value[i], `${path}[${i}]`, ancestors);
          if (problem !== null) return problem;
        }
        ancestors.delete(value);
        return null;
      }
      // Bytes travel as they are (MessagePack `bin`).
      if (isBinary(value)) return null;
      if (!isPlainObject(value)) {
        what = describeUnsendable(value);
        break;
      }
      if (Object.getOwnPropertySymbols(value).some((key) => Object.prototype.propertyIsEnumerable.call(value, key))) {
        what = 'an object with a symbol key';
        break;
      }
      ancestors.set(value, path);
      for (const key of Object.keys(value)) {
        const item = value[key];
        // Absent, as JSON has it.
        if (item === undefined) continue;
        const problem = plainDataProblem(item, propertyPath(path, key), ancestors);
        if (problem !== null) return problem;
      }
      ancestors.delete(value);
      return null;
    }
  }
  return `${path} is ${what}, which cannot be sent`;
}

function countText(params) {
  if (params.length === 0) return 'no arguments';
  const names = params.map((p) => p[0]).join(', ');
  return `${params.length} argument${params.length === 1 ? '' : 's'} (${names})`;
}

// Checks a call's arguments against the contract; returns the TypeError message or null.
function argumentsProblem(label, params, args) {
  if (!isArray(args)) return `${label}: the arguments must be an array`;
  if (args.length !== params.length) {
    return `${label} expects ${countText(params)}, got ${args.length}`;
  }
  for (let i = 0; i < params.length; i++) {
    const path = `argument ${i + 1} (${params[i][0]})`;
    const shape = params[i][1];
    if (isArray(shape) && shape[0] === 'port') {
      return `${label}: ${path} is a port, and a page cannot send ports (only stream arguments, to invokes)`;
    }
    // A capability parameter of its own is an object the page serves (an invoke's: the caller
    // checks its methods and sends it as a port); one inside another value would be a handle
    // handed on, which a page never holds.
    const served = isArray(shape) && shape[0] === 'handle';
    if (!served && args[i] !== null && args[i] !== undefined && holdsHandle(shape)) {
      return `${label}: ${path} holds a capability handle, and a page cannot hand handles on (they reach pages from the Rust side)`;
    }
    let problem = shapeProblem(shape, args[i], path);
    // An `undefined` argument is what the shape allows (an optional parameter: null on the wire).
    // A stream's items are checked as they are sent.
    if (problem === null && args[i] !== undefined && !served && !(isArray(shape) && shape[0] === 'stream')) {
      problem = plainDataProblem(wireValue(shape, args[i], 0, false), path, new Map());
    }
    if (problem !== null) return `${label}: ${problem}`;
  }
  return null;
}
