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
  // convert(value, from, to): exact, printed as a decimal ('0.000000000006728036')
  function convert(value, from, to) {
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
  // timeAdd('4:45 AM', 53) -> '5:38 AM'; negative minutes go back
  function timeAdd(time, minutes) { return showTime(parseTime(time) + Number(minutes)); }
  // minutesBetween('9:16 PM', '4:14 AM') -> 418, going forward from the first time
  function minutesBetween(a, b) { return (((parseTime(b) - parseTime(a)) % 1440) + 1440) % 1440; }

  const api = { convert, timeAdd, minutesBetween, parseTime, showTime };
  for (const k of Object.keys(api)) G[k] = api[k];
})();
