// Unit conversion (length, mass, volume, time) with the dataset's unit names, exact; clock arithmetic
// on 12-hour times ('4:45 AM'). Needs core.js.
(function () {
  'use strict';
  const G = globalThis;
  const { Q } = G.__exact;

  // [dimension, size in the base unit (m, g, l, s), names]
  const TABLE = [
    ['length', '1e-9', 'nm nanometer nanometers nanometre nanometres'],
    ['length', '1e-6', 'um µm micrometer micrometers micrometre micrometres micron microns'],
    ['length', '1e-3', 'mm millimeter millimeters millimetre millimetres'],
    ['length', '1e-2', 'cm centimeter centimeters centimetre centimetres'],
    ['length', '1', 'm meter meters metre metres'],
    ['length', '1e3', 'km kilometer kilometers kilometre kilometres'],
    ['mass', '1e-9', 'ng nanogram nanograms'],
    ['mass', '1e-6', 'ug µg microgram micrograms'],
    ['mass', '1e-3', 'mg milligram milligrams'],
    ['mass', '1', 'g gram grams'],
    ['mass', '1e3', 'kg kilogram kilograms'],
    ['mass', '1e6', 't tonne tonnes ton tons'],
    ['volume', '1e-3', 'ml millilitre millilitres milliliter milliliters'],
    ['volume', '1', 'l litre litres liter liters'],
    ['time', '1e-9', 'ns nanosecond nanoseconds'],
    ['time', '1e-6', 'us µs microsecond microseconds'],
    ['time', '1e-3', 'ms millisecond milliseconds'],
    ['time', '1', 's sec second seconds'],
    ['time', '60', 'min minute minutes'],
    ['time', '3600', 'h hr hour hours'],
    ['time', '86400', 'day days'],
    ['time', '604800', 'week weeks'],
    // months and longer: the dataset's calendar, 12 months to a year
    ['time', '2629800', 'month months'],
    ['time', '31557600', 'year years'],
    ['time', '315576000', 'decade decades'],
    ['time', '3155760000', 'century centuries'],
    ['time', '31557600000', 'millennium millennia millenniums'],
  ];
  const UNITS = {};
  for (const [dim, size, names] of TABLE) for (const n of names.split(' ')) UNITS[n] = { dim, size: Q(size) };
  function unit(name) {
    const u = UNITS[String(name).trim()] ?? UNITS[String(name).trim().toLowerCase()];
    if (!u) throw new RangeError('unknown unit ' + name);
    return u;
  }
  // quantity('twenty-one fifths of a gram', env), ('n0/n1 of a meter', env), ('n0km', env), ('n0 grams', env):
  // the amount as the question words it and its unit, so a step copies one span of the question
  const ONES = {
    one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
    thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
  };
  const TENS = { twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
  const PARTS = {
    half: 2, third: 3, quarter: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10, eleventh: 11,
    twelfth: 12, fifteenth: 15, sixteenth: 16, twentieth: 20, fiftieth: 50, hundredth: 100,
  };
  // a name the question defines, from env (quantity, timeAdd)
  function fromEnv(env, name) {
    if (!env || !Object.prototype.hasOwnProperty.call(env, name)) throw new ReferenceError(name + ' is not in env');
    return Q(env[name]);
  }
  function wordNumber(w) {
    const m = /^([a-z]+)(?:-([a-z]+))?$/.exec(w);
    if (!m) return undefined;
    if (m[2] === undefined) return ONES[m[1]] ?? TENS[m[1]] ?? (m[1] === 'a' || m[1] === 'an' ? 1 : undefined);
    return TENS[m[1]] !== undefined && ONES[m[2]] !== undefined && ONES[m[2]] < 10 ? TENS[m[1]] + ONES[m[2]] : undefined;
  }
  function amount(text, env) {
    const t = text.trim();
    const w = /^([a-z]+(?:-[a-z]+)?) ([a-z]+)$/.exec(t);
    if (w) {
      const n = wordNumber(w[1]);
      const part = w[2] === 'halves' ? 'half' : w[2].replace(/s$/, '');
      if (n === undefined || PARTS[part] === undefined) throw new SyntaxError('not an amount: ' + text);
      return Q(n, PARTS[part]);
    }
    const named = (v) => (/^[a-z_]\w*$/i.test(v) ? fromEnv(env, v) : Q(v));
    const f = /^(-?[\w.]+)\s*\/\s*([\w.]+)$/.exec(t);
    if (f) return named(f[1]).div(named(f[2]));
    if (/^-?[\w.]+$/.test(t)) return named(t);
    throw new SyntaxError('not an amount: ' + text);
  }
  function quantity(text, env) {
    const m = /^\s*(.+?)\s*(?:\bof an?\s+)?([A-Za-zµ]+)\s*$/.exec(String(text));
    if (!m) throw new SyntaxError('not a quantity: ' + text);
    unit(m[2]);
    return Object.freeze({ value: amount(m[1], env), unit: m[2] });
  }
  // convert(value, from, to): exact, printed as a decimal ('0.000000000006728036');
  // convert(quantity(...), to) the same from a quantity
  function convert(value, from, to) {
    if (to === undefined && value !== null && typeof value === 'object' && typeof value.unit === 'string') {
      return convert(value.value, value.unit, from);
    }
    const a = unit(from), b = unit(to);
    if (a.dim !== b.dim) throw new RangeError('cannot convert ' + a.dim + ' to ' + b.dim);
    return Q(value).mul(a.size).div(b.size).decimal();
  }

  // clock times: minutes since midnight <-> '4:45 AM'
  function parseTime(s) {
    const m = /^\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s*$/.exec(String(s));
    if (!m) throw new SyntaxError('not a time: ' + s);
    let h = Number(m[1]) % 12;
    if (!m[3]) h = Number(m[1]);
    else if (m[3].toUpperCase() === 'PM') h += 12;
    return h * 60 + Number(m[2]);
  }
  function showTime(minutes) {
    const t = ((minutes % 1440) + 1440) % 1440;
    const h = Math.floor(t / 60), mm = t % 60;
    return ((h % 12) || 12) + ':' + String(mm).padStart(2, '0') + (h < 12 ? ' AM' : ' PM');
  }
  // timeAdd('4:45 AM', 53) -> '5:38 AM'; negative minutes go back.
  // timeAdd('n0 minutes before n1:n2 PM', env): the question's words, names read from env
  function timeAdd(time, minutes) {
    const m = /^\s*(\w+) minutes? (after|before) (\w+):(\w+) ?([AaPp][Mm])\s*$/.exec(String(time));
    if (m && (minutes === undefined || (minutes !== null && typeof minutes === 'object'))) {
      const num = (t) => (/^\d+$/.test(t) ? Number(t) : fromEnv(minutes, t).toNumber());
      const h = num(m[3]), mm = num(m[4]);
      if (!(h >= 1 && h <= 12 && mm >= 0 && mm < 60)) throw new SyntaxError('not a time: ' + m[3] + ':' + m[4]);
      return timeAdd(h + ':' + String(mm).padStart(2, '0') + ' ' + m[5], (m[2] === 'after' ? 1 : -1) * num(m[1]));
    }
    return showTime(parseTime(time) + Number(minutes));
  }
  // minutesBetween('9:16 PM', '4:14 AM') -> 418, going forward from the first time
  function minutesBetween(a, b) { return (((parseTime(b) - parseTime(a)) % 1440) + 1440) % 1440; }

  const api = { convert, quantity, timeAdd, minutesBetween, parseTime, showTime };
  for (const k of Object.keys(api)) G[k] = api[k];
})();
