import fc from "fast-check";

/**
 * fast-check arbitraries for requests a hostile client sends the mixer: every route of
 * mixer-worker/src/index.ts, with values chosen to break parsers (huge, negative and NaN-ish numbers, years
 * past Date's range, unicode, control characters, very long text, bad percent escapes, `..`, forged cursors),
 * repeated and unknown parameters, wrong methods, bad bodies and bad tokens.
 */

/** How a request authenticates. */
export type Auth = "valid" | "missing" | "wrong" | "malformed";

export interface HostileRequest {
  /** The route it aims at, for coverage counts. */
  endpoint: string;
  method: string;
  /** Path and query, already percent-encoded (or deliberately mis-encoded). */
  url: string;
  auth: Auth;
  body?: string;
  contentType?: string;
}

/**
 * The `Request` a hostile request makes, with `headers` (its authorization) and its content type; a body
 * only where the method may carry one.
 *
 * @example await worker.fetch(toRequest(request, { authorization: "Bearer …" }), env, createExecutionContext());
 */
export function toRequest(request: HostileRequest, headers: Record<string, string>): Request {
  const all = { ...headers, ...(request.contentType ? { "content-type": request.contentType } : {}) };
  const hasBody = request.body !== undefined && !["GET", "HEAD"].includes(request.method);
  return new Request(`http://mixer${request.url}`, {
    method: request.method,
    headers: all,
    ...(hasBody ? { body: request.body } : {}),
  });
}

/** Values the arbitraries mix with hostile ones, so some requests get past the first checks. */
export interface KnownValues {
  rackIds: string[];
  /** Real `next` values of logs and traces pages, to replay altered or with other filters. */
  cursors: string[];
  fileKeys: string[];
  /** Flux ids of stored messages. */
  fluxIds: string[];
  /** A window (RFC 3339) that holds the seeded records. */
  window: { since: string; until: string };
}

/** Lone surrogates become U+FFFD, as a URL would carry them. */
const wellFormed = (text: string) =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
const encode = (text: string) => encodeURIComponent(wellFormed(text));
const base64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

/** Escapes a URL may carry that decode to nothing sensible. */
const RAW_ESCAPES = [
  "%zz",
  "%00",
  "%ED%A0%80",
  "%",
  "%%41",
  "%C0%AF",
  "%FF",
  "%E2%82",
  "%0A",
  "%2F",
  "%2e%2e",
];

const numberish = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.constantFrom("1e400", "-1e400", "1e-400", "0x10", "1_000", "+5", "-0", "00001", "9".repeat(400), "NaN"),
);

/** Text meant to break whatever reads it. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 20 }), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 8 }), weight: 2 },
  { arbitrary: fc.string({ minLength: 1_000, maxLength: 3_000 }), weight: 1 },
  { arbitrary: numberish, weight: 2 },
  {
    arbitrary: fc.constantFrom(
      "",
      " ",
      "..",
      "../",
      "\u0000",
      "NaN",
      "Infinity",
      "-Infinity",
      "null",
      "undefined",
      "[]",
      "{}",
      "' OR 1=1 --",
      "x'); DROP TABLE racks; --",
      "%",
      "_",
      "\\",
      "\u202e",
      "\ufeff",
      "😀",
    ),
    weight: 2,
  },
);

const pad = (n: number, width: number) => String(Math.abs(n)).padStart(width, "0");

/** since/until values: durations of any size and unit, dates of any year, offsets, and garbage. */
const timeValue = (window: KnownValues["window"]): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(
        fc.oneof(fc.nat().map(String), numberish),
        fc.constantFrom("ms", "s", "m", "h", "d", "y", "", "h30m", "d1ms"),
      )
      .map(([n, unit]) => `${n}${unit}`),
    fc
      .tuple(
        fc.integer({ min: -300_000, max: 300_000 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.constantFrom("Z", "+00:00", "-23:59", "+23:59", "+14:00", ".999999999Z", ""),
      )
      .map(
        ([y, mo, d, h, zone]) =>
          `${y < 0 ? "-" : y > 9999 ? "+" : ""}${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:00:00${zone}`,
      ),
    fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      window.since,
      window.until,
      "1970-01-01T00:00:00Z",
      "1969-12-31T23:59:59Z",
      "9999-12-31T23:59:59Z",
      "9999-12-31T23:59:59-23:59",
      "0000-01-01T00:00:00+14:00",
      "+275760-09-13T00:00:00Z",
      "99999999d",
      "3650d",
      "3651d",
      "1h",
      "7d",
    ),
    hostileText,
  );

