// Words the schema generators draw from: people, countable things, containers, verbs, rates.
// Broad on purpose: the point of schema problems is that a policy sees one situation in many words.

export interface Person {
  name: string;
  /** he / she / they as subject, his / her / their as possessive. */
  sub: string;
  pos: string;
}

const SHE = ['Mary', 'Sara', 'Lisa', 'Emma', 'Olivia', 'Ava', 'Mia', 'Zoe', 'Priya', 'Aisha', 'Mei', 'Lucia', 'Nora', 'Hana', 'Fatima', 'Grace', 'Ines', 'Chloe', 'Ruth', 'Yuki', 'Amara', 'Elena', 'Sofia', 'Leila'];
const HE = ['Tom', 'James', 'Omar', 'Liam', 'Noah', 'Ethan', 'Raj', 'Kenji', 'Diego', 'Samuel', 'Luca', 'Ben', 'Marco', 'Hugo', 'Ivan', 'Kwame', 'Arjun', 'Felix', 'Leo', 'Tariq', 'Mateo', 'Oscar', 'Jonas', 'Victor'];

export const PEOPLE: readonly Person[] = [
  ...SHE.map((name) => ({ name, sub: 'she', pos: 'her' })),
  ...HE.map((name) => ({ name, sub: 'he', pos: 'his' })),
];

/** A countable thing: singular and plural, the category it belongs to, and what it can be kept in. */
export interface Thing {
  s: string;
  p: string;
  kind: 'food' | 'toy' | 'school' | 'nature' | 'craft' | 'collect';
}

const T = (s: string, p: string, kind: Thing['kind']): Thing => ({ s, p, kind });

export const THINGS: readonly Thing[] = [
  T('apple', 'apples', 'food'), T('orange', 'oranges', 'food'), T('cookie', 'cookies', 'food'), T('cupcake', 'cupcakes', 'food'),
  T('muffin', 'muffins', 'food'), T('banana', 'bananas', 'food'), T('pear', 'pears', 'food'), T('egg', 'eggs', 'food'),
  T('strawberry', 'strawberries', 'food'), T('peach', 'peaches', 'food'), T('sandwich', 'sandwiches', 'food'), T('lemon', 'lemons', 'food'),
  T('marble', 'marbles', 'toy'), T('toy car', 'toy cars', 'toy'), T('balloon', 'balloons', 'toy'), T('puzzle', 'puzzles', 'toy'),
  T('yo-yo', 'yo-yos', 'toy'), T('kite', 'kites', 'toy'), T('block', 'blocks', 'toy'),
  T('pencil', 'pencils', 'school'), T('crayon', 'crayons', 'school'), T('notebook', 'notebooks', 'school'), T('eraser', 'erasers', 'school'),
  T('book', 'books', 'school'), T('marker', 'markers', 'school'), T('ruler', 'rulers', 'school'),
  T('seashell', 'seashells', 'nature'), T('flower', 'flowers', 'nature'), T('rock', 'rocks', 'nature'), T('leaf', 'leaves', 'nature'),
  T('acorn', 'acorns', 'nature'), T('pine cone', 'pine cones', 'nature'), T('feather', 'feathers', 'nature'),
  T('bead', 'beads', 'craft'), T('button', 'buttons', 'craft'), T('ribbon', 'ribbons', 'craft'), T('candle', 'candles', 'craft'),
  T('sticker', 'stickers', 'collect'), T('stamp', 'stamps', 'collect'), T('baseball card', 'baseball cards', 'collect'),
  T('coin', 'coins', 'collect'), T('comic book', 'comic books', 'collect'), T('postcard', 'postcards', 'collect'),
];

/** Containers that hold equal groups. */
export const CONTAINERS: readonly { s: string; p: string }[] = [
  { s: 'box', p: 'boxes' }, { s: 'bag', p: 'bags' }, { s: 'pack', p: 'packs' }, { s: 'basket', p: 'baskets' },
  { s: 'jar', p: 'jars' }, { s: 'crate', p: 'crates' }, { s: 'tray', p: 'trays' }, { s: 'carton', p: 'cartons' },
  { s: 'shelf', p: 'shelves' }, { s: 'row', p: 'rows' }, { s: 'pile', p: 'piles' }, { s: 'bundle', p: 'bundles' },
];

/** Gain and loss verbs in the simple past; `from` takes an object person ("gets 4 from Tom"). */
export const GAIN_VERBS: readonly string[] = ['bought', 'found', 'picked up', 'collected', 'got', 'received', 'was given', 'won', 'made'];
export interface Verb {
  past: string;
  base: string;
}
const V = (past: string, base: string): Verb => ({ past, base });
export const LOSS_VERBS: readonly Verb[] = [
  V('gave away', 'give away'), V('lost', 'lose'), V('sold', 'sell'), V('used', 'use'), V('donated', 'donate'),
  V('threw away', 'throw away'), V('traded away', 'trade away'),
];
/** Loss verbs for food. */
export const FOOD_LOSS_VERBS: readonly Verb[] = [V('ate', 'eat'), V('gave away', 'give away'), V('sold', 'sell'), V('shared', 'share'), V('threw away', 'throw away')];
/** Verbs of putting together, for "How many did they … altogether?". */
export const GATHER_VERBS: readonly Verb[] = [V('picked', 'pick'), V('collected', 'collect'), V('brought', 'bring'), V('found', 'find'), V('bought', 'buy')];

