import { encodeIso8583, type IsoElementLayout } from "../iso8583.ts";

/**
 * Sample card authorizations as `examples/specs/visa-v1.yaml` reads them: what the generator's
 * `preset: visa-v1-auth` emits. The layout is ISO 8583:1987's for the elements used (a unit test checks the
 * frames decode with the spec file). Card numbers are test numbers on well-known test BINs, Luhn-valid.
 */
const ISO8583_1987: ReadonlyMap<number, IsoElementLayout> = new Map([
  [2, { format: "llvar", length: 19 }],
  [3, { format: "fixed", length: 6 }],
  [4, { format: "fixed", length: 12 }],
  [7, { format: "fixed", length: 10 }],
  [11, { format: "fixed", length: 6 }],
  [12, { format: "fixed", length: 6 }],
  [14, { format: "fixed", length: 4 }],
  [39, { format: "fixed", length: 2 }],
  [41, { format: "fixed", length: 8 }],
  [42, { format: "fixed", length: 15 }],
  [43, { format: "fixed", length: 40 }],
  [49, { format: "fixed", length: 3 }],
]);

const TEST_BINS = ["411111", "400000", "424242", "476173", "401288"];
const ACCEPTORS = [
  {
    terminal: "TERM0001",
    merchant: "000000012345678",
    name: "CORNER BAKERY",
    city: "LYON",
    country: "FR",
    currency: "978",
  },
  {
    terminal: "POS00042",
    merchant: "000000087654321",
    name: "CITY FUEL 24H",
    city: "NEW YORK",
    country: "US",
    currency: "840",
  },
  {
    terminal: "KIOSK007",
    merchant: "000000055500123",
    name: "NORTHERN RAIL TICKETS",
    city: "LEEDS",
    country: "GB",
    currency: "826",
  },
  {
    terminal: "TERM0913",
    merchant: "000000031415926",
    name: "ALPINE SPORTS",
    city: "INNSBRUCK",
    country: "AT",
    currency: "978",
  },
] as const;
const PROCESSING_CODES = ["000000", "000000", "000000", "000000", "010000", "200000"];
const RESPONSE_CODES = ["00", "00", "00", "00", "00", "00", "00", "05", "51", "54"];

/** The Luhn check digit of a number's other digits. */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const pick = <T>(list: readonly T[], random: () => number): T =>
  list[Math.floor(random() * list.length)] as T;
const digits = (count: number, random: () => number) =>
  Array.from({ length: count }, () => Math.floor(random() * 10)).join("");
const two = (n: number) => String(n).padStart(2, "0");

/**
 * One authorization frame: an 0100 request, or with `response` the 0110 answer (with a response code).
 *
 * @example visaAuthFrame(1, seededRandom(1), new Date()) // Uint8Array: "0100" + bitmap + fields
 */
export function visaAuthFrame(
  seq: number,
  random: () => number,
  now: Date,
  response = false,
): Uint8Array<ArrayBuffer> {
  const body = `${pick(TEST_BINS, random)}${digits(9, random)}`;
  const acceptor = pick(ACCEPTORS, random);
  const expiry = new Date(
    Date.UTC(now.getUTCFullYear() + 1 + Math.floor(random() * 4), Math.floor(random() * 12)),
  );
  const text: [number, string][] = [
    [2, `${body}${luhnDigit(body)}`],
    [3, pick(PROCESSING_CODES, random)],
    [4, String(100 + Math.floor(random() * 250_000)).padStart(12, "0")],
    [
      7,
      `${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())}${two(now.getUTCHours())}${two(now.getUTCMinutes())}${two(now.getUTCSeconds())}`,
    ],
    [11, String(seq % 1_000_000).padStart(6, "0")],
    [12, `${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`],
    [14, `${two(expiry.getUTCFullYear() % 100)}${two(expiry.getUTCMonth() + 1)}`],
    [41, acceptor.terminal],
    [42, acceptor.merchant],
    [43, `${acceptor.name.padEnd(25)}${acceptor.city.padEnd(13)}${acceptor.country}`],
    [49, acceptor.currency],
  ];
  if (response) text.push([39, pick(RESPONSE_CODES, random)]);
  const ascii = new TextEncoder();
  return encodeIso8583(
    { bitmap: "binary", elements: ISO8583_1987 },
    { mti: response ? "0110" : "0100", fields: new Map(text.map(([n, value]) => [n, ascii.encode(value)])) },
  );
}