/** Cursors: random base64, JSON of any shape, the old unsigned layout with absurd fields, altered real ones. */
const cursorValue = (known: KnownValues): fc.Arbitrary<string> => {
  const absurd = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(8.64e15 + 1, -1, 1e308), fc.string());
  const real = known.cursors.length ? fc.constantFrom(...known.cursors) : fc.constant("e30");
  return fc.oneof(
    fc.base64String({ maxLength: 200 }),
    fc.jsonValue().map((value) => base64Url(JSON.stringify(value))),
    fc
      .record({ s: absurd, u: absurd, t: absurd, i: fc.oneof(fc.uuid(), fc.string()), v: absurd })
      .map((fields) => base64Url(JSON.stringify(fields))),
    real,
    fc.tuple(real, fc.nat(), fc.constantFrom(..."ABCxyz019-_.")).map(([token, at, char]) => {
      const i = at % token.length;
      return token.slice(0, i) + char + token.slice(i + 1);
    }),
    fc.tuple(real, fc.string({ maxLength: 5 })).map(([token, tail]) => token + tail),
    fc.string({ minLength: 600, maxLength: 5_000 }),
    hostileText,
  );
};

/** A query string: known names with good or hostile values, unknown names, repeats, raw escapes. */
function queryString(
  names: string[],
  value: (name: string) => fc.Arbitrary<string>,
  maxParams = 4,
): fc.Arbitrary<string> {
  const param = fc.oneof(
    {
      arbitrary: fc
        .constantFrom(...names)
        .chain((name) => value(name).map((v) => `${encode(name)}=${encode(v)}`)),
      weight: 6,
    },
    { arbitrary: fc.tuple(hostileText, hostileText).map(([n, v]) => `${encode(n)}=${encode(v)}`), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...names), fc.constantFrom(...RAW_ESCAPES))
        .map(([n, raw]) => `${n}=${raw}`),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(...names, "", "=", "&&"), weight: 1 },
  );
  return fc
    .array(param, { maxLength: maxParams })
    .map((params) => (params.length ? `?${params.join("&")}` : ""));
}

/** One path segment: hostile text percent-encoded, or a raw escape, `..` and friends. */
const pathSegment = fc.oneof(
  { arbitrary: hostileText.map(encode), weight: 4 },
  { arbitrary: fc.constantFrom(...RAW_ESCAPES, "..", ".", "", "a%2Fb", "%2e%2e%2f"), weight: 1 },
);

const tokens: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant<Auth>("valid"), weight: 12 },
  { arbitrary: fc.constantFrom<Auth>("missing", "wrong", "malformed"), weight: 1 },
);