/** Speed and travel: a mover, its verb, and a distance and time unit. */
export const MOVERS: readonly { who: string; verb: string; past: string }[] = [
  { who: 'A car', verb: 'drives', past: 'drove' }, { who: 'A train', verb: 'travels', past: 'traveled' },
  { who: 'A cyclist', verb: 'rides', past: 'rode' }, { who: 'A boat', verb: 'sails', past: 'sailed' },
  { who: 'A bus', verb: 'travels', past: 'traveled' }, { who: 'A runner', verb: 'runs', past: 'ran' },
  { who: 'A plane', verb: 'flies', past: 'flew' }, { who: 'A truck', verb: 'drives', past: 'drove' },
];
export const DISTANCE_UNITS: readonly { s: string; p: string; per: string }[] = [
  { s: 'mile', p: 'miles', per: 'miles per hour' },
  { s: 'kilometer', p: 'kilometers', per: 'kilometers per hour' },
];

/** Work done at a rate: a doer, what it makes, a time unit. */
export const WORK: readonly { who: string; verb: string; base: string; thing: string; unit: string; units: string }[] = [
  { who: 'A machine', verb: 'makes', base: 'make', thing: 'bottles', unit: 'minute', units: 'minutes' },
  { who: 'A printer', verb: 'prints', base: 'print', thing: 'pages', unit: 'minute', units: 'minutes' },
  { who: 'A baker', verb: 'bakes', base: 'bake', thing: 'loaves of bread', unit: 'hour', units: 'hours' },
  { who: 'A factory', verb: 'produces', base: 'produce', thing: 'toys', unit: 'day', units: 'days' },
  { who: 'A student', verb: 'reads', base: 'read', thing: 'pages', unit: 'day', units: 'days' },
  { who: 'A farmer', verb: 'plants', base: 'plant', thing: 'trees', unit: 'day', units: 'days' },
  { who: 'A worker', verb: 'packs', base: 'pack', thing: 'boxes', unit: 'hour', units: 'hours' },
  { who: 'A pump', verb: 'fills', base: 'fill', thing: 'buckets', unit: 'minute', units: 'minutes' },
];

/** Things with a price, and the shop they are sold in. */
export const GOODS: readonly { s: string; p: string; shop: string }[] = [
  { s: 'notebook', p: 'notebooks', shop: 'stationery store' }, { s: 'sandwich', p: 'sandwiches', shop: 'cafe' },
  { s: 'ticket', p: 'tickets', shop: 'cinema' }, { s: 'shirt', p: 'shirts', shop: 'clothing store' },
  { s: 'book', p: 'books', shop: 'bookstore' }, { s: 'plant', p: 'plants', shop: 'garden center' },
  { s: 'toy robot', p: 'toy robots', shop: 'toy store' }, { s: 'pizza', p: 'pizzas', shop: 'pizzeria' },
  { s: 'cup of coffee', p: 'cups of coffee', shop: 'coffee shop' }, { s: 'pen', p: 'pens', shop: 'stationery store' },
  { s: 'basket of berries', p: 'baskets of berries', shop: 'farmers market' }, { s: 'pair of socks', p: 'pairs of socks', shop: 'market' },
];

/** Two-way splits for part-whole problems: a whole and the names of its parts. */
export const WHOLES: readonly { whole: string; parts: [string, string, string]; place: string }[] = [
  { whole: 'students', parts: ['boys', 'girls', 'teachers'], place: 'in a class' },
  { whole: 'animals', parts: ['cows', 'sheep', 'goats'], place: 'on a farm' },
  { whole: 'trees', parts: ['oak trees', 'maple trees', 'pine trees'], place: 'in a park' },
  { whole: 'cars', parts: ['red cars', 'blue cars', 'white cars'], place: 'in a parking lot' },
  { whole: 'fish', parts: ['goldfish', 'guppies', 'angelfish'], place: 'in a tank' },
  { whole: 'books', parts: ['novels', 'comic books', 'cookbooks'], place: 'on a shelf' },
  { whole: 'balls', parts: ['soccer balls', 'basketballs', 'tennis balls'], place: 'in the gym' },
  { whole: 'flowers', parts: ['roses', 'tulips', 'daisies'], place: 'in a garden' },
  { whole: 'pets', parts: ['dogs', 'cats', 'rabbits'], place: 'at the shelter' },
  { whole: 'marbles', parts: ['red marbles', 'green marbles', 'yellow marbles'], place: 'in a jar' },
];

/** Irrelevant one-number facts: who or what, and the sentence given its number. */
export const ASIDES: readonly ((n: string, who: Person) => string)[] = [
  (n, w) => `${w.name} is ${n} years old.`,
  (n, w) => `${w.name} lives ${n} miles from the city.`,
  (n) => `The store is open ${n} hours a day.`,
  (n, w) => `${w.name}'s sister takes ${n} minutes to walk to school.`,
  (n) => `The park has ${n} benches.`,
  (n, w) => `${w.name} has ${n} cousins.`,
  (n) => `It rained on ${n} days last month.`,
  (n, w) => `${w.name}'s school has ${n} classrooms.`,
  (n) => `There are ${n} houses on the street.`,
  (n, w) => `${w.name} practiced the piano for ${n} minutes yesterday.`,
];
