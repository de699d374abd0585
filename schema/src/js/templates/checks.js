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
      default: return 'any value';
    }
  }
  switch (shape[0]) {
    case 'int': return `an integer from ${shape[1]} to ${shape[2]}`;
    case 'array': return 'an array';
    case 'tuple': return `an array of ${shape.length - 1} items`;
    case 'oneOf': return shape.length === 2 ? stringify(shape[1]) : `one of ${shape.slice(1).map((v) => stringify(v)).join(', ')}`;
    case 'union': return shape.slice(1).map(describeShape).join(' or ');
    default: return 'any value';
  }
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
    case 'bigint': return 'a bigint';
    case 'symbol': return 'a symbol';
    default: return 'an object';
  }
}

// Why `value` does not fit `shape` (a sentence starting with `path`), or null when it fits.
function shapeProblem(shape, value, path) {
  let fits;
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string': fits = typeof value === 'string'; break;
      case 'number': fits = typeof value === 'number'; break;
      case 'boolean': fits = typeof value === 'boolean'; break;
      case 'null': fits = value === null || value === undefined; break;
      case 'object': fits = typeof value === 'object' && value !== null && !isArray(value); break;
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
      case 'union':
        fits = false;
        for (let i = 1; i < shape.length; i++) {
          if (shapeProblem(shape[i], value, path) === null) { fits = true; break; }
        }
        break;
      default:
        fits = true;
    }
  }
  return fits ? null : `${path} must be ${describeShape(shape)}, got ${describeValue(value)}`;
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
    const problem = shapeProblem(params[i][1], args[i], `argument ${i + 1} (${params[i][0]})`);
    if (problem !== null) return `${label}: ${problem}`;
  }
  return null;
}