const methodOr = (usual: string) =>
  fc.oneof(
    { arbitrary: fc.constant(usual), weight: 10 },
    { arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"), weight: 1 },
  );

const HUGE_VALUE = "v".repeat(70_000);

/** Scenario files: broken YAML, YAML of the wrong shape, over-long, and bytes that are not text. */
const scenarioBody = fc.oneof(
  hostileText,
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.constantFrom(
    "",
    "meta: [",
    "meta: {name: x}\nracks: 7",
    "meta: {name: '../../etc', version: 1}\nracks: {}\ngears: []\nwires: []",
    "a: &a [*a]",
    `${"- ".repeat(5_000)}x`,
    `# ${"x".repeat(300_000)}`,
  ),
);
const tokenName = fc.oneof(fc.constantFrom("grafana", "ci", "a.b-c_d"), pathSegment);
/** `POST /api/v1/tokens` bodies: near misses of `{name, scope, expires_in}` and junk. */
const tokenBody = fc.oneof(
  fc
    .record(
      {
        name: fc.oneof(tokenName, fc.jsonValue()),
        scope: fc.oneof(fc.constantFrom("read", "operate", "admin", "root", "READ"), fc.jsonValue()),
        expires_in: fc.oneof(fc.constantFrom("90d", "1s", "0s", "3651d", "-1d", "1e400d"), hostileText),
      },
      { requiredKeys: [] },
    )
    .map((body) => JSON.stringify(body)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  hostileText,
);
const HUGE_BODY = `{"value":"${"\\u0041".repeat(200_000)}"}`;

const secretBody = fc.oneof(
  fc.string({ minLength: 1, maxLength: 64 }).map((value) => JSON.stringify({ value })),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.record({ value: fc.jsonValue() }).map((body) => JSON.stringify(body)),
  hostileText,
  fc.constantFrom("", "null", "{", '{"value":', JSON.stringify({ value: HUGE_VALUE }), HUGE_BODY),
);

/**
 * One request to one of the mixer's routes, mostly aimed well enough to reach the checks behind the first
 * ones (a real rack id, the seeded window, a real cursor), with hostile parts mixed in.
 *
 * @example fc.assert(fc.asyncProperty(hostileRequest(known), async (request) => { … }), { numRuns: 1_200 });
 */
export function hostileRequest(known: KnownValues): fc.Arbitrary<HostileRequest> {
  const time = timeValue(known.window);
  const cursor = cursorValue(known);
  const uuidLike = fc.oneof(fc.uuid(), hostileText);
  const limit = fc.oneof(fc.integer({ min: -5, max: 1_100 }).map(String), numberish, hostileText);
  const byName: Record<string, fc.Arbitrary<string>> = {
    since: time,
    until: time,
    cursor,
    limit,
    offset: limit,
    level: fc.oneof(fc.constantFrom("debug", "info", "warn", "error", "ERROR"), hostileText),
    status: fc.oneof(fc.constantFrom("ok", "error", "unset", "pending", "active", "revoked"), hostileText),
    rack_id: uuidLike,
    flux_id: uuidLike,
    entity: fc.oneof(fc.constantFrom("fx-rack-a", "fx-rack-b"), hostileText),
    q: fc.oneof(fc.constantFrom("declined", "PAYMENT", "%", "_", "' OR 1=1 --"), hostileText),
    gear_id: fc.oneof(fc.constantFrom("router", '"router"'), hostileText),
    min_duration_ms: fc.oneof(fc.double({ min: -1, max: 1e12 }).map(String), numberish),
    interval: fc.oneof(fc.constantFrom("1m", "5m", "1h", "1d"), hostileText),
    group_by: fc.oneof(fc.constantFrom("entity_name", "entity_id", "gear"), hostileText),
    prefix: fc.oneof(fc.constantFrom("telemetry/", "messages/", "telemetry/logs/", "registry/"), hostileText),
    sources: fc.oneof(fc.constantFrom("true", "false"), hostileText),
    spec: fc.oneof(fc.constantFrom("visa-v1", "generic", "../visa-v1", "visa.v1"), hostileText),
    msg_type: fc.oneof(fc.constantFrom("0100", "0110"), hostileText),
    direction: fc.oneof(fc.constantFrom("inbound", "outbound", "internal", "up"), hostileText),
    include_raw: fc.oneof(fc.constantFrom("true", "false", "1"), hostileText),
    "promoted.pan": fc.oneof(fc.constantFrom("411111******1111", "%", ".*"), hostileText),
    "promoted.amount": fc.oneof(fc.constantFrom("1250", "1250.0", "null", "true"), numberish, hostileText),
  };
  const valueFor = (name: string) => byName[name] ?? hostileText;
  const query = (names: string[]) => queryString(names, valueFor);
  const rackId = fc.oneof(
    { arbitrary: fc.constantFrom(...known.rackIds), weight: 3 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: pathSegment, weight: 2 },
  );
  const secretName = fc.oneof(
    fc.constantFrom("db_password", "api.key", "bootstrap_token"),
    fc.stringMatching(/^[A-Za-z0-9_.-]{1,140}$/),
    pathSegment,
  );
  const fileKey = fc.oneof(
    fc.constantFrom(...known.fileKeys, "registry/secret.txt", "telemetry/%2e%2e/registry/secret.txt"),
    fc.array(pathSegment, { minLength: 1, maxLength: 4 }).map((parts) => `telemetry/${parts.join("/")}`),
    fc.integer({ min: 1_000, max: 2_100 }).map((n) => `telemetry/logs/${"k".repeat(n)}`),
    fc.integer({ min: 300, max: 700 }).map((n) => `telemetry/${"%C3%A9".repeat(n)}`),
    pathSegment,
  );
  const traceId = fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), pathSegment);
  const fluxId = fc.oneof(
    // constantFrom needs at least one value: a suite with no stored flux ids draws only the others.
    ...(known.fluxIds.length > 0 ? [{ arbitrary: fc.constantFrom(...known.fluxIds), weight: 2 }] : []),
    { arbitrary: fc.uuid({ version: [4, 7] }), weight: 2 },
    { arbitrary: pathSegment, weight: 2 },
  );
  /** Promoted filters: valid fields, hostile field names, an empty one, and more than the bound allows. */
  const PROMOTED = [
    "promoted.pan",
    "promoted.amount",
    "promoted.",
    "promoted.a.b",
    "promoted.x",
    "promoted.y",
  ];
  const metricName = fc.oneof(fc.constantFrom("fx.ok", "fluxrig.rack.heartbeats_sent"), pathSegment);
  const LIST = ["since", "until", "limit", "offset", "cursor", "entity"];

  const request = (
    endpoint: string,
    method: fc.Arbitrary<string>,
    url: fc.Arbitrary<string>,
    body?: fc.Arbitrary<string>,
  ): fc.Arbitrary<HostileRequest> =>
    fc
      .record({
        method,
        url,
        auth: tokens,
        body: body ?? fc.constant(undefined),
        contentType: fc.constantFrom(
          "application/json",
          "text/plain",
          "",
          "application/json; charset=utf-16",
        ),
      })
      .map(({ body, ...rest }) => ({ endpoint, ...rest, ...(body === undefined ? {} : { body }) }));

  const T = "/api/v1/telemetry";
  const S = "/api/v1/scenarios";
  const scenarioName = fc.oneof(
    { arbitrary: fc.constantFrom("demo", "no-such-flow"), weight: 2 },
    { arbitrary: pathSegment, weight: 3 },
  );
  return fc.oneof(
    request(
      "health",
      methodOr("GET"),
      query(["verbose"]).map((q) => `/health${q}`),
    ),
    request(
      "cluster-key",
      methodOr("GET"),
      query(["x"]).map((q) => `/api/v1/cluster-key${q}`),
    ),
    request(
      "config",
      methodOr("GET"),
      query(["sources"]).map((q) => `/api/v1/config${q}`),
    ),
    request(
      "racks list",
      methodOr("GET"),
      query(["status"]).map((q) => `/api/v1/racks${q}`),
    ),
    request(
      "rack",
      methodOr("GET"),
      rackId.map((id) => `/api/v1/racks/${id}`),
    ),
    request(
      "rack action",
      methodOr("POST"),
      fc
        .tuple(rackId, fc.oneof(fc.constantFrom("approve", "suspend", "revoke"), pathSegment))
        .map(([id, action]) => `/api/v1/racks/${id}/${action}`),
    ),
    request(
      "rack secret",
      fc.oneof(methodOr("PUT"), fc.constant("DELETE")),
      fc.tuple(rackId, secretName).map(([id, name]) => `/api/v1/racks/${id}/secrets/${name}`),
      secretBody,
    ),
    request(
      "logs",
      methodOr("GET"),
      query([...LIST, "level", "rack_id", "gear_id", "flux_id", "q"]).map((q) => `${T}/logs${q}`),
    ),
    request(
      "traces",
      methodOr("GET"),
      query([...LIST, "flux_id", "min_duration_ms", "status"]).map((q) => `${T}/traces${q}`),
    ),
    request(
      "trace",
      methodOr("GET"),
      fc.tuple(traceId, query(["since", "until"])).map(([id, q]) => `${T}/traces/${id}${q}`),
    ),
    request(
      "metrics",
      methodOr("GET"),
      query(["since", "until", "interval", "group_by", "entity", "limit"]).map((q) => `${T}/metrics${q}`),
    ),
    request(
      "metric",
      methodOr("GET"),
      fc
        .tuple(metricName, query(["since", "until", "interval", "group_by", "entity", "limit"]))
        .map(([name, q]) => `${T}/metrics/${name}${q}`),
    ),
    request(
      "messages",
      methodOr("GET"),
      queryString(
        [
          ...LIST,
          "flux_id",
          "spec",
          "msg_type",
          "status",
          "direction",
          "gear_id",
          "include_raw",
          ...PROMOTED,
        ],
        valueFor,
        8,
      ).map((q) => `/api/v1/messages${q}`),
    ),
    request(
      "flux",
      methodOr("GET"),
      fc.tuple(fluxId, query(["since", "until", "include_raw"])).map(([id, q]) => `/api/v1/flux/${id}${q}`),
    ),
    request(
      "files list",
      methodOr("GET"),
      query(["prefix", "cursor"]).map((q) => `${T}/files${q}`),
    ),
    request(
      "file",
      methodOr("GET"),
      fileKey.map((key) => `${T}/files/${key}`),
    ),
    request(
      "scenarios",
      fc.oneof(methodOr("GET"), fc.constant("POST")),
      query(["version"]).map((q) => `${S}${q}`),
      scenarioBody,
    ),
    request(
      "scenario",
      methodOr("GET"),
      fc.tuple(scenarioName, query(["version"])).map(([name, q]) => `${S}/${name}${q}`),
    ),
    request(
      "tokens",
      fc.oneof(methodOr("GET"), fc.constant("POST")),
      query(["x"]).map((q) => `/api/v1/tokens${q}`),
      tokenBody,
    ),
    request(
      "token",
      fc.oneof(methodOr("DELETE"), fc.constant("POST")),
      fc
        .tuple(tokenName, fc.constantFrom("", "/revoke", "/x"))
        .map(([name, tail]) => `/api/v1/tokens/${name}${tail}`),
    ),
    request(
      "scenario action",
      methodOr("POST"),
      fc
        .tuple(scenarioName, fc.oneof(fc.constantFrom("activate", "status"), pathSegment), query(["version"]))
        .map(([name, action, q]) => `${S}/${name}/${action}${q}`),
    ),
  );
}
